"""Each pre-trade rule and the trading-state machine against hand-computed values."""

import math

import numpy as np
import pytest

from atb.risk import layout as L
from atb.risk.config import RiskConfig
from atb.risk.rules import (
    cap_notional,
    entry_gate,
    evaluate_entry,
    final_notional,
    new_rstate,
    orders_in_window,
    pearson_corr,
    position_risk_cap,
    step_trading_state,
    update_trading_state,
)

DAY = 86_400_000_000_000
HOUR = 3_600_000_000_000


def rp(**kw):
    return RiskConfig(**kw).to_vector(max_open_trades=5)


def test_position_risk_cap_is_equity_times_risk_over_stop_distance():
    assert position_risk_cap(10_000.0, 0.05, 0.01) == pytest.approx(2_000.0)  # 1 % of 10k at 5 %
    assert math.isinf(position_risk_cap(10_000.0, 0.0, 0.01))  # no stop distance: no cap
    assert math.isinf(position_risk_cap(10_000.0, 0.05, math.nan))  # rule off


def test_cap_notional_subtracts_what_is_held():
    assert cap_notional(10_000.0, 500.0, 0.2) == pytest.approx(1_500.0)
    assert cap_notional(10_000.0, 2_500.0, 0.2) == 0.0
    assert math.isinf(cap_notional(10_000.0, 500.0, math.inf))


def test_entry_gate_order_and_each_rule():
    v = rp(max_open_positions=2, max_orders_per_window=3, volatility_threshold=0.05, max_correlation=0.8)
    ok = dict(state=L.STATE_ACTIVE, n_open=0, volatility=0.01, max_abs_corr=0.1, orders_in_window=0)
    assert entry_gate(**ok, rp=v) == L.RULE_NONE
    assert entry_gate(**{**ok, "state": L.STATE_HALTED}, rp=v) == L.RULE_HALTED
    assert entry_gate(**{**ok, "state": L.STATE_REDUCING}, rp=v) == L.RULE_REDUCING
    assert entry_gate(**{**ok, "n_open": 2}, rp=v) == L.RULE_MAX_OPEN_POSITIONS
    assert entry_gate(**{**ok, "orders_in_window": 3}, rp=v) == L.RULE_ORDER_RATE
    assert entry_gate(**{**ok, "volatility": 0.06}, rp=v) == L.RULE_VOLATILITY
    assert entry_gate(**{**ok, "volatility": math.nan}, rp=v) == L.RULE_NONE  # unknown passes
    assert entry_gate(**{**ok, "max_abs_corr": 0.81}, rp=v) == L.RULE_CORRELATION
    killed = rp(kill_switch=True)
    assert entry_gate(**ok, rp=killed) == L.RULE_KILL_SWITCH
    # the state is checked before the position count
    assert entry_gate(**{**ok, "state": L.STATE_HALTED, "n_open": 9}, rp=v) == L.RULE_HALTED


def test_evaluate_entry_returns_the_tightest_cap_and_its_rule():
    v = rp(max_position_risk=0.01, max_portfolio_exposure=0.2, max_sector_exposure=0.4,
           max_total_exposure=1.0, max_notional=5_000.0)
    args = dict(state=0, equity=10_000.0, n_open=1, asset_notional=0.0, sector_notional=0.0,
                total_notional=0.0, stop_distance=0.10, volatility=math.nan, max_abs_corr=math.nan,
                orders_in_window=0)
    # risk cap 10k*0.01/0.10 = 1000 < asset cap 2000
    assert evaluate_entry(**args, rp=v) == (L.RULE_NONE, pytest.approx(1_000.0), L.RULE_POSITION_RISK)
    # wider stop: asset cap 2000 - 500 held = 1500 binds
    a2 = {**args, "stop_distance": 0.01, "asset_notional": 500.0}
    assert evaluate_entry(**a2, rp=v) == (L.RULE_NONE, pytest.approx(1_500.0), L.RULE_ASSET_EXPOSURE)
    a3 = {**args, "stop_distance": 0.01, "sector_notional": 3_900.0}
    assert evaluate_entry(**a3, rp=v)[1:] == (pytest.approx(100.0), L.RULE_SECTOR_EXPOSURE)
    a4 = {**args, "stop_distance": 0.01, "total_notional": 9_500.0}
    assert evaluate_entry(**a4, rp=v)[1:] == (pytest.approx(500.0), L.RULE_TOTAL_EXPOSURE)
    # a full asset allowance denies outright with the asset rule
    a5 = {**args, "stop_distance": 0.01, "asset_notional": 2_000.0}
    assert evaluate_entry(**a5, rp=v)[0] == L.RULE_ASSET_EXPOSURE


