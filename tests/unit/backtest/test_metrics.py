"""compute_metrics / equity_curve / daily_summary on a freqtrade reference trade list."""

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from atb.backtest.export import load_trades_json
from atb.backtest.metrics import compute_metrics, daily_summary, equity_curve
from atb.backtest.results import BacktestResult
from atb.errors import DataError

CASE = "rsi_bb_meanrev__bittrex_5m"


def _result(trades, **kw):
    base = dict(strategy="RsiBbMeanReversion", timeframe="5m",
                pairs=("ETH/BTC", "LTC/BTC", "XLM/BTC", "ADA/BTC", "TRX/BTC"),
                stake_currency="BTC", starting_balance=50.0, max_open_trades=3,
                backtest_start=datetime(2018, 1, 10, 7, 25, tzinfo=UTC),
                backtest_end=datetime(2018, 1, 30, 4, 50, tzinfo=UTC), trades=trades, config={},
                config_hash="0" * 64, rejected_signals=7, market_change=-0.125)
    base.update(kw)
    return BacktestResult(**base)


@pytest.fixture(scope="module")
def result(shared_dir):
    return _result(load_trades_json(shared_dir / "parity/cases" / CASE / "trades.json"))


@pytest.fixture(scope="module")
def metrics(result):
    return compute_metrics(result)


def test_headline_values(result, metrics, shared_dir):
    summary = json.loads((shared_dir / "parity/cases" / CASE / "summary.json").read_text())
    p = result.trades["profit_abs"]
    assert metrics["total_trades"] == 117 == summary["total_trades"]
    assert metrics["profit_total_abs"] == pytest.approx(p.sum(), rel=1e-12)
    assert metrics["final_balance"] == pytest.approx(50.0 + p.sum(), rel=1e-12)
    assert metrics["backtest_days"] == 19 and metrics["trades_per_day"] == round(117 / 19, 2)
    assert metrics["winrate"] == pytest.approx(metrics["wins"] / 117)
    assert metrics["sharpe"] == pytest.approx(summary["sharpe"], rel=1e-9)
    assert metrics["cagr"] == pytest.approx((1 + p.sum() / 50) ** (365 / 19) - 1, rel=1e-9)
    assert metrics["rejected_signals"] == 7 and metrics["market_change"] == -0.125
    assert metrics["backtest_start"] == "2018-01-10T07:25:00+00:00"
    assert metrics["avg_stake_amount"] == pytest.approx(result.trades["stake_amount"].mean())


def test_best_worst_and_tables(result, metrics):
    t = result.trades
    per_pair = t.groupby("pair")["profit_abs"].sum()
    assert metrics["best_pair"] == per_pair.idxmax() and metrics["worst_pair"] == per_pair.idxmin()
    assert metrics["best_trade"]["profit_ratio"] == pytest.approx(t["profit_ratio"].max())
    assert metrics["worst_trade"]["pair"] == t.loc[t["profit_ratio"].idxmin(), "pair"]
    tags = {r["key"]: r["trades"] for r in metrics["results_per_enter_tag"]}
    assert tags["TOTAL"] == 117 and sum(v for k, v in tags.items() if k != "TOTAL") == 117
    assert metrics["winning_days"] + metrics["draw_days"] + metrics["losing_days"] >= 1


def test_drawdown_block(result, metrics):
    eq = equity_curve(result)
    assert len(eq) == 118 and eq["balance"].iloc[0] == 50.0
    assert eq["balance"].iloc[-1] == pytest.approx(metrics["final_balance"], rel=1e-12)
    assert eq["drawdown_relative"].max() == pytest.approx(metrics["max_relative_drawdown"])
    assert -eq["drawdown"].min() == pytest.approx(metrics["max_drawdown_abs"])
    start, end = pd.Timestamp(metrics["drawdown_start"]), pd.Timestamp(metrics["drawdown_end"])
    assert start <= end and metrics["drawdown_duration"] == str((end - start).to_pytimedelta())
    assert metrics["max_drawdown_high"] - metrics["max_drawdown_low"] == pytest.approx(
        metrics["max_drawdown_abs"])


def test_daily_summary(result):
    daily = daily_summary(result)
    assert daily["trades"].sum() == 117
    assert daily["profit_abs"].sum() == pytest.approx(result.trades["profit_abs"].sum(), rel=1e-12)
    assert daily.index[0] == pd.Timestamp("2018-01-10", tz="UTC") and len(daily) == 21


def test_json_serialisable(metrics):
    assert json.loads(json.dumps(metrics, allow_nan=False)) == metrics


def test_no_trades(result):
    empty = _result(result.trades.iloc[:0])
    m = compute_metrics(empty)
    assert (m["total_trades"], m["profit_total"], m["max_drawdown_account"]) == (0, 0.0, 0.0)
    assert m["sharpe"] == 0.0 and m["best_trade"] is None
    assert [r["trades"] for r in m["results_per_pair"]] == [0] * 6
    assert len(equity_curve(empty)) == 1


def test_bad_input(result):
    with pytest.raises(DataError, match="starting_balance"):
        compute_metrics(_result(result.trades, starting_balance=0.0))
    with pytest.raises(DataError, match="profit_abs"):
        compute_metrics(_result(result.trades.drop(columns="profit_abs")))
    nan_tag = result.trades.assign(enter_tag=np.where(np.arange(117) % 2, None, "x"))
    tags = {r["key"] for r in compute_metrics(_result(nan_tag))["results_per_enter_tag"]}
    assert tags == {"x", "OTHER", "TOTAL"}
