import json

import pandas as pd
import pytest

from atb.backtest.export import export_trades_json, trades_to_records
from atb.backtest.html_report import write_html_report
from atb.backtest.metrics import compute_metrics
from atb.backtest.report import report_text
from atb.backtest.results import TRADE_COLUMNS, BacktestResult


@pytest.fixture(scope="module")
def ref(shared_dir):
    path = shared_dir / "parity/cases/rsi_bb_meanrev__bittrex_5m/trades.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def result(ref, shared_dir):
    df = pd.DataFrame(ref)
    df["open_date"] = pd.to_datetime(df["open_date"], utc=True)
    df["close_date"] = pd.to_datetime(df["close_date"], utc=True)
    df["leverage"], df["max_rate"], df["min_rate"] = 1.0, df["close_rate"], df["open_rate"]
    candles = {}
    for pair in ("ETH/BTC",):
        c = pd.read_feather(shared_dir / "data/bittrex/ETH_BTC-5m.feather")
        candles[pair] = c
    return BacktestResult(
        strategy="RsiBbMeanReversion", timeframe="5m", pairs=tuple(sorted(df["pair"].unique())),
        stake_currency="BTC", starting_balance=50.0, max_open_trades=3,
        backtest_start=pd.Timestamp("2018-01-10 07:25", tz="UTC").to_pydatetime(),
        backtest_end=pd.Timestamp("2018-01-30 04:50", tz="UTC").to_pydatetime(),
        trades=df[list(TRADE_COLUMNS)], config={}, config_hash="0" * 64, candles=candles,
    )


def test_export_reproduces_reference_file(tmp_path, result, ref):
    path = tmp_path / "t.json"
    export_trades_json(result, path)
    assert json.loads(path.read_text()) == ref
    assert list(trades_to_records(result.trades)[0]) == list(ref[0])


def test_report_text_has_freqtrade_sections_and_values(result):
    m = compute_metrics(result)
    text = report_text(result, m)
    for title in ("BACKTESTING REPORT", "ENTER TAG STATS", "EXIT REASON STATS", "SUMMARY METRICS"):
        assert title in text
    assert f"{m['profit_total_abs']:.3f} BTC" in text
    assert "117" in text and "Rejected Entry signals" in text
    assert m["total_trades"] == 117 and m["wins"] + m["draws"] + m["losses"] == 117


def test_html_report(tmp_path, result):
    path = tmp_path / "r.html"
    write_html_report(result, compute_metrics(result), path)
    page = path.read_text()
    assert page.count('"type":"candlestick"') == 1
    assert "Drawdown (underwater)" in page and "plotly" in page.lower()
    n_eth = int((result.trades["pair"] == "ETH/BTC").sum())
    assert f"{n_eth} trades" in page and page.count("\"name\":\"entry\"") == 1
