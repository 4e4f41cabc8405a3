"""Exit kernels: stop adjustment and hit, exit decision, exit order and trade close.

``../shared/parity/SPEC.md`` sections 5-7; freqtrade ``should_exit``,
``ft_stoploss_adjust``/``ft_stoploss_reached``, ``_get_exit_for_signal`` and ``_exit_trade``.
The ``cb_*`` calls are bound to strategy adapters in the Python slow path.
"""

from __future__ import annotations

import math

from numba import njit

from atb.backtest.kernels.callbacks_nb import (
    cb_confirm_exit,
    cb_custom_exit,
    cb_custom_exit_price,
    cb_custom_stoploss,
)
from atb.backtest.kernels.precision_nb import round8_nb, round_tick_nb
from atb.backtest.kernels.records import (
    CB_CONFIRM_EXIT,
    CB_CUSTOM_EXIT,
    CB_CUSTOM_STOPLOSS,
    CB_EXIT_PRICE,
    EXIT_CUSTOM,
    EXIT_LIQUIDATION,
    EXIT_NONE,
    EXIT_ROI,
    EXIT_SIGNAL,
    EXIT_STOP_LOSS,
    EXIT_TRAILING_STOP_LOSS,
    OUT_AMOUNT,
    OUT_CLOSE_DATE,
    OUT_CLOSE_RATE,
    OUT_CLOSE_ROW,
    OUT_ENTER_TAG,
    OUT_ENTRY_ORDER_PRICE,
    OUT_EXIT_REASON,
    OUT_EXIT_TAG,
    OUT_FEE_CLOSE,
    OUT_FEE_OPEN,
    OUT_INITIAL_AMOUNT,
    OUT_IS_SHORT,
    OUT_LEVERAGE,
    OUT_MAX_RATE,
    OUT_MIN_RATE,
    OUT_OPEN_DATE,
    OUT_OPEN_RATE,
    OUT_OPEN_ROW,
    OUT_PAIR,
    OUT_PARTIAL_EXITS,
    OUT_PROFIT_ABS,
    OUT_REALIZED,
    OUT_STAKE,
    P_EXIT_LIMIT,
    P_EXIT_PROFIT_OFFSET,
    P_EXIT_PROFIT_ONLY,
    P_IGNORE_ROI_IF_ENTRY,
    P_ONLY_OFFSET,
    P_STOPLOSS,
    P_TIMEFRAME_MIN,
    P_TRAILING_OFFSET,
    P_TRAILING_POSITIVE,
    P_TRAILING_STOP,
    P_USE_CUSTOM_STOPLOSS,
    P_USE_EXIT_SIGNAL,
    TS_AMOUNT,
    TS_ENTER_TAG,
    TS_ENTRY_ORDER_PRICE,
    TS_EXIT_AMOUNT,
    TS_EXIT_DATE,
    TS_EXIT_OPEN,
    TS_EXIT_PRICE,
    TS_EXIT_REASON,
    TS_EXIT_TAG,
    TS_FEE_CLOSE,
    TS_FEE_OPEN,
    TS_INITIAL_AMOUNT,
    TS_IS_SHORT,
    TS_LEVERAGE,
    TS_LIQ_PRICE,
    TS_MAX_RATE,
    TS_MIN_RATE,
    TS_OPEN_DATE,
    TS_OPEN_RATE,
    TS_OPEN_ROW,
    TS_OPEN_VALUE,
    TS_REALIZED,
    TS_STAKE,
    TS_STOP,
    TS_TICK,
    TS_TP_HIT,
    TS_TRAILING,
)
from atb.backtest.kernels.stops_nb import (
    adjust_stop_loss_nb,
    close_value_nb,
    profit_ratio_nb,
    roi_close_rate_nb,
    roi_entry_nb,
    stop_close_rate_nb,
)

__all__: list[str] = []

_NS_PER_MIN = 60_000_000_000


