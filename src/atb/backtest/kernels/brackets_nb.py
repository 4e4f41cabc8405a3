"""Take-profit brackets: partial exits at ATR multiples, stop trailing from the brackets.

A trade entered with the risk engine's brackets on carries its entry ATR (``TS_ATR``, quote
currency). Level ``k`` sits ``tp_atr[k] * ATR`` beyond the entry price and closes
``tp_fraction[k]`` of the *initial* amount, like a freqtrade ``adjust_trade_position`` call
returning a negative stake: the trade stays open with a smaller amount, the leg's profit is
realised into the wallet. After level ``k`` fills the stop moves to break-even (``k = 0``) or to
level ``k - 1`` (``trail_after_tp``), from the next candle on (the order of prices inside the
fill candle is unknown). A level whose fractions complete the position closes the
trade with exit reason ``take_profit``.

Fill rule: a resting limit order fills at its price, or at the candle's open when the open is
already beyond it. When the candle also reaches the stop, the stop is assumed to come first and
no level fills (the conservative reading of an OHLC candle).
"""

from __future__ import annotations

import math

from numba import njit

from atb.backtest.kernels.precision_nb import truncate_tick_nb
from atb.backtest.kernels.records import (
    P_FEE,
    TS_AMOUNT,
    TS_ATR,
    TS_INITIAL_AMOUNT,
    TS_IS_SHORT,
    TS_OPEN_RATE,
    TS_OPEN_VALUE,
    TS_PENDING_STOP,
    TS_REALIZED,
    TS_STAKE,
    TS_STOP,
    TS_TP_HIT,
    TS_TRAILING,
)
from atb.risk.layout import R_TP_ATR_0, R_TP_COUNT, R_TP_FRACTION_0, R_TRAIL_AFTER_TP

__all__: list[str] = []


@njit(cache=True)
def take_profits(st, o, h, lo, amount_dec, params, rp):
    """Fill the take-profit levels the candle reaches.

    Returns ``(realized, stake_released, close_price)``: profit and stake of the partial legs
    (quote currency) and, when a level closes the whole remaining amount, its fill price
    (nan otherwise; the caller closes the trade).
    """
    n_levels = int(rp[R_TP_COUNT])
    atr = st[TS_ATR]
    if n_levels == 0 or not (atr > 0.0):
        return 0.0, 0.0, math.nan
    short = st[TS_IS_SHORT] > 0.5
    pending = st[TS_PENDING_STOP]
    if not math.isnan(pending):
        st[TS_PENDING_STOP] = math.nan
        if math.isnan(st[TS_STOP]) or (short and pending < st[TS_STOP]) or (
                not short and pending > st[TS_STOP]):
            st[TS_STOP] = pending
            st[TS_TRAILING] = 1.0
    stop = st[TS_STOP]
    if not math.isnan(stop) and ((short and h >= stop) or (not short and lo <= stop)):
        return 0.0, 0.0, math.nan
    fee = params[P_FEE]
    realized = 0.0
    released = 0.0
    entry = st[TS_OPEN_RATE]
    while int(st[TS_TP_HIT]) < n_levels:
        k = int(st[TS_TP_HIT])
        dist = rp[R_TP_ATR_0 + k] * atr
        target = entry - dist if short else entry + dist
        if short:
            if lo > target:
                break
            price = min(target, o)
        else:
            if h < target:
                break
            price = max(target, o)
        done = 0.0
        for j in range(k + 1):
            done += rp[R_TP_FRACTION_0 + j]
        leg = truncate_tick_nb(st[TS_INITIAL_AMOUNT] * rp[R_TP_FRACTION_0 + k], amount_dec)
        st[TS_TP_HIT] = k + 1
        if done >= 1.0 - 1e-9 or leg >= st[TS_AMOUNT]:
            return realized, released, price
        if leg > 0.0:
            share = leg / st[TS_AMOUNT]
            ov = st[TS_OPEN_VALUE] * share
            v = leg * price
            profit = ov - (v + v * fee) if short else (v - v * fee) - ov
            stake = st[TS_STAKE] * share
            st[TS_OPEN_VALUE] -= ov
            st[TS_STAKE] -= stake
            st[TS_AMOUNT] -= leg
            st[TS_REALIZED] += profit
            realized += profit
            released += stake
        if rp[R_TRAIL_AFTER_TP] > 0.5:
            if k == 0:
                new_stop = entry
            else:
                d0 = rp[R_TP_ATR_0 + k - 1] * atr
                new_stop = entry - d0 if short else entry + d0
            st[TS_PENDING_STOP] = new_stop  # effective from the next candle
    return realized, released, math.nan
