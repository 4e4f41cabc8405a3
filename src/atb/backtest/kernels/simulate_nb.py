"""The bar-loop trade simulator: many pairs, one shared wallet, freqtrade 2026.9 semantics.

Inputs are flat arrays of all pairs' prepared candles (pair ``p`` owns rows
``pair_start[p] : pair_start[p] + pair_len[p]``), each row carrying candle ``t``'s OHLC and the
signals of candle ``t-1`` (already shifted). The loop visits ``t = start + tf, ..., end``; at each
``t`` pairs with an open trade come first (in opening order), then the rest in whitelist order
(``../shared/parity/SPEC.md`` section 2). Per pair and candle: order timeouts, entry, entry fill,
exit decision, exit fill (section 3).

The same code runs compiled (fast path, no callbacks) and as plain Python with the ``cb_*``
names bound to strategy adapters (slow path, see ``atb.backtest.callbacks``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from atb.backtest.kernels.callbacks_nb import (
    cb_check_entry_timeout,
    cb_check_exit_timeout,
    cb_confirm_entry,
    cb_confirm_exit,
    cb_custom_entry_price,
    cb_custom_exit,
    cb_custom_exit_price,
    cb_custom_stake,
    cb_custom_stoploss,
    cb_leverage,
)
from atb.backtest.kernels.precision_nb import round8_nb, round_tick_nb, truncate_tick_nb
from atb.backtest.kernels.records import (
    CB_CONFIRM_ENTRY,
    CB_CONFIRM_EXIT,
    CB_CUSTOM_EXIT,
    CB_CUSTOM_STAKE,
    CB_CUSTOM_STOPLOSS,
    CB_ENTRY_PRICE,
    CB_ENTRY_TIMEOUT,
    CB_EXIT_PRICE,
    CB_EXIT_TIMEOUT,
    CB_LEVERAGE,
    EXIT_CUSTOM,
    EXIT_FORCE,
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
    OUT_IS_SHORT,
    OUT_LEVERAGE,
    OUT_MAX_RATE,
    OUT_MIN_RATE,
    OUT_OPEN_DATE,
    OUT_OPEN_RATE,
    OUT_OPEN_ROW,
    OUT_PAIR,
    OUT_PROFIT_ABS,
    OUT_STAKE,
    P_AMOUNT_RESERVE,
    P_CAN_SHORT,
    P_ENTRY_LIMIT,
    P_ENTRY_TIMEOUT_NS,
    P_EXIT_LIMIT,
    P_EXIT_PROFIT_OFFSET,
    P_EXIT_PROFIT_ONLY,
    P_EXIT_TIMEOUT_NS,
    P_FEE,
    P_IGNORE_ROI_IF_ENTRY,
    P_IS_FUTURES,
    P_LIQUIDATION_BUFFER,
    P_MAINT_MARGIN,
    P_MAX_OPEN_TRADES,
    P_ONLY_OFFSET,
    P_STAKE_AMOUNT,
    P_STARTING_BALANCE,
    P_STOPLOSS,
    P_TIMEFRAME_MIN,
    P_TRADABLE_RATIO,
    P_TRAILING_OFFSET,
    P_TRAILING_POSITIVE,
    P_TRAILING_STOP,
    P_USE_CUSTOM_STOPLOSS,
    P_USE_EXIT_SIGNAL,
    TS_AMOUNT,
    TS_ENTER_TAG,
    TS_ENTRY_OPEN,
    TS_ENTRY_ORDER_PRICE,
    TS_EXIT_AMOUNT,
    TS_EXIT_DATE,
    TS_EXIT_OPEN,
    TS_EXIT_PRICE,
    TS_EXIT_REASON,
    TS_EXIT_TAG,
    TS_FEE_CLOSE,
    TS_FEE_OPEN,
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
    TS_SEQ,
    TS_STAKE,
    TS_STOP,
    TS_TICK,
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

__all__ = ["simulate_nb"]

_NS_PER_MIN = 60_000_000_000


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
    amount_dec, closed_profit, tied_up, cb_flags,
):
    """Open a trade for pair ``p`` on row ``r`` if the wallet and callbacks allow it.

    Returns True when a trade (with its entry order) was created in ``ts[p]``.
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
        return False
    lev = 1.0
    if params[P_IS_FUTURES] > 0.5 and (cb_flags & CB_LEVERAGE):
        max_lev = pair_limits[p, 4]
        lev = cb_leverage(p, r, t_ns, price, max_lev, short_i, tag)
        if math.isnan(lev) or lev < 1.0:
            lev = 1.0
        lev = min(lev, max_lev)
    available = _wallet_available(params, closed_profit, tied_up)
    stake = params[P_STAKE_AMOUNT]
    if math.isnan(stake):  # "unlimited"
        mot = params[P_MAX_OPEN_TRADES]
        if mot <= 0.0 or math.isinf(mot):
            return False
        stake = min((available + tied_up) / mot, available)
    elif available < stake:
        return False
    if not (stake > 0.0):
        return False
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
        return False
    amount = truncate_tick_nb(stake / price * lev, amount_dec[p])
    if not (amount > 0.0):
        return False
    if cb_flags & CB_CONFIRM_ENTRY:
        if not cb_confirm_entry(p, r, t_ns, amount, price, short_i, tag):
            return False
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
    adjust_stop_loss_nb(st, price, params[P_STOPLOSS], True)
    return True


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
    st[TS_OPEN_ROW] = math.nan  # the slot no longer holds an open trade
    return profit


