"""The ``emergency_exit`` signal column: closes an open trade at the next open, like a flatten."""

from __future__ import annotations

import numpy as np
from tests.unit.backtest._scenario import frame, run, run_risk, settings


def _candles(n=12):
    return [(100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i) for i in range(n)]


def _with_emergency(df, rows):
    col = np.zeros(len(df))
    col[list(rows)] = 1
    df["emergency_exit"] = col
    return df


def test_emergency_column_closes_trade_at_that_rows_open():
    # prepared rows carry the previous candle's signals: entry on row 1, emergency on row 5
    df = _with_emergency(frame(_candles(), enter_long=[1]), [5])
    out = run({"A/USDT": df}, settings())
    trades = out.trades
    assert len(trades) == 1
    t = trades.iloc[0]
    assert t["exit_reason"] == "emergency_exit"
    assert t["open_rate"] == df["open"][1]
    assert t["close_rate"] == df["open"][5]
    assert t["close_date"] == df["date"][5]


def test_emergency_without_open_trade_changes_nothing_and_absent_column_is_freqtrade():
    base = frame(_candles(), enter_long=[1], exit_long=[8])
    ref = run({"A/USDT": base}, settings()).trades
    flagged = _with_emergency(frame(_candles(), enter_long=[1], exit_long=[8]), [0, 10])
    got = run({"A/USDT": flagged}, settings()).trades
    assert ref["exit_reason"].tolist() == ["exit_signal"]
    assert got[["open_date", "close_date", "close_rate", "exit_reason"]].equals(
        ref[["open_date", "close_date", "close_rate", "exit_reason"]])


def test_emergency_is_logged_by_the_risk_engine():
    df = _with_emergency(frame(_candles(), enter_long=[1]), [6])
    out, risk = run_risk({"A/USDT": df}, settings(), {"max_position_risk": 1.0,
                                                      "max_portfolio_exposure": 1.0,
                                                      "max_total_exposure": 1.0})
    assert out.trades["exit_reason"].tolist() == ["emergency_exit"]
    ev = risk.events
    flat = ev[(ev["kind"] == "flatten") & (ev["rule"] == "critical_event")]
    assert len(flat) == 1
    assert flat["pair"].iloc[0] == "A/USDT"
    assert flat["date"].iloc[0] == df["date"][6]
