"""Kernel glue of the risk engine: mark-to-market, rule inputs, state updates and the risk log.

The rules themselves live in :mod:`atb.risk.rules` and :mod:`atb.risk.sizing` (the single
implementation shared with live code); this module only reads the kernel's trade state into
their inputs and records their outcomes. Everything is skipped when ``rp[R_ENABLED] == 0``.

Arrays (all float64 unless noted):

* ``grid_close[p, k]`` - pair ``p``'s close of the candle opening at ``start + k * tf``,
  forward-filled (nan before its first candle); ``grid_ret[p, k]`` - its log return (nan when
  either candle is missing);
* ``rstate[RS_*]`` - engine state carried across candles;
* ``rin[RI_*]`` - inputs/outputs of one entry evaluation;
* ``risk_log[n, LOG_N]`` - denials, reductions, state changes and flattens.
"""

from __future__ import annotations

import math

from numba import njit

from atb.backtest.kernels.records import (
    P_FEE,
    P_STARTING_BALANCE,
    TS_AMOUNT,
    TS_ENTRY_OPEN,
    TS_IS_SHORT,
    TS_OPEN_RATE,
    TS_OPEN_VALUE,
)
from atb.risk.layout import (
    R_CORRELATION_WINDOW,
    R_MAX_CORRELATION,
    R_ORDER_WINDOW_NS,
    RS_FLATTEN,
    RS_N_LOG,
    RS_N_ORDERS,
    RS_N_PROFITS,
    RS_PEAK,
    RS_RULE,
    RS_STATE,
    RULE_NONE,
)
from atb.risk.rules import orders_in_window, pearson_corr, step_trading_state

__all__: list[str] = []

# rin
RI_STATE = 0
RI_EQUITY = 1
RI_ASSET = 2
RI_SECTOR = 3
RI_TOTAL = 4
RI_VOL = 5
RI_CORR = 6
RI_ORDERS = 7
RI_DRAWDOWN = 8
RI_REGIME_SCALE = 9
RI_N_OPEN = 10
RI_REQUESTED = 11  # out: notional before the risk cap
RI_APPROVED = 12  # out: approved notional
RI_REDUCE_RULE = 13  # out: rule that reduced the size (0 = none)
RI_N_PROFITS = 14  # closed trades in the Kelly ring
RI_N = 15

# risk_log columns and kinds
LOG_T = 0
LOG_PAIR = 1
LOG_RULE = 2
LOG_KIND = 3
LOG_EQUITY = 4
LOG_REQUESTED = 5
LOG_APPROVED = 6
LOG_STATE = 7
LOG_N = 8
KIND_DENIED = 0
KIND_REDUCED = 1
KIND_STATE = 2
KIND_FLATTEN = 3


@njit(cache=True)
def unrealized(st, price, fee):
    """Profit of the open trade ``st`` if closed at ``price`` (quote currency, fee included)."""
    if st[TS_ENTRY_OPEN] > 0.5 or math.isnan(price):
        return 0.0
    v = st[TS_AMOUNT] * price
    if st[TS_IS_SHORT] > 0.5:
        return st[TS_OPEN_VALUE] - (v + v * fee)
    return (v - v * fee) - st[TS_OPEN_VALUE]


@njit(cache=True)
def mark_to_market(ts, open_order, n_open, grid_close, k, closed_profit, params):
    """Equity at the close of grid row ``k``: balance + closed profit + open trades' P&L."""
    eq = params[P_STARTING_BALANCE] + closed_profit
    fee = params[P_FEE]
    for j in range(n_open):
        q = open_order[j]
        eq += unrealized(ts[q], grid_close[q, k], fee)
    return eq


@njit(cache=True)
def log_event(risk_log, rstate, t_ns, pair, rule, kind, equity, requested, approved):
    """Append one record to ``risk_log`` (dropped silently if full)."""
    n = int(rstate[RS_N_LOG])
    if n >= risk_log.shape[0]:
        return
    row = risk_log[n]
    row[LOG_T] = t_ns
    row[LOG_PAIR] = pair
    row[LOG_RULE] = rule
    row[LOG_KIND] = kind
    row[LOG_EQUITY] = equity
    row[LOG_REQUESTED] = requested
    row[LOG_APPROVED] = approved
    row[LOG_STATE] = rstate[RS_STATE]
    rstate[RS_N_LOG] = n + 1