@njit(cache=True)
def simulate_nb(
    date_ns, open_, high, low, close, enter_long, exit_long, enter_short, exit_short,
    enter_tag, exit_tag, tick_dec, pair_start, pair_len, amount_dec, pair_limits,
    start_ns, end_ns, tf_ns, roi_keys, roi_vals, params, cb_flags, ts, out,
):
    """Simulate all pairs over ``start + tf .. end`` and record closed trades.

    Parameters
    ----------
    date_ns : int64[n_rows]
        Candle open time, UTC ns, per row (pairs concatenated, each contiguous and sorted).
    open_, high, low, close : float64[n_rows]
        Candle prices, quote currency.
    enter_long, exit_long, enter_short, exit_short : int8[n_rows]
        Signals of the previous candle (already shifted), 1 = set.
    enter_tag, exit_tag : int64[n_rows]
        Tag ids (0 = none) of the previous candle.
    tick_dec : int64[n_rows]
        Decimals of the price tick of the row's calendar month.
    pair_start, pair_len : int64[n_pairs]
        Row ranges per pair, in whitelist order.
    amount_dec : int64[n_pairs]
        Decimals of the market amount step.
    pair_limits : float64[n_pairs, 5]
        min cost, min amount, max cost, max amount (nan = none), max leverage.
    start_ns, end_ns, tf_ns : int
        First candle (before the loop's first step), last candle and timeframe, UTC ns.
    roi_keys, roi_vals : int64[k], float64[k]
        ROI table sorted by minutes.
    params : float64[P_N]
        Scalars (see ``records.P_*``).
    cb_flags : int
        Bit mask of enabled callbacks (``records.CB_*``); 0 in the compiled fast path.
    ts : float64[n_pairs, TS_N]
        Scratch open-trade state (one trade per pair; position stacking is off).
    out : float64[capacity, OUT_N]
        Closed trades are written here.

    Returns
    -------
    (n_trades, rejected_signals) : tuple of int
    """
    n_pairs = pair_start.shape[0]
    ptr = np.zeros(n_pairs, dtype=np.int64)
    has_trade = np.zeros(n_pairs, dtype=np.bool_)
    open_order = np.empty(n_pairs, dtype=np.int64)  # pairs with open trades, by opening
    n_open = 0
    visit = np.empty(n_pairs, dtype=np.int64)
    in_open = np.zeros(n_pairs, dtype=np.bool_)
    cand_type = np.zeros(4, dtype=np.int64)  # exit candidates of one decision
    cand_tag = np.zeros(4, dtype=np.int64)
    trailing_params = np.array([
        params[P_USE_CUSTOM_STOPLOSS], params[P_TRAILING_STOP], params[P_ONLY_OFFSET],
        params[P_TRAILING_OFFSET], params[P_TRAILING_POSITIVE],
    ])
    can_short = params[P_CAN_SHORT] > 0.5
    max_open = params[P_MAX_OPEN_TRADES]
    entry_to = params[P_ENTRY_TIMEOUT_NS]
    exit_to = params[P_EXIT_TIMEOUT_NS]
    first_seen = np.full(n_pairs, -1, dtype=np.int64)  # order pairs were first processed
    n_seen = 0
    closed_profit = 0.0
    tied_up = 0.0
    n_out = 0
    rejected = 0
    seq = 0
    t = start_ns + tf_ns
    while t <= end_ns:
        is_last = t == end_ns
        # visiting order: pairs with open trades (by opening), then the rest (whitelist order)
        nv = 0
        for k in range(n_open):
            visit[nv] = open_order[k]
            in_open[open_order[k]] = True
            nv += 1
        for q in range(n_pairs):
            if not in_open[q]:
                visit[nv] = q
                nv += 1
        for k in range(n_open):
            in_open[open_order[k]] = False
        for vi in range(nv):
            p = visit[vi]
            i = ptr[p]
            if i >= pair_len[p]:
                continue
            r = pair_start[p] + i
            if date_ns[r] > t:
                continue
            ptr[p] = i + 1
            if first_seen[p] < 0:
                first_seen[p] = n_seen
                n_seen += 1
            if not has_trade[p] and enter_long[r] != 1 and enter_short[r] != 1:
                continue  # nothing to do for this pair on this candle
            o = open_[r]
            h = high[r]
            lo = low[r]
            c = close[r]
            st = ts[p]
            # direction of a new entry from the previous candle's signals (freqtrade
            # check_for_trade_entry); shorts only in margin/futures mode with can_short
            el = enter_long[r] == 1
            xl = exit_long[r] == 1
            es = can_short and enter_short[r] == 1
            xs = can_short and exit_short[r] == 1
            direction = 0
            if el and not (xl or es):
                direction = 1
            elif es and not (xs or el):
                direction = -1
            # a second pass reverses the position when a trade closed on this candle and the
            # signal points the other way (freqtrade calls backtest_loop twice then)
            for _pass in range(2):
                had = has_trade[p]
                had_short = had and st[TS_IS_SHORT] > 0.5
                # 1. open orders: timeouts
                if has_trade[p]:
                    if st[TS_ENTRY_OPEN] > 0.5:
                        timed = entry_to > 0.0 and st[TS_OPEN_DATE] < t - entry_to
                        if not timed and (cb_flags & CB_ENTRY_TIMEOUT):
                            timed = cb_check_entry_timeout(p, r, t)
                        if timed:
                            has_trade[p] = False
                            st[TS_OPEN_ROW] = math.nan
                            tied_up -= st[TS_STAKE]
                            n_open = _remove(open_order, n_open, p)
                    elif st[TS_EXIT_OPEN] > 0.5:
                        timed = exit_to > 0.0 and st[TS_EXIT_DATE] < t - exit_to
                        if not timed and (cb_flags & CB_EXIT_TIMEOUT):
                            timed = cb_check_exit_timeout(p, r, t)
                        if timed:
                            st[TS_EXIT_OPEN] = 0.0
                # 2. entry
                if not has_trade[p] and not is_last:
                    if direction != 0:
                        if n_open < max_open:
                            ok = _try_enter(
                                p, r, t, direction < 0, ts, seq, o, h, lo, tick_dec, enter_tag,
                                params,
                                pair_limits, amount_dec, closed_profit, tied_up, cb_flags,
                            )
                            if ok:
                                seq += 1
                                has_trade[p] = True
                                tied_up += st[TS_STAKE]
                                open_order[n_open] = p
                                n_open += 1
                        else:
                            rejected += 1
                if not has_trade[p]:
                    break
                # 3. entry order fill
                if st[TS_ENTRY_OPEN] > 0.5:
                    if lo <= st[TS_OPEN_RATE] <= h:
                        st[TS_ENTRY_OPEN] = 0.0
                    else:
                        break
                # 4. exit decision
                short = st[TS_IS_SHORT] > 0.5
                enter_sig = (enter_short[r] == 1) if short else (enter_long[r] == 1)
                exit_sig = (exit_short[r] == 1) if short else (exit_long[r] == 1)
                _exit_decision(
                    p, r, t, st, o, h, lo, c, enter_sig, exit_sig, exit_tag[r], roi_keys, roi_vals,
                    params, trailing_params, cb_flags, cand_type, cand_tag,
                )
                # 5. exit order fill
                if st[TS_EXIT_OPEN] > 0.5 and lo <= st[TS_EXIT_PRICE] <= h:
                    closed_profit += _close_trade(st, p, r, t, st[TS_EXIT_PRICE], out, n_out)
                    n_out += 1
                    tied_up -= st[TS_STAKE]
                    has_trade[p] = False
                    n_open = _remove(open_order, n_open, p)
                if not (can_short and direction != 0 and had and not has_trade[p]):
                    break
                if (-1 if had_short else 1) == direction:
                    break
        t += tf_ns
    # trades still open at the end: force exit at each pair's last candle open, pairs in the
    # order they were first processed (freqtrade iterates its per-pair dict in that order)
    for k in np.argsort(first_seen[open_order[:n_open]], kind="mergesort"):
        p = open_order[k]
        st = ts[p]
        r = pair_start[p] + pair_len[p] - 1
        if st[TS_ENTRY_OPEN] > 0.5:
            continue  # entry never filled: the trade is dropped
        _place_exit_order(st, open_[r], date_ns[r])
        st[TS_EXIT_REASON] = EXIT_FORCE
        st[TS_EXIT_TAG] = 0
        if low[r] <= st[TS_EXIT_PRICE] <= high[r]:
            _close_trade(st, p, r, date_ns[r], st[TS_EXIT_PRICE], out, n_out)
            n_out += 1
        # else: the rounded force-exit price lies outside the last candle; freqtrade leaves the
        # trade open and it does not appear in the results
    return n_out, rejected


@njit(cache=True)
def _remove(arr, n, value):
    """Remove ``value`` from ``arr[:n]`` keeping order; returns the new length."""
    j = 0
    for k in range(n):
        if arr[k] != value:
            arr[j] = arr[k]
            j += 1
    return j