def test_final_notional_reduces_then_checks_minimums():
    v = rp(min_notional=50.0)
    assert final_notional(300.0, 200.0, L.RULE_ASSET_EXPOSURE, math.nan, v) == (
        200.0, L.RULE_NONE, L.RULE_ASSET_EXPOSURE)
    assert final_notional(100.0, 200.0, L.RULE_ASSET_EXPOSURE, math.nan, v) == (100.0, 0, 0)
    # capped below the configured minimum: denied, blamed on the capping rule
    assert final_notional(300.0, 40.0, L.RULE_POSITION_RISK, math.nan, v) == (
        0.0, L.RULE_POSITION_RISK, L.RULE_POSITION_RISK)
    # below the exchange minimum without a cap: the min-notional rule
    assert final_notional(30.0, math.inf, 0, 35.0, rp()) == (0.0, L.RULE_MIN_NOTIONAL, 0)


def test_update_trading_state_transitions():
    v = rp(max_drawdown=0.2, daily_loss_limit=0.05, reduce_at_drawdown=0.1)
    assert update_trading_state(0, 100.0, 100.0, 100.0, 0, -1, 0, v) == (0, 0, False)
    # 12 % below the peak: REDUCING by drawdown_reduce
    assert update_trading_state(0, 88.0, 100.0, 88.0, 0, -1, 0, v) == (1, L.RULE_DRAWDOWN_REDUCE, False)
    # 20 % below the peak: HALTED and flatten (flatten_on_halt defaults to True)
    assert update_trading_state(1, 79.0, 100.0, 81.0, 0, -1, 16, v) == (2, L.RULE_MAX_DRAWDOWN, True)
    # stays HALTED without a flatten on later marks (no cool-down: until reset)
    assert update_trading_state(2, 90.0, 100.0, 90.0, 10 * DAY, 0, 15, v) == (2, 15, False)
    # daily loss: 6 % below the day's start
    assert update_trading_state(0, 94.0, 95.0, 100.0, 0, -1, 0, v) == (1, L.RULE_DAILY_LOSS, False)
    flat = rp(daily_loss_limit=0.05, daily_loss_action="flatten")
    assert update_trading_state(0, 94.0, 95.0, 100.0, 0, -1, 0, flat) == (1, L.RULE_DAILY_LOSS, True)


def test_halt_cooldown_then_peak_restarts():
    v = rp(max_drawdown=0.1, halt_cooldown="1d", daily_loss_limit=None)
    rs = new_rstate(100.0)
    t = 0
    assert step_trading_state(rs, 100.0, t, v) == (False, False)
    changed, flatten = step_trading_state(rs, 89.0, t + HOUR, v)
    assert (changed, flatten, rs[L.RS_STATE], rs[L.RS_RULE]) == (True, True, 2, L.RULE_MAX_DRAWDOWN)
    assert step_trading_state(rs, 89.0, t + 23 * HOUR, v) == (False, False)  # cooling down
    changed, _ = step_trading_state(rs, 89.0, t + 26 * HOUR, v)
    assert changed and rs[L.RS_STATE] == L.STATE_ACTIVE and rs[L.RS_PEAK] == 89.0
    # the limit now applies from the new peak: 10 % below 89
    step_trading_state(rs, 80.0, t + 27 * HOUR, v)
    assert rs[L.RS_STATE] == L.STATE_HALTED


def test_daily_loss_resets_on_the_next_utc_day():
    v = rp(daily_loss_limit=0.05, max_drawdown=None)
    rs = new_rstate(100.0)
    step_trading_state(rs, 100.0, 10 * HOUR, v)
    step_trading_state(rs, 94.0, 20 * HOUR, v)
    assert rs[L.RS_STATE] == L.STATE_REDUCING and rs[L.RS_RULE] == L.RULE_DAILY_LOSS
    step_trading_state(rs, 95.0, 23 * HOUR, v)
    assert rs[L.RS_STATE] == L.STATE_REDUCING  # recovering within the day does not lift it
    changed, _ = step_trading_state(rs, 95.0, DAY + HOUR, v)
    assert changed and rs[L.RS_STATE] == L.STATE_ACTIVE and rs[L.RS_DAY_START] == 95.0


def test_kill_switch_halts_and_flattens_once():
    v = rp(kill_switch=True)
    rs = new_rstate(100.0)
    assert step_trading_state(rs, 100.0, 0, v) == (True, True)
    assert step_trading_state(rs, 100.0, HOUR, v) == (False, False)


def test_pearson_corr_matches_numpy_and_skips_missing_rows():
    rng = np.random.default_rng(7)
    a = rng.normal(size=200)
    b = 0.6 * a + rng.normal(size=200)
    assert pearson_corr(a, b, 200, 50) == pytest.approx(np.corrcoef(a[150:], b[150:])[0, 1], rel=1e-12)
    a2 = a.copy()
    a2[160] = np.nan
    keep = np.r_[150:160, 161:200]
    assert pearson_corr(a2, b, 200, 50) == pytest.approx(np.corrcoef(a[keep], b[keep])[0, 1], rel=1e-12)
    assert math.isnan(pearson_corr(a, np.ones(200), 200, 50))  # constant series


def test_orders_in_window_counts_the_open_interval():
    times = np.array([0.0, 10.0, 20.0, 30.0])
    assert orders_in_window(times, 4, 30, 15.0) == 2  # (15, 30]
    assert orders_in_window(times, 2, 30, 100.0) == 2  # only the first n are valid
