"""Pure pre-trade rules and the trading-state machine: one implementation for backtest and live.

Every function here is a small ``@njit`` function on scalars and numpy arrays. The backtest
kernel calls them compiled inside its bar loop; the live :class:`~atb.risk.engine.RiskEngine`
calls the very same compiled functions from Python with values read off its portfolio. There is
no second copy of a rule.

Units: equity, notional and stake in quote currency; exposures, limits, drawdowns and stop
distances as ratios (0.2 = 20 %); times as UTC nanoseconds. Parameters come from the vector
``rp`` laid out in :mod:`atb.risk.layout` (``nan``/``inf`` switches a rule off).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from atb.risk.layout import (
    R_DAILY_LOSS_FLATTEN,
    R_DAILY_LOSS_LIMIT,
    R_FLATTEN_ON_HALT,
    R_HALT_COOLDOWN_NS,
    R_KILL_SWITCH,
    R_MAX_ASSET_EXPOSURE,
    R_MAX_CORRELATION,
    R_MAX_DRAWDOWN,
    R_MAX_NOTIONAL,
    R_MAX_OPEN_POSITIONS,
    R_MAX_ORDERS,
    R_MAX_POSITION_RISK,
    R_MAX_SECTOR_EXPOSURE,
    R_MAX_TOTAL_EXPOSURE,
    R_MIN_NOTIONAL,
    R_REDUCE_AT_DRAWDOWN,
    R_VOLATILITY_THRESHOLD,
    RS_DAY,
    RS_DAY_START,
    RS_EQUITY,
    RS_HALTED_AT,
    RS_N,
    RS_PEAK,
    RS_RULE,
    RS_STATE,
    RULE_ASSET_EXPOSURE,
    RULE_CORRELATION,
    RULE_DAILY_LOSS,
    RULE_DRAWDOWN_REDUCE,
    RULE_HALTED,
    RULE_KILL_SWITCH,
    RULE_MAX_DRAWDOWN,
    RULE_MAX_NOTIONAL,
    RULE_MAX_OPEN_POSITIONS,
    RULE_MIN_NOTIONAL,
    RULE_NONE,
    RULE_ORDER_RATE,
    RULE_POSITION_RISK,
    RULE_REDUCING,
    RULE_SECTOR_EXPOSURE,
    RULE_TOTAL_EXPOSURE,
    RULE_VOLATILITY,
    STATE_ACTIVE,
    STATE_HALTED,
    STATE_REDUCING,
)

__all__ = [
    "cap_notional",
    "entry_gate",
    "evaluate_entry",
    "final_notional",
    "orders_in_window",
    "pearson_corr",
    "new_rstate",
    "position_risk_cap",
    "step_trading_state",
    "update_trading_state",
]


@njit(cache=True)
def position_risk_cap(equity: float, stop_distance: float, max_position_risk: float) -> float:
    """Largest notional whose loss at the stop is ``max_position_risk`` of equity.

    ``notional * stop_distance <= equity * max_position_risk`` (fixed-fractional risk, Van Tharp,
    *Definitive Guide to Position Sizing*, ch. 4). ``stop_distance`` is the price move to the
    stop as a positive ratio; inf when the rule is off or no stop distance is known.
    """
    if math.isnan(max_position_risk) or not (stop_distance > 0.0):
        return math.inf
    return max(equity, 0.0) * max_position_risk / stop_distance


@njit(cache=True)
def cap_notional(equity: float, used: float, limit: float) -> float:
    """Notional still allowed under ``used + new <= equity * limit`` (inf when ``limit`` is nan)."""
    if math.isnan(limit) or math.isinf(limit):
        return math.inf
    return max(max(equity, 0.0) * limit - used, 0.0)


@njit(cache=True)
def entry_gate(state: int, n_open: int, volatility: float, max_abs_corr: float,
               orders_in_window: int, rp: np.ndarray) -> int:
    """The all-or-nothing entry checks, in order; returns the first failing rule (0 = pass).

    Kill switch, trading state (HALTED, REDUCING), max open positions, order rate, volatility
    filter (ATR / close above ``volatility_threshold``), correlation limit.
    """
    if rp[R_KILL_SWITCH] > 0.5:
        return RULE_KILL_SWITCH
    if state == STATE_HALTED:
        return RULE_HALTED
    if state == STATE_REDUCING:
        return RULE_REDUCING
    if n_open >= rp[R_MAX_OPEN_POSITIONS]:
        return RULE_MAX_OPEN_POSITIONS
    if orders_in_window >= rp[R_MAX_ORDERS]:
        return RULE_ORDER_RATE
    if not math.isnan(volatility) and volatility > rp[R_VOLATILITY_THRESHOLD]:
        return RULE_VOLATILITY
    if not math.isnan(max_abs_corr) and max_abs_corr > rp[R_MAX_CORRELATION]:
        return RULE_CORRELATION
    return RULE_NONE


@njit(cache=True)
def evaluate_entry(
    state: int,
    equity: float,
    n_open: int,
    asset_notional: float,
    sector_notional: float,
    total_notional: float,
    stop_distance: float,
    volatility: float,
    max_abs_corr: float,
    orders_in_window: int,
    rp: np.ndarray,
) -> tuple[int, float, int]:
    """Pre-trade checks of one entry intent, in the documented order.

    Parameters
    ----------
    state : int
        Trading state (``layout.STATE_*``).
    equity : float
        Mark-to-market account equity, quote currency.
    n_open : int
        Open positions.
    asset_notional, sector_notional, total_notional : float
        Notional already held in the intent's base asset, its sector and in total (quote).
    stop_distance : float
        Price move to the stop as a positive ratio (nan: unknown).
    volatility : float
        ATR / close of the signal candle (nan: unknown, the filter passes).
    max_abs_corr : float
        Largest absolute rolling return correlation with an open position (nan: none).
    orders_in_window : int
        Entry orders already sent inside the order-rate window.
    rp : float64[R_N]
        Risk parameters (:mod:`atb.risk.layout`).

    Returns
    -------
    (deny_rule, notional_cap, cap_rule) : (int, float, int)
        ``deny_rule`` > 0 denies the intent outright; otherwise the order's notional must not
        exceed ``notional_cap`` (inf = no cap), the tightest cap coming from ``cap_rule``.
    """
    gate = entry_gate(state, n_open, volatility, max_abs_corr, orders_in_window, rp)
    if gate != RULE_NONE:
        return gate, 0.0, RULE_NONE
    cap = math.inf
    cap_rule = RULE_NONE
    c = position_risk_cap(equity, stop_distance, rp[R_MAX_POSITION_RISK])
    if c < cap:
        cap, cap_rule = c, RULE_POSITION_RISK
    c = cap_notional(equity, asset_notional, rp[R_MAX_ASSET_EXPOSURE])
    if c < cap:
        cap, cap_rule = c, RULE_ASSET_EXPOSURE
    c = cap_notional(equity, sector_notional, rp[R_MAX_SECTOR_EXPOSURE])
    if c < cap:
        cap, cap_rule = c, RULE_SECTOR_EXPOSURE
    c = cap_notional(equity, total_notional, rp[R_MAX_TOTAL_EXPOSURE])
    if c < cap:
        cap, cap_rule = c, RULE_TOTAL_EXPOSURE
    c = rp[R_MAX_NOTIONAL]
    if not math.isnan(c) and c < cap:
        cap, cap_rule = c, RULE_MAX_NOTIONAL
    if cap <= 0.0:
        return cap_rule, 0.0, cap_rule
    return RULE_NONE, cap, cap_rule


@njit(cache=True)
def final_notional(requested: float, cap: float, cap_rule: int, exchange_min: float,
                   rp: np.ndarray) -> tuple[float, int, int]:
    """Apply the cap to a requested notional and check the minimum notional.

    Returns ``(notional, deny_rule, reduce_rule)``: ``notional`` is the approved size (0 when
    denied), ``deny_rule`` > 0 when the capped size falls below the configured
    ``min_notional`` or the exchange minimum ``exchange_min`` (nan = none), ``reduce_rule`` > 0
    when the cap reduced the request.
    """
    reduce_rule = RULE_NONE
    n = requested
    if n > cap:
        n = cap
        reduce_rule = cap_rule
    lo = rp[R_MIN_NOTIONAL]
    if not math.isnan(exchange_min) and (math.isnan(lo) or exchange_min > lo):
        lo = exchange_min
    if not (n > 0.0) or (not math.isnan(lo) and n < lo):
        return 0.0, (reduce_rule if reduce_rule != RULE_NONE else RULE_MIN_NOTIONAL), reduce_rule
    return n, RULE_NONE, reduce_rule


@njit(cache=True)
def update_trading_state(
    state: int, equity: float, peak: float, day_start_equity: float, t_ns: int,
    halted_at_ns: int, halt_rule: int, rp: np.ndarray,
) -> tuple[int, int, bool]:
    """Next trading state from mark-to-market equity (checked at every candle close).

    Rules, in order:

    * kill switch -> HALTED (never leaves);
    * drawdown ``1 - equity / peak >= max_drawdown`` -> HALTED (flatten when
      ``flatten_on_halt``); it stays HALTED for ``halt_cooldown`` (inf: until reset), after which
      the caller resets the peak to the current equity;
    * daily loss ``1 - equity / day_start_equity >= daily_loss_limit`` -> REDUCING (exits only;
      flatten when ``daily_loss_flatten``) until the next UTC day, when the caller passes the new
      day's start equity;
    * drawdown ``>= reduce_at_drawdown`` -> REDUCING until it recovers below that level.

    Returns
    -------
    (state, rule, flatten) : (int, int, bool)
        New state, the rule that set it (0 when ACTIVE) and whether open positions must be
        closed now (only on the transition).
    """
    if rp[R_KILL_SWITCH] > 0.5:
        return STATE_HALTED, RULE_KILL_SWITCH, state != STATE_HALTED and rp[R_FLATTEN_ON_HALT] > 0.5
    if state == STATE_HALTED and halt_rule == RULE_MAX_DRAWDOWN:
        if t_ns - halted_at_ns < rp[R_HALT_COOLDOWN_NS]:
            return STATE_HALTED, RULE_MAX_DRAWDOWN, False
    dd = 0.0
    if peak > 0.0:
        dd = 1.0 - equity / peak
    if dd >= rp[R_MAX_DRAWDOWN]:
        if state == STATE_HALTED and halt_rule == RULE_MAX_DRAWDOWN:
            return STATE_HALTED, RULE_MAX_DRAWDOWN, False
        return STATE_HALTED, RULE_MAX_DRAWDOWN, rp[R_FLATTEN_ON_HALT] > 0.5
    if day_start_equity > 0.0 and 1.0 - equity / day_start_equity >= rp[R_DAILY_LOSS_LIMIT]:
        entering = not (state == STATE_REDUCING and halt_rule == RULE_DAILY_LOSS)
        return STATE_REDUCING, RULE_DAILY_LOSS, entering and rp[R_DAILY_LOSS_FLATTEN] > 0.5
    if state == STATE_REDUCING and halt_rule == RULE_DAILY_LOSS:
        return STATE_REDUCING, RULE_DAILY_LOSS, False  # until the next UTC day resets it
    if dd >= rp[R_REDUCE_AT_DRAWDOWN]:
        return STATE_REDUCING, RULE_DRAWDOWN_REDUCE, False
    return STATE_ACTIVE, RULE_NONE, False


@njit(cache=True)
def pearson_corr(a: np.ndarray, b: np.ndarray, end: int, window: int) -> float:
    """Pearson correlation of ``a[end-window:end]`` and ``b[end-window:end]``.

    Only rows where both values are finite count; nan with fewer than 3 such rows or a
    constant series.

    Source: the sample correlation coefficient (Pearson 1896), computed with two-pass means.
    """
    lo = max(end - window, 0)
    n = 0
    sa = 0.0
    sb = 0.0
    for i in range(lo, end):
        x = a[i]
        y = b[i]
        if math.isfinite(x) and math.isfinite(y):
            n += 1
            sa += x
            sb += y
    if n < 3:
        return math.nan
    ma = sa / n
    mb = sb / n
    sab = 0.0
    saa = 0.0
    sbb = 0.0
    for i in range(lo, end):
        x = a[i]
        y = b[i]
        if math.isfinite(x) and math.isfinite(y):
            dx = x - ma
            dy = y - mb
            sab += dx * dy
            saa += dx * dx
            sbb += dy * dy
    if saa <= 0.0 or sbb <= 0.0:
        return math.nan
    return sab / math.sqrt(saa * sbb)


@njit(cache=True)
def orders_in_window(times: np.ndarray, n: int, now_ns: int, window_ns: float) -> int:
    """Number of the first ``n`` entry-order times (UTC ns) inside ``(now - window, now]``."""
    k = 0
    for i in range(n):
        if times[i] > now_ns - window_ns and times[i] <= now_ns:
            k += 1
    return k


_DAY_NS = 86_400_000_000_000


def new_rstate(starting_equity: float) -> np.ndarray:
    """A fresh risk-engine state vector (ACTIVE, peak and day start at ``starting_equity``)."""
    rs = np.zeros(RS_N)
    rs[RS_DAY] = math.nan
    rs[RS_HALTED_AT] = -1.0
    rs[RS_PEAK] = starting_equity
    rs[RS_DAY_START] = starting_equity
    rs[RS_EQUITY] = starting_equity
    return rs


@njit(cache=True)
def step_trading_state(rstate: np.ndarray, equity: float, t_ns: int, rp: np.ndarray) -> tuple[bool, bool]:
    """Mark the account at ``equity`` (time ``t_ns``, UTC ns) and step the state machine.

    Book-keeping around :func:`update_trading_state`, shared by the kernel (at every candle
    close) and the live engine (at every mark): a new UTC day takes the previous mark's equity
    as its start and ends a daily-loss REDUCING state; the peak follows the equity; when a
    HALTED cool-down ends the peak restarts at the current equity.

    Returns
    -------
    (changed, flatten) : (bool, bool)
        Whether the state or its rule changed (``rstate[RS_STATE]``/``[RS_RULE]`` hold the new
        ones) and whether open positions must be flattened now.
    """
    first_state = int(rstate[RS_STATE])
    first_rule = int(rstate[RS_RULE])
    day = t_ns // _DAY_NS
    if math.isnan(rstate[RS_DAY]):
        rstate[RS_DAY] = day
    elif day != rstate[RS_DAY]:
        rstate[RS_DAY] = day
        rstate[RS_DAY_START] = rstate[RS_EQUITY]
        if rstate[RS_RULE] == RULE_DAILY_LOSS:
            rstate[RS_STATE] = STATE_ACTIVE
            rstate[RS_RULE] = RULE_NONE
    if (rstate[RS_STATE] == STATE_HALTED and rstate[RS_RULE] == RULE_MAX_DRAWDOWN
            and t_ns - rstate[RS_HALTED_AT] >= rp[R_HALT_COOLDOWN_NS]):
        # the halt's cool-down ended: the drawdown limit applies from the current equity
        rstate[RS_STATE] = STATE_ACTIVE
        rstate[RS_RULE] = RULE_NONE
        rstate[RS_PEAK] = equity
    old_state = int(rstate[RS_STATE])
    peak = max(rstate[RS_PEAK], equity)
    new_state, rule, flatten = update_trading_state(
        old_state, equity, peak, rstate[RS_DAY_START], t_ns, int(rstate[RS_HALTED_AT]),
        int(rstate[RS_RULE]), rp,
    )
    if new_state == STATE_HALTED and old_state != STATE_HALTED:
        rstate[RS_HALTED_AT] = t_ns
    rstate[RS_PEAK] = peak
    rstate[RS_EQUITY] = equity
    changed = new_state != first_state or rule != first_rule
    rstate[RS_STATE] = new_state
    rstate[RS_RULE] = rule
    return changed, flatten
