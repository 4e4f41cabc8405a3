"""The risk engine inside the simulation kernel, on hand-made candles (synthetic prices)."""

import numpy as np
import pandas as pd
import pytest

from ._scenario import T0, frame, run, run_risk, settings

H = pd.Timedelta("1h")
OFF = {"rules": []}  # a risk section with every rule switched off


def flat(n, price=100.0):
    return [[price, price, price, price]] * n


def test_no_rule_on_means_the_same_trades_as_without_risk():
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 300)))
    ohlc = [[c, c * 1.01, c * 0.99, c] for c in close]
    f = frame(ohlc, enter_long=range(0, 290, 7), exit_long=range(3, 295, 7))
    g = frame(ohlc[::-1], enter_long=range(1, 290, 5), exit_long=range(4, 295, 5))
    st = settings(minimal_roi=((0, 0.02),), stoploss=-0.03, fee=0.001)
    base = run({"A/USDT": f, "B/USDT": g}, st).trades
    with_risk, outcome = run_risk({"A/USDT": f, "B/USDT": g}, st, OFF)
    pd.testing.assert_frame_equal(base, with_risk.trades)
    assert outcome.events.empty
    assert (outcome.state == "ACTIVE").all()


def test_asset_exposure_reduces_the_stake_to_the_limit():
    f = frame(flat(5), enter_long=[0])
    out, rk = run_risk({"A/USDT": f}, settings(stake_amount=500.0), {"rules": ["asset_exposure"]})
    t = out.trades.iloc[0]
    assert t.stake_amount == pytest.approx(200.0)  # 20 % of 1000 equity
    ev = rk.events.iloc[0]
    assert (ev.kind, ev.rule, ev.requested, ev.approved) == ("reduced", "asset_exposure", 500.0, 200.0)


def test_position_risk_sizes_from_the_stop_distance():
    f = frame(flat(5), enter_long=[0])
    out, _ = run_risk({"A/USDT": f}, settings(stake_amount=500.0, stoploss=-0.05),
                      {"rules": ["position_risk"], "max_position_risk": 0.01})
    assert out.trades.iloc[0].stake_amount == pytest.approx(200.0)  # 1000 * 1 % / 5 %


def test_max_open_positions_and_sector_exposure():
    fs = {p: frame(flat(6), enter_long=[0]) for p in ("A/USDT", "B/USDT", "C/USDT")}
    out, rk = run_risk(fs, settings(), {"rules": ["max_open_positions"], "max_open_positions": 2})
    assert sorted(out.trades.pair) == ["A/USDT", "B/USDT"]
    d = rk.events[rk.events.kind == "denied"]
    assert list(d.pair) == ["C/USDT"] and list(d.rule) == ["max_open_positions"]
    sect = {"rules": ["sector_exposure"], "max_sector_exposure": 0.15,
            "sectors": {"x": ["A/USDT", "B/USDT"]}}
    out, rk = run_risk(fs, settings(), sect)
    stakes = out.trades.set_index("pair").stake_amount
    # A takes 100 (< 150); B gets the remaining 50 of the sector; C is unmapped
    assert stakes["A/USDT"] == pytest.approx(100.0) and stakes["B/USDT"] == pytest.approx(50.0)
    assert stakes["C/USDT"] == pytest.approx(100.0)


def test_volatility_filter_denies_entries_on_wide_candles():
    calm = [[100, 100.5, 99.5, 100]] * 20
    wild = [[100, 110, 90, 100]] * 20
    f = frame(calm + wild, enter_long=[18, 38])
    risk = {"rules": ["volatility"], "volatility_threshold": 0.05, "atr_period": 3}
    out, rk = run_risk({"A/USDT": f}, settings(minimal_roi=((0, 0.001),)), risk)
    assert len(out.trades) == 1 and out.trades.iloc[0].open_date == T0 + 19 * H
    d = rk.events[rk.events.kind == "denied"]
    assert list(d.rule) == ["volatility"] and d.iloc[0].date == T0 + 39 * H


def test_correlation_limit_denies_a_second_correlated_position():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 0.01, 60)
    a = np.round(100 * np.exp(np.cumsum(r)), 2)  # prices on the 0.01 tick
    b = np.round(50 * np.exp(np.cumsum(r + rng.normal(0, 0.001, 60))), 2)  # nearly the same returns
    c = np.round(80 * np.exp(np.cumsum(rng.normal(0, 0.01, 60))), 2)  # independent
    fa = frame([[x, x, x, x] for x in a], enter_long=[40])
    fb = frame([[x, x, x, x] for x in b], enter_long=[41])
    fc = frame([[x, x, x, x] for x in c], enter_long=[41])
    risk = {"rules": ["correlation"], "max_correlation": 0.9, "correlation_window": 30}
    out, rk = run_risk({"A/USDT": fa, "B/USDT": fb, "C/USDT": fc}, settings(), risk)
    assert sorted(out.trades.pair) == ["A/USDT", "C/USDT"]
    d = rk.events[rk.events.kind == "denied"]
    assert list(d.pair) == ["B/USDT"] and list(d.rule) == ["correlation"]