@njit(cache=True)
def _stop_and_liq(p, r, t_ns, st, h, lo, profit_best, params, cb_flags):
    """``ft_stoploss_adjust`` + ``ft_stoploss_reached``: returns the stop exit type or 0."""
    short = st[TS_IS_SHORT] > 0.5
    sl_value = params[P_STOPLOSS]
    bound = lo if short else h
    dir_correct = st[TS_STOP] > h if short else st[TS_STOP] < lo
    if params[P_USE_CUSTOM_STOPLOSS] > 0.5 and dir_correct and (cb_flags & CB_CUSTOM_STOPLOSS):
        v = cb_custom_stoploss(p, r, t_ns, bound, profit_best)
        if not math.isnan(v) and not math.isinf(v) and v != 0.0:
            sl_value = v
            adjust_stop_loss_nb(st, bound, sl_value, False)
    still_ok = st[TS_STOP] > h if short else st[TS_STOP] < lo
    if params[P_TRAILING_STOP] > 0.5 and still_ok:
        offset = params[P_TRAILING_OFFSET]
        if not (params[P_ONLY_OFFSET] > 0.5 and profit_best < offset):
            positive = params[P_TRAILING_POSITIVE]
            if not math.isnan(positive) and profit_best > offset:
                sl_value = positive
            adjust_stop_loss_nb(st, bound, sl_value, False)
    hit = st[TS_STOP] <= h if short else st[TS_STOP] >= lo
    if hit:
        return EXIT_TRAILING_STOP_LOSS if st[TS_TRAILING] > 0.5 else EXIT_STOP_LOSS
    liq = st[TS_LIQ_PRICE]
    if not math.isnan(liq) and ((short and liq <= h) or (not short and liq >= lo)):
        return EXIT_LIQUIDATION
    return EXIT_NONE


@njit(cache=True)
def _exit_decision(
    p, r, t_ns, st, o, h, lo, c, enter_sig, exit_sig, exit_tag_r, roi_keys, roi_vals,
    params, trailing_params, cb_flags, cand_type, cand_tag,
):
    """Decide the exit of one trade on one candle (freqtrade ``should_exit`` and friends).

    Evaluates the exit candidates in order and places (or keeps) the exit order in ``st``;
    returns True when a new order was placed.
    """
    short = st[TS_IS_SHORT] > 0.5
    profit_open = profit_ratio_nb(st, o)
    profit_best = profit_ratio_nb(st, lo if short else h)
    if h > st[TS_MAX_RATE]:
        st[TS_MAX_RATE] = h
    if lo < st[TS_MIN_RATE]:
        st[TS_MIN_RATE] = lo
    stop_type = _stop_and_liq(p, r, t_ns, st, h, lo, profit_best, params, cb_flags)
    trade_dur = (t_ns - int(st[TS_OPEN_DATE])) // _NS_PER_MIN
    roi_idx = -1
    roi_reached = False
    if not (enter_sig and params[P_IGNORE_ROI_IF_ENTRY] > 0.5):
        roi_idx = roi_entry_nb(roi_keys, trade_dur)
        roi_reached = roi_idx >= 0 and profit_best > roi_vals[roi_idx]
    # candidates in freqtrade's order: exit signal / custom exit, stoploss, roi, trailing
    n = 0
    if params[P_USE_EXIT_SIGNAL] > 0.5:
        if exit_sig and not enter_sig:
            if params[P_EXIT_PROFIT_ONLY] < 0.5 or profit_open > params[P_EXIT_PROFIT_OFFSET]:
                cand_type[n] = EXIT_SIGNAL
                cand_tag[n] = exit_tag_r
                n += 1
        elif cb_flags & CB_CUSTOM_EXIT:
            reason = cb_custom_exit(p, r, t_ns, o, profit_open)
            if reason != 0:
                cand_type[n] = EXIT_CUSTOM
                cand_tag[n] = reason if reason > 0 else 0
                n += 1
    if stop_type == EXIT_STOP_LOSS or stop_type == EXIT_LIQUIDATION:
        cand_type[n] = stop_type
        n += 1
    if roi_reached:
        cand_type[n] = EXIT_ROI
        n += 1
    if stop_type == EXIT_TRAILING_STOP_LOSS:
        cand_type[n] = stop_type
        n += 1
    for i in range(n):
        etype = cand_type[i]
        tag = cand_tag[i]
        if etype == EXIT_ROI:
            price = roi_close_rate_nb(
                st, roi_vals[roi_idx], roi_keys[roi_idx], trade_dur, params[P_TIMEFRAME_MIN],
                o, h, lo, c,
            )
            if math.isnan(price):
                continue
        elif etype == EXIT_STOP_LOSS or etype == EXIT_TRAILING_STOP_LOSS:
            price = stop_close_rate_nb(st, etype, st[TS_STOP], trade_dur, o, h, lo, trailing_params)
        elif etype == EXIT_LIQUIDATION:
            price = stop_close_rate_nb(
                st, etype, st[TS_LIQ_PRICE], trade_dur, o, h, lo, trailing_params
            )
        else:
            price = o
            if params[P_EXIT_LIMIT] > 0.5:
                if cb_flags & CB_EXIT_PRICE:
                    profit_here = profit_ratio_nb(st, price)
                    rate = cb_custom_exit_price(p, r, t_ns, price, profit_here, etype, tag)
                    if not math.isnan(rate):
                        price = rate
                price = min(price, h) if short else max(price, lo)
        if (cb_flags & CB_CONFIRM_EXIT) and etype != EXIT_LIQUIDATION:
            if not cb_confirm_exit(p, r, t_ns, st[TS_AMOUNT], price, etype, tag):
                continue
        # the trade's exit reason follows the latest confirmed decision
        st[TS_EXIT_REASON] = etype
        st[TS_EXIT_TAG] = tag
        if _place_exit_order(st, price, t_ns):
            return True
    return False


