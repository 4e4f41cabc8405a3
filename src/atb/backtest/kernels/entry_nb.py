"""Entry kernels: wallet availability, stake limits and opening a trade (freqtrade semantics).

``../shared/parity/SPEC.md`` section 4; freqtrade ``Wallets.get_available_stake_amount``,
``get_min_pair_stake_amount``, ``validate_stake_amount`` and ``Backtesting._enter_trade``.
The ``cb_*`` calls are bound to strategy adapters in the Python slow path
(``atb.backtest.callbacks``) and never taken in the compiled fast path.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from atb.backtest.kernels.callbacks_nb import (
    cb_confirm_entry,
    cb_custom_entry_price,
    cb_custom_stake,
    cb_leverage,
)
from atb.backtest.kernels.precision_nb import round_tick_nb, truncate_tick_nb
from atb.backtest.kernels.records import (
    CB_CONFIRM_ENTRY,
    CB_CUSTOM_STAKE,
    CB_ENTRY_PRICE,
    CB_LEVERAGE,
    P_AMOUNT_RESERVE,
    P_ENTRY_LIMIT,
    P_FEE,
    P_IS_FUTURES,
    P_LIQUIDATION_BUFFER,
    P_MAINT_MARGIN,
    P_MAX_OPEN_TRADES,
    P_STAKE_AMOUNT,
    P_STARTING_BALANCE,
    P_STOPLOSS,
    P_TRADABLE_RATIO,
    TS_AMOUNT,
    TS_ATR,
    TS_ENTER_TAG,
    TS_ENTRY_OPEN,
    TS_ENTRY_ORDER_PRICE,
    TS_EXIT_OPEN,
    TS_FEE_CLOSE,
    TS_FEE_OPEN,
    TS_INITIAL_AMOUNT,
    TS_IS_SHORT,
    TS_LEVERAGE,
    TS_LIQ_PRICE,
    TS_MAX_RATE,
    TS_MIN_RATE,
    TS_N,
    TS_OPEN_DATE,
    TS_OPEN_RATE,
    TS_OPEN_ROW,
    TS_OPEN_VALUE,
    TS_PENDING_STOP,
    TS_REALIZED,
    TS_SEQ,
    TS_STAKE,
    TS_TICK,
    TS_TP_HIT,
    TS_TRAILING,
)
from atb.backtest.kernels.risk_nb import (
    RI_APPROVED,
    RI_ASSET,
    RI_CORR,
    RI_DRAWDOWN,
    RI_EQUITY,
    RI_N_OPEN,
    RI_N_PROFITS,
    RI_ORDERS,
    RI_REDUCE_RULE,
    RI_REGIME_SCALE,
    RI_REQUESTED,
    RI_SECTOR,
    RI_STATE,
    RI_TOTAL,
    RI_VOL,
)
from atb.backtest.kernels.stops_nb import (
    adjust_stop_loss_nb,
)
from atb.risk.layout import R_ENABLED, R_STOP_ATR
from atb.risk.rules import evaluate_entry, final_notional
from atb.risk.sizing import propose_notional

__all__: list[str] = []


@njit(cache=True)
def _wallet_available(params: np.ndarray, closed_profit: float, tied_up: float) -> float:
    """Freqtrade ``Wallets.get_available_stake_amount``: (free + tied) * ratio - tied."""
    total = params[P_STARTING_BALANCE] + closed_profit
    return total * params[P_TRADABLE_RATIO] - tied_up


@njit(cache=True)
def _min_stake(
    price: float, min_cost: float, min_amount: float, stoploss: float, reserve: float, lev: float
) -> float:
    """Minimum stake: market minimum plus a stoploss reserve, nan if none.

    Source: freqtrade ``get_min_pair_stake_amount``.
    """
    m = math.nan
    if not math.isnan(min_cost):
        m = min_cost
    if not math.isnan(min_amount):
        v = min_amount * price
        m = v if math.isnan(m) else max(m, v)
    if math.isnan(m):
        return m
    pct = 1.0 + reserve
    pct = pct / (1.0 - abs(stoploss)) if abs(stoploss) != 1.0 else 1.5
    pct = max(min(pct, 1.5), 1.0)
    return m * pct / lev


@njit(cache=True)
def _max_stake(price: float, max_cost: float, max_amount: float, lev: float) -> float:
    """Freqtrade ``get_max_pair_stake_amount``: market maximum; inf if none."""
    m = math.inf
    if not math.isnan(max_cost):
        m = max_cost
    if not math.isnan(max_amount):
        m = min(m, max_amount * price)
    return m / lev


@njit(cache=True)
def _validate_stake(stake: float, min_stake: float, max_allowed: float) -> float:
    """Clamp a stake like freqtrade ``validate_stake_amount``.

    Capped at the maximum; raised to the minimum unless that is more than 30 % above the
    request; 0 means "no trade".
    """
    if not (stake > 0.0):
        return 0.0
    if not math.isnan(min_stake) and min_stake > max_allowed:
        return 0.0
    if stake > max_allowed:
        stake = max_allowed
    if not math.isnan(min_stake) and stake < min_stake:
        if stake * 1.3 < min_stake:
            return 0.0
        stake = min_stake
    return stake


@njit(cache=True)
def _try_enter(
    p, r, t_ns, is_short, ts, seq, o, h, lo, tick_dec, enter_tag, params, pair_limits,
    amount_dec, closed_profit, tied_up, cb_flags, rp, rin, profits,
):
    """Open a trade for pair ``p`` on row ``r`` if the wallet, callbacks and risk rules allow it.

    With the risk engine on (``rp[R_ENABLED]``), the entry intent passes
    :func:`atb.risk.rules.evaluate_entry` with the inputs in ``rin`` (filled by
    ``risk_nb.entry_inputs``), is sized by :func:`atb.risk.sizing.propose_notional` and capped
    by :func:`atb.risk.rules.final_notional`; ``rin`` receives the requested and approved
    notional.

    Returns 1 when a trade (with its entry order) was created in ``ts[p]``, 0 when not (wallet,
    limits, callbacks), ``-rule`` when a risk rule denied it.
    """
    short_i = 1 if is_short else 0
    tag = enter_tag[r]
    price = o
    at_open = True  # an order at the candle's open always fills on this candle
    if params[P_ENTRY_LIMIT] > 0.5:
        # limit entries: custom_entry_price (default: the open), rounded to the tick, capped
        if cb_flags & CB_ENTRY_PRICE:
            new_rate = cb_custom_entry_price(p, r, t_ns, price, short_i, tag)
            if not math.isnan(new_rate) and new_rate != price:
                price = new_rate
                at_open = False
        price = round_tick_nb(price, tick_dec[r])
        price = max(price, lo) if is_short else min(price, h)
    if not (price > 0.0):
        return 0
    lev = 1.0
    if params[P_IS_FUTURES] > 0.5 and (cb_flags & CB_LEVERAGE):
        max_lev = pair_limits[p, 4]
        lev = cb_leverage(p, r, t_ns, price, max_lev, short_i, tag)
        if math.isnan(lev) or lev < 1.0:
            lev = 1.0
        lev = min(lev, max_lev)
    risk_on = rp[R_ENABLED] > 0.5
    cap = math.inf
    cap_rule = 0
    stop_distance = abs(params[P_STOPLOSS]) / lev
    atr_stop = risk_on and not math.isnan(rp[R_STOP_ATR]) and rin[RI_VOL] > 0.0
    if risk_on:
        if atr_stop:
            stop_distance = rp[R_STOP_ATR] * rin[RI_VOL]
        deny, cap, cap_rule = evaluate_entry(
            int(rin[RI_STATE]), rin[RI_EQUITY], int(rin[RI_N_OPEN]), rin[RI_ASSET], rin[RI_SECTOR],
            rin[RI_TOTAL], stop_distance, rin[RI_VOL], rin[RI_CORR], int(rin[RI_ORDERS]), rp,
        )
        if deny != 0:
            return -deny
    available = _wallet_available(params, closed_profit, tied_up)
    stake = params[P_STAKE_AMOUNT]
    if math.isnan(stake):  # "unlimited"
        mot = params[P_MAX_OPEN_TRADES]
        if mot <= 0.0 or math.isinf(mot):
            return 0
        stake = min((available + tied_up) / mot, available)
    elif available < stake:
        return 0
    if not (stake > 0.0):
        return 0
    if risk_on:
        proposed = propose_notional(
            stake * lev, rin[RI_EQUITY], stop_distance, rin[RI_VOL], rin[RI_DRAWDOWN], profits,
            int(rin[RI_N_PROFITS]), rin[RI_REGIME_SCALE], rp,
        )
        stake = min(proposed / lev, available)
    # freqtrade sizes the stoploss reserve of the minimum stake with a fixed -5 % stop
    min_stake = _min_stake(
        price, pair_limits[p, 0], pair_limits[p, 1], -0.05, params[P_AMOUNT_RESERVE], lev
    )
    max_stake = _max_stake(price, pair_limits[p, 2], pair_limits[p, 3], lev)
    if cb_flags & CB_CUSTOM_STAKE:
        stake = cb_custom_stake(
            p, r, t_ns, price, stake, min_stake, min(max_stake, available), lev, short_i, tag
        )
    stake = _validate_stake(stake, min_stake, min(max_stake, available))
    if stake <= 0.0:
        return 0
    if risk_on:
        rin[RI_REQUESTED] = stake * lev
        notional, deny, reduce_rule = final_notional(stake * lev, cap, cap_rule, min_stake * lev, rp)
        if deny != 0:
            return -deny
        stake = notional / lev
        rin[RI_APPROVED] = notional
        rin[RI_REDUCE_RULE] = reduce_rule
    amount = truncate_tick_nb(stake / price * lev, amount_dec[p])
    if not (amount > 0.0):
        return 0
    if cb_flags & CB_CONFIRM_ENTRY:
        if not cb_confirm_entry(p, r, t_ns, amount, price, short_i, tag):
            return 0
    st = ts[p]
    for k in range(TS_N):
        st[k] = math.nan
    fee = params[P_FEE]
    st[TS_OPEN_ROW] = r
    st[TS_OPEN_RATE] = price
    st[TS_AMOUNT] = amount
    st[TS_STAKE] = amount * price / lev
    st[TS_FEE_OPEN] = fee
    st[TS_FEE_CLOSE] = fee
    st[TS_IS_SHORT] = 1.0 if is_short else 0.0
    st[TS_LEVERAGE] = lev
    st[TS_TRAILING] = 0.0
    st[TS_MAX_RATE] = price
    st[TS_MIN_RATE] = price
    st[TS_TICK] = tick_dec[r]
    v = amount * price
    st[TS_OPEN_VALUE] = v - v * fee if is_short else v + v * fee
    st[TS_ENTER_TAG] = tag
    st[TS_OPEN_DATE] = t_ns
    st[TS_EXIT_OPEN] = 0.0
    st[TS_ENTRY_OPEN] = 0.0 if at_open else 1.0
    st[TS_ENTRY_ORDER_PRICE] = o if at_open else price
    st[TS_SEQ] = seq
    if params[P_IS_FUTURES] > 0.5 and lev > 1.0:
        mmr = params[P_MAINT_MARGIN]
        if is_short:
            liq = price * (1.0 + 1.0 / lev - mmr)
            liq = liq - params[P_LIQUIDATION_BUFFER] * (liq - price)
        else:
            liq = price * (1.0 - 1.0 / lev + mmr)
            liq = liq + params[P_LIQUIDATION_BUFFER] * (price - liq)
        st[TS_LIQ_PRICE] = liq
    st[TS_INITIAL_AMOUNT] = amount
    st[TS_REALIZED] = 0.0
    st[TS_TP_HIT] = 0.0
    st[TS_PENDING_STOP] = math.nan
    st[TS_ATR] = rin[RI_VOL] * price if risk_on else math.nan
    if atr_stop:
        adjust_stop_loss_nb(st, price, stop_distance * lev, True)
    else:
        adjust_stop_loss_nb(st, price, params[P_STOPLOSS], True)
    return 1