def test_max_drawdown_halts_flattens_and_holds_the_limit():
    # price falls 1 % per candle; a 10 % equity drawdown limit on a fully invested account
    prices = [100 * 0.99 ** i for i in range(40)]
    f = frame([[p, p, p * 0.999, p * 0.995] for p in prices], enter_long=[0, 20, 30])
    st = settings(stake_amount=1000.0, stoploss=-0.9)
    out, rk = run_risk({"A/USDT": f}, st, {"rules": ["max_drawdown"], "max_drawdown": 0.10})
    t = out.trades.iloc[0]
    assert t.exit_reason == "emergency_exit" and len(out.trades) == 1
    states = rk.events[rk.events.kind == "state"]
    assert list(states.rule) == ["max_drawdown"] and list(states.state) == ["HALTED"]
    # the breach is seen at a close; the exit comes at the next open: at most one candle more
    assert 0.10 <= rk.max_drawdown() < 0.10 + 0.011
    halt_at = states.iloc[0].date
    assert t.close_date == halt_at  # the next candle opens at the breaching candle's close
    assert (rk.state[rk.state.index >= halt_at] == "HALTED").all()
    denied = rk.events[rk.events.kind == "denied"]
    assert set(denied.rule) == {"trading_halted"} and len(denied) == 2  # the signals at 20, 30


def test_daily_loss_limit_reduces_until_the_next_utc_day():
    # day 1: a 6 % loss at 12:00; re-entries are denied until 00:00 of day 2
    p = [100.0] * 12 + [88.0] * 36  # 12 % on a 500 stake = 6 % of the 1000 account
    f = frame([[x, x, x, x] for x in p], enter_long=[0, 14, 30], exit_long=[13])
    st = settings(stake_amount=500.0, stoploss=-0.9)
    out, rk = run_risk({"A/USDT": f}, st, {"rules": ["daily_loss"], "daily_loss_limit": 0.05})
    assert list(out.trades.open_date) == [T0 + H, T0 + 31 * H]
    d = rk.events[rk.events.kind == "denied"]
    assert list(d.rule) == ["trading_reducing"] and d.iloc[0].date == T0 + 15 * H
    s = rk.events[rk.events.kind == "state"]
    assert list(zip(s.state, s.rule, strict=True)) == [("REDUCING", "daily_loss"), ("ACTIVE", "none")]
    assert s.iloc[1].date == pd.Timestamp("2024-01-02 00:00", tz="UTC")  # first close of day 2


def test_kill_switch_stops_every_entry():
    f = frame(flat(6), enter_long=[0, 2])
    out, rk = run_risk({"A/USDT": f}, settings(), {"kill_switch": True})
    assert out.trades.empty
    assert set(rk.events[rk.events.kind == "denied"].rule) == {"kill_switch"}


def test_order_rate_limit():
    fs = {p: frame(flat(8), enter_long=[0]) for p in ("A/USDT", "B/USDT", "C/USDT")}
    out, rk = run_risk(fs, settings(), {"rules": ["order_rate"], "max_orders_per_window": 2,
                                        "order_window": "4h"})
    assert sorted(out.trades.pair) == ["A/USDT", "B/USDT"]


def test_take_profit_brackets_partial_exits_and_trailing():
    # entry 100, ATR 2 (constant 2-wide candles); TP1 at +1 ATR (102) closes half, TP2 at
    # +3 ATR (106) closes the rest; the stop moves to break-even after TP1
    base = [[100, 101, 99, 100]] * 6
    path = [[100, 101, 99, 100], [100, 102.5, 99.5, 102], [102, 104, 101, 103], [103, 107, 102, 106],
            [106, 106, 106, 106]]
    f = frame(base + path, enter_long=[5])
    risk = {"rules": [], "atr_period": 3, "stops": {
        "stop_atr": 1.5, "take_profit": [{"atr": 1, "fraction": 0.5}, {"atr": 3, "fraction": 0.5}]}}
    st = settings(stake_amount=100.0, stoploss=-0.5, fee=0.0)
    out, _ = run_risk({"A/USDT": f}, st, risk)
    t = out.trades.iloc[0]
    assert (t.exit_reason, t.open_rate, t.amount) == ("take_profit", 100.0, 1.0)
    assert t.close_rate == pytest.approx(106.0)
    assert t.profit_abs == pytest.approx(0.5 * 2.0 + 0.5 * 6.0)  # legs at 102 and 106


def test_after_tp1_the_stop_sits_at_break_even():
    base = [[100, 101, 99, 100]] * 6
    path = [[100, 101, 99, 100], [100, 102.5, 99.5, 102], [101, 101, 98, 98], [98, 98, 98, 98]]
    f = frame(base + path, enter_long=[5])
    risk = {"rules": [], "atr_period": 3, "stops": {
        "stop_atr": 1.5, "take_profit": [{"atr": 1, "fraction": 0.5}, {"atr": 3, "fraction": 0.5}]}}
    out, _ = run_risk({"A/USDT": f}, settings(stoploss=-0.5, fee=0.0), risk)
    t = out.trades.iloc[0]
    assert t.exit_reason == "trailing_stop_loss" and t.close_rate == pytest.approx(100.0)
    assert t.profit_abs == pytest.approx(0.5 * 2.0)  # the first leg's profit; the rest flat