@njit(cache=True)
def _place_exit_order(st, raw_price, t_ns):
    """Place the exit order at the price rounded to the tick (freqtrade ``_exit_trade``).

    An identical open exit order is kept (returns False, so the next exit candidate is tried);
    any other is replaced.
    """
    price = round_tick_nb(raw_price, int(st[TS_TICK]))
    amount = st[TS_AMOUNT]
    if st[TS_EXIT_OPEN] > 0.5 and st[TS_EXIT_PRICE] == price and st[TS_EXIT_AMOUNT] == amount:
        return False
    st[TS_EXIT_OPEN] = 1.0
    st[TS_EXIT_PRICE] = price
    st[TS_EXIT_AMOUNT] = amount
    st[TS_EXIT_DATE] = t_ns
    return True


@njit(cache=True)
def _close_trade(st, p, r, t_ns, price, out, n_out):
    """Write the closed trade into ``out[n_out]``; returns its profit in quote currency."""
    cv = close_value_nb(st, price)
    ov = st[TS_OPEN_VALUE]
    profit = round8_nb(ov - cv if st[TS_IS_SHORT] > 0.5 else cv - ov)
    row = out[n_out]
    row[OUT_PAIR] = p
    row[OUT_OPEN_ROW] = st[TS_OPEN_ROW]
    row[OUT_CLOSE_ROW] = r
    row[OUT_OPEN_RATE] = st[TS_OPEN_RATE]
    row[OUT_CLOSE_RATE] = price
    row[OUT_AMOUNT] = st[TS_AMOUNT]
    row[OUT_STAKE] = st[TS_STAKE]
    row[OUT_FEE_OPEN] = st[TS_FEE_OPEN]
    row[OUT_FEE_CLOSE] = st[TS_FEE_CLOSE]
    row[OUT_IS_SHORT] = st[TS_IS_SHORT]
    row[OUT_LEVERAGE] = st[TS_LEVERAGE]
    row[OUT_EXIT_REASON] = st[TS_EXIT_REASON]
    row[OUT_EXIT_TAG] = st[TS_EXIT_TAG]
    row[OUT_ENTER_TAG] = st[TS_ENTER_TAG]
    row[OUT_MAX_RATE] = st[TS_MAX_RATE]
    row[OUT_MIN_RATE] = st[TS_MIN_RATE]
    row[OUT_PROFIT_ABS] = profit
    row[OUT_OPEN_DATE] = st[TS_OPEN_DATE]
    row[OUT_CLOSE_DATE] = t_ns
    row[OUT_ENTRY_ORDER_PRICE] = st[TS_ENTRY_ORDER_PRICE]
    row[OUT_INITIAL_AMOUNT] = st[TS_INITIAL_AMOUNT]
    row[OUT_REALIZED] = st[TS_REALIZED]
    row[OUT_PARTIAL_EXITS] = st[TS_TP_HIT] if st[TS_REALIZED] != 0.0 else 0.0
    st[TS_OPEN_ROW] = math.nan  # the slot no longer holds an open trade
    return profit
