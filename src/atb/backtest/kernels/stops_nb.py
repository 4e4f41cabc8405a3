"""Exit-rule kernels: profit ratio, stop adjustment (fixed, trailing), ROI table, exit prices.

Semantics are freqtrade 2026.9's (``../shared/parity/SPEC.md`` sections 5-7): ``IStrategy``
``ft_stoploss_adjust``/``ft_stoploss_reached``/``min_roi_reached``, ``Trade.adjust_stop_loss``
and ``Backtesting._get_close_rate*``. All prices in quote currency, ratios not percent.
State lives in one row ``st`` of the open-trade matrix (columns ``records.TS_*``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from atb.backtest.kernels.precision_nb import round8_nb, round_tick_down_nb, round_tick_up_nb
from atb.backtest.kernels.records import (
    EXIT_TRAILING_STOP_LOSS,
    TS_AMOUNT,
    TS_FEE_CLOSE,
    TS_INITIAL_STOP,
    TS_IS_SHORT,
    TS_LEVERAGE,
    TS_LIQ_PRICE,
    TS_OPEN_RATE,
    TS_OPEN_VALUE,
    TS_STOP,
    TS_STOP_PCT,
    TS_TICK,
    TS_TRAILING,
)

__all__ = [
    "adjust_stop_loss_nb",
    "close_value_nb",
    "profit_ratio_nb",
    "roi_close_rate_nb",
    "roi_entry_nb",
    "stop_close_rate_nb",
]


@njit(cache=True)
def close_value_nb(st: np.ndarray, rate: float) -> float:
    """Exit value in quote currency: ``amount * rate * (1 - fee)`` (long), ``(1 + fee)`` (short)."""
    v = st[TS_AMOUNT] * rate
    if st[TS_IS_SHORT] > 0.5:
        return v + v * st[TS_FEE_CLOSE]
    return v - v * st[TS_FEE_CLOSE]


@njit(cache=True)
def profit_ratio_nb(st: np.ndarray, rate: float) -> float:
    """Freqtrade ``calc_profit_ratio``: ``round((close_value/open_value - 1) * leverage, 8)``.

    Shorts use ``1 - close_value/open_value``. Ratio, not percent.
    """
    ov = st[TS_OPEN_VALUE]
    if ov == 0.0:
        return 0.0
    cv = close_value_nb(st, rate)
    if st[TS_IS_SHORT] > 0.5:
        r = 1.0 - cv / ov
    else:
        r = cv / ov - 1.0
    return round8_nb(r * st[TS_LEVERAGE])


@njit(cache=True)
def adjust_stop_loss_nb(
    st: np.ndarray, current_price: float, stoploss: float, initial: bool
) -> None:
    """Move the stop to ``current_price * (1 -+ |stoploss| / leverage)`` if that tightens it.

    The new stop is rounded to the trade's tick (up for longs, down for shorts). The first call
    sets the initial stop; later calls only move it in the trade's favour and mark the trade as
    trailing (freqtrade ``Trade.adjust_stop_loss``).
    """
    if initial and not math.isnan(st[TS_STOP]):
        return
    lev = st[TS_LEVERAGE]
    d = int(st[TS_TICK])
    short = st[TS_IS_SHORT] > 0.5
    liq = st[TS_LIQ_PRICE]
    if short:
        raw = current_price * (1.0 + abs(stoploss / lev))
        if not math.isnan(liq):
            raw = min(liq, raw)  # the stop never lies beyond the liquidation price
        new_stop = round_tick_down_nb(raw, d)
    else:
        raw = current_price * (1.0 - abs(stoploss / lev))
        if not math.isnan(liq):
            raw = max(liq, raw)
        new_stop = round_tick_up_nb(raw, d)
    if math.isnan(st[TS_STOP]):
        st[TS_STOP] = new_stop
        st[TS_INITIAL_STOP] = new_stop
        st[TS_STOP_PCT] = -abs(stoploss)
        return
    if (new_stop > st[TS_STOP] and not short) or (new_stop < st[TS_STOP] and short):
        st[TS_STOP] = new_stop
        st[TS_STOP_PCT] = -abs(stoploss)
        st[TS_TRAILING] = 1.0


@njit(cache=True)
def roi_entry_nb(roi_keys: np.ndarray, trade_dur: int) -> int:
    """Index of the largest ROI key (minutes) <= ``trade_dur``; -1 when none applies."""
    idx = -1
    for i in range(roi_keys.shape[0]):
        if roi_keys[i] <= trade_dur:
            idx = i
    return idx


@njit(cache=True)
def roi_close_rate_nb(
    st: np.ndarray, roi: float, roi_key: int, trade_dur: int, timeframe_min: float,
    o: float, h: float, lo: float, c: float,
) -> float:
    """Exit price of a ROI exit, or nan when the opening-candle rule forbids it.

    ``p`` is the rate whose fee-inclusive profit ratio is exactly ``roi``:
    ``p = (1 + roi/leverage) * open_value / (amount * (1 - fee))`` (long; shorts mirrored).
    A new ROI step starting on this candle whose target is below the open exits at the open.
    """
    short = st[TS_IS_SHORT] > 0.5
    if roi == -1.0 and roi_key % timeframe_min == 0:
        return o
    lev = st[TS_LEVERAGE]
    fee = st[TS_FEE_CLOSE]
    if short:
        p = (1.0 - roi / lev) * st[TS_OPEN_VALUE] / (st[TS_AMOUNT] * (1.0 + fee))
        is_new_roi = o < p
    else:
        p = (1.0 + roi / lev) * st[TS_OPEN_VALUE] / (st[TS_AMOUNT] * (1.0 - fee))
        is_new_roi = o > p
    if trade_dur > 0 and trade_dur == roi_key and roi_key % timeframe_min == 0 and is_new_roi:
        return o
    if trade_dur == 0:
        open_rate = st[TS_OPEN_RATE]
        if short and o < c and open_rate > o and p < c:
            return math.nan
        if not short and o > c and open_rate < o and p > c:
            return math.nan
    return min(max(p, lo), h)


@njit(cache=True)
def stop_close_rate_nb(
    st: np.ndarray, exit_type: int, stop_value: float, trade_dur: int,
    o: float, h: float, lo: float, trailing_params: np.ndarray,
) -> float:
    """Exit price of a stoploss / trailing / liquidation exit.

    A candle that trades entirely beyond the stop (gap) exits at the open. A trailing stop hit
    on the entry candle assumes the worst realistic path: ``open * (1 + offset - positive)``
    when only-offset trailing with a positive distance is configured, else
    ``open * (1 - stop distance)``, bounded by the candle. Otherwise the stop price itself.
    ``trailing_params`` = [use_custom_stoploss, trailing_stop, only_offset, offset, positive].
    """
    short = st[TS_IS_SHORT] > 0.5
    lev = st[TS_LEVERAGE]
    if short:
        if stop_value < lo:
            return o
    elif stop_value > h:
        return o
    if exit_type == EXIT_TRAILING_STOP_LOSS and trade_dur == 0:
        use_custom = trailing_params[0] > 0.5
        trailing = trailing_params[1] > 0.5
        only_offset = trailing_params[2] > 0.5
        offset = trailing_params[3]
        positive = trailing_params[4]
        side = -1.0 if short else 1.0
        if (not use_custom) and trailing and only_offset and (not math.isnan(offset)) and (
            not math.isnan(positive) and positive != 0.0
        ):
            rate = o * (1.0 + side * abs((offset - positive) / lev))
        else:
            rate = o * (1.0 - side * abs(st[TS_STOP_PCT] / lev))
        if short:
            return min(h, rate)
        return max(lo, rate)
    return stop_value