@njit(cache=True)
def entry_inputs(rin, p, k, ts, open_order, n_open, grid_close, grid_ret, vol, asset_id,
                 sector_id, closed_profit, rstate, order_times, profits_len, t_ns, regime_scale, params,
                 rp):
    """Fill ``rin`` for an entry of pair ``p`` at the open of grid row ``k`` (data up to k-1)."""
    kp = k - 1 if k > 0 else 0
    eq = mark_to_market(ts, open_order, n_open, grid_close, kp, closed_profit, params)
    asset = 0.0
    sector = 0.0
    total = 0.0
    corr = math.nan
    check_corr = not math.isinf(rp[R_MAX_CORRELATION])
    window = int(rp[R_CORRELATION_WINDOW])
    for j in range(n_open):
        q = open_order[j]
        st = ts[q]
        price = grid_close[q, kp]
        if st[TS_ENTRY_OPEN] > 0.5 or math.isnan(price):
            price = st[TS_OPEN_RATE]  # pending order, or no close yet: the entry price
        notional = st[TS_AMOUNT] * price
        total += notional
        if asset_id[q] == asset_id[p]:
            asset += notional
        if sector_id[p] >= 0 and sector_id[q] == sector_id[p]:
            sector += notional
        if check_corr and q != p:
            c = pearson_corr(grid_ret[p], grid_ret[q], k, window)
            if not math.isnan(c) and (math.isnan(corr) or abs(c) > corr):
                corr = abs(c)
    peak = max(rstate[RS_PEAK], eq)
    rin[RI_STATE] = rstate[RS_STATE]
    rin[RI_EQUITY] = eq
    rin[RI_ASSET] = asset
    rin[RI_SECTOR] = sector
    rin[RI_TOTAL] = total
    rin[RI_VOL] = vol
    rin[RI_CORR] = corr
    n_ord = int(min(rstate[RS_N_ORDERS], order_times.shape[0]))
    rin[RI_ORDERS] = orders_in_window(order_times, n_ord, t_ns, rp[R_ORDER_WINDOW_NS])
    rin[RI_DRAWDOWN] = 1.0 - eq / peak if peak > 0.0 else 0.0
    rin[RI_REGIME_SCALE] = regime_scale
    rin[RI_N_OPEN] = n_open
    rin[RI_N_PROFITS] = min(rstate[RS_N_PROFITS], profits_len)
    rin[RI_REQUESTED] = math.nan
    rin[RI_APPROVED] = math.nan
    rin[RI_REDUCE_RULE] = RULE_NONE


@njit(cache=True)
def record_order(order_times, rstate, t_ns):
    """Remember an entry order's time in the order-rate ring."""
    n = int(rstate[RS_N_ORDERS])
    order_times[n % order_times.shape[0]] = t_ns
    rstate[RS_N_ORDERS] = n + 1


@njit(cache=True)
def record_profit(profits, rstate, ratio):
    """Remember a closed trade's profit ratio in the Kelly ring."""
    n = int(rstate[RS_N_PROFITS])
    profits[n % profits.shape[0]] = ratio
    rstate[RS_N_PROFITS] = n + 1


@njit(cache=True)
def end_of_candle(rstate, ts, open_order, n_open, grid_close, k, t_close_ns, closed_profit,
                  params, rp, risk_log, equity_out, state_out):
    """Mark to market at the close of grid row ``k`` and step the trading-state machine.

    Sets ``rstate[RS_FLATTEN]`` when the new state demands an emergency flatten.
    """
    eq = mark_to_market(ts, open_order, n_open, grid_close, k, closed_profit, params)
    changed, flatten = step_trading_state(rstate, eq, t_close_ns, rp)
    rule = int(rstate[RS_RULE])
    if changed:
        log_event(risk_log, rstate, t_close_ns, -1, rule, KIND_STATE, eq, math.nan, math.nan)
    if flatten and n_open > 0:
        rstate[RS_FLATTEN] = 1.0
        log_event(risk_log, rstate, t_close_ns, -1, rule, KIND_FLATTEN, eq, math.nan, math.nan)
    equity_out[k] = eq
    state_out[k] = rstate[RS_STATE]
