"""Trade export reproduces freqtrade's trades.json for every reference case."""

import json

import numpy as np
import pandas as pd
import pytest

from atb.backtest.export import (
    EXPORT_FIELDS,
    export_trades_json,
    load_trades_json,
    trades_from_records,
    trades_to_records,
)
from atb.backtest.results import TRADE_COLUMNS, BacktestResult
from atb.errors import DataError


def _result(trades):
    return BacktestResult(
        strategy="S", timeframe="5m", pairs=("A/B",), stake_currency="BTC", starting_balance=1.0,
        max_open_trades=1, backtest_start=pd.Timestamp("2018-01-01", tz="UTC").to_pydatetime(),
        backtest_end=pd.Timestamp("2018-02-01", tz="UTC").to_pydatetime(), trades=trades,
        config={}, config_hash="",
    )


def test_round_trip_every_case(shared_dir, tmp_path):
    cases = sorted((shared_dir / "parity/cases").iterdir())
    assert len(cases) >= 9
    for case in cases:
        src = case / "trades.json"
        trades = load_trades_json(src)
        assert list(trades.columns) == list(TRADE_COLUMNS)
        assert str(trades["open_date"].dtype) == "datetime64[ns, UTC]"
        out = tmp_path / case.name / "trades.json"
        export_trades_json(_result(trades), out)
        ours, ref = json.loads(out.read_text()), json.loads(src.read_text())
        assert ours == ref, case.name
        # same field order and the same JSON types, record by record
        assert all(list(a) == list(b) for a, b in zip(ours, ref, strict=True))
        assert all(type(a[k]) is type(b[k]) for a, b in zip(ours, ref, strict=True) for k in a)
        assert out.read_text() == src.read_text(), case.name  # byte for byte


def test_record_types_and_formats():
    trades = pd.DataFrame({
        "pair": ["ETH/BTC"], "open_date": [pd.Timestamp("2024-01-10 16:00", tz="UTC")],
        "close_date": [pd.Timestamp("2024-01-10 17:05")],  # naive: taken as UTC
        "open_rate": [np.float64(1.5)], "close_rate": [2], "amount": [np.float32(0.5)],
        "profit_ratio": [0.1], "profit_abs": [0.2], "exit_reason": ["roi"], "enter_tag": [None],
        "is_short": [np.bool_(False)], "stake_amount": [0.75], "fee_open": [0.001],
        "fee_close": [0.001], "trade_duration": [np.int64(65)],
    })
    (rec,) = trades_to_records(trades)
    assert tuple(rec) == EXPORT_FIELDS
    assert rec["open_date"] == "2024-01-10T16:00:00+00:00"
    assert rec["close_date"] == "2024-01-10T17:05:00+00:00"
    assert rec["enter_tag"] == "" and rec["is_short"] is False and rec["trade_duration"] == 65
    assert type(rec["close_rate"]) is float and type(rec["trade_duration"]) is int
    back = trades_from_records([rec])
    assert back["leverage"].tolist() == [1.0] and np.isnan(back["max_rate"].iloc[0])


def test_errors(tmp_path):
    with pytest.raises(DataError, match="missing fields"):
        trades_from_records([{"pair": "A/B"}])
    with pytest.raises(DataError, match="lack columns"):
        trades_to_records(pd.DataFrame({"pair": []}))
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(DataError, match="JSON list"):
        load_trades_json(bad)
    with pytest.raises(DataError, match="cannot read"):
        load_trades_json(tmp_path / "missing.json")
    assert trades_from_records([]).empty
