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

from atb.backtest.kernels.brackets_nb import take_profits
from atb.backtest.kernels.callbacks_nb import (
    cb_check_entry_timeout,
    cb_check_exit_timeout,
)
from atb.backtest.kernels.entry_nb import _try_enter
from atb.backtest.kernels.exit_nb import _close_trade, _exit_decision, _place_exit_order
from atb.backtest.kernels.records import (
    CB_ENTRY_TIMEOUT,
    CB_EXIT_TIMEOUT,
    EXIT_EMERGENCY,
    EXIT_FORCE,
    EXIT_TAKE_PROFIT,
    LF_CLOSED_PROFIT,
    LF_N_OPEN,
    LF_N_OUT,
    LF_N_SEEN,
    LF_REJECTED,
    LF_SEQ,
    LF_TIED_UP,
    LI_FIRST_SEEN,
    LI_FLAT,
    LI_HAS_TRADE,
    LI_OPEN_ORDER,
    LI_PTR,
    P_CAN_SHORT,
    P_ENTRY_TIMEOUT_NS,
    P_EXIT_TIMEOUT_NS,
    P_MAX_OPEN_TRADES,
    P_ONLY_OFFSET,
    P_TRAILING_OFFSET,
    P_TRAILING_POSITIVE,
    P_TRAILING_STOP,
    P_USE_CUSTOM_STOPLOSS,
    TS_ENTRY_OPEN,
    TS_EXIT_DATE,
    TS_EXIT_OPEN,
    TS_EXIT_PRICE,
    TS_EXIT_REASON,
    TS_EXIT_TAG,
    TS_INITIAL_AMOUNT,
    TS_IS_SHORT,
    TS_LEVERAGE,
    TS_OPEN_DATE,
    TS_OPEN_RATE,
    TS_OPEN_ROW,
    TS_REALIZED,
    TS_STAKE,
)
from atb.backtest.kernels.risk_nb import (
    KIND_DENIED,
    KIND_FLATTEN,
    KIND_REDUCED,
    RI_APPROVED,
    RI_EQUITY,
    RI_REDUCE_RULE,
    RI_REQUESTED,
    end_of_candle,
    entry_inputs,
    log_event,
    record_order,
    record_profit,
)
from atb.risk.layout import R_ENABLED, RS_FLATTEN, RULE_EVENT

__all__ = ["simulate_nb"]

_NS_PER_MIN = 60_000_000_000


@njit(cache=True)
def simulate_nb(
    date_ns, open_, high, low, close, enter_long, exit_long, enter_short, exit_short, emergency,
    enter_tag, exit_tag, tick_dec, pair_start, pair_len, amount_dec, pair_limits,
    start_ns, end_ns, tf_ns, roi_keys, roi_vals, params, cb_flags, ts, out,
    rp, grid_close, grid_ret, vol_row, asset_id, sector_id, regime_scale, rstate, rin, order_times,
    profits, risk_log, equity_out, state_out, loop_i, loop_f, t_from, finalize,
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
    emergency : int8[n_rows]
        Emergency-exit requests of the previous candle (already shifted), 1 = set: an open trade
        of the pair is closed at this candle's open with reason ``emergency_exit``, exactly like
        a risk-engine flatten (e.g. a CRITICAL news event, ``atb.signals``). Zeros = freqtrade.
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
    rp : float64[R_N]
        Risk parameters (:mod:`atb.risk.layout`); ``rp[R_ENABLED] == 0`` runs without the risk
        engine (freqtrade semantics, every other risk array may then be a 1-element dummy).
    grid_close, grid_ret : float64[n_pairs, n_grid]
        Close (forward-filled) and log return per pair on the time grid ``start + k * tf``.
    vol_row : float64[n_rows]
        ATR / close of each row's signal candle (the previous candle).
    asset_id, sector_id : int64[n_pairs]
        Base-asset id and sector id (-1 = none) per pair.
    regime_scale : float64[n_grid]
        Stake multiplier from the regime at each grid row (1.0 = none).
    rstate, rin, order_times, profits : float64 arrays
        Risk-engine state (``atb.risk.layout.RS_*``), inputs of the entry being evaluated
        (``risk_nb.RI_*``), entry-order time ring, closed-trade profit ring.
    risk_log : float64[m, LOG_N]
        Denials, reductions, state changes and flattens (``risk_nb.LOG_*``).
    equity_out, state_out : float64[n_grid]
        Mark-to-market equity and trading state at each candle close.
    loop_i : int64[n_pairs, LI_N], loop_f : float64[LF_N]
        Loop state (``records.LI_*``/``LF_*``), read at the start and written back at the end:
        a fresh state (:func:`atb.backtest.simulation.new_loop_state`) runs a whole backtest; the
        live engine keeps it between calls and runs one candle per call.
    t_from : int
        First loop time, UTC ns (``start_ns + tf_ns`` for a whole backtest).
    finalize : bool
        Backtest end: no entries on the last candle and open trades force-exited. False in the
        live engine (the newest candle is not the last one).

    Returns
    -------
    (n_trades, rejected_signals) : tuple of int
        Totals since the loop state was fresh.
    """
    n_pairs = pair_start.shape[0]
    ptr = loop_i[:, LI_PTR]
    has_trade = loop_i[:, LI_HAS_TRADE]
    open_order = loop_i[:, LI_OPEN_ORDER]  # pairs with open trades, by opening
    first_seen = loop_i[:, LI_FIRST_SEEN]  # order pairs were first processed
    flat = loop_i[:, LI_FLAT]  # pairs with an emergency exit pending
    n_open = int(loop_f[LF_N_OPEN])
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
    n_seen = int(loop_f[LF_N_SEEN])
    closed_profit = loop_f[LF_CLOSED_PROFIT]
    tied_up = loop_f[LF_TIED_UP]
    n_out = int(loop_f[LF_N_OUT])
    rejected = int(loop_f[LF_REJECTED])
    seq = int(loop_f[LF_SEQ])
    risk_on = rp[R_ENABLED] > 0.5
    t = t_from
    while t <= end_ns:
        is_last = finalize and t == end_ns
        k_grid = (t - start_ns) // tf_ns
        if risk_on and rstate[RS_FLATTEN] > 0.5:
            rstate[RS_FLATTEN] = 0.0
            for k in range(n_open):
                flat[open_order[k]] = 1
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
            if has_trade[p] == 0 and enter_long[r] != 1 and enter_short[r] != 1:
                continue  # nothing to do for this pair on this candle
            if has_trade[p] == 1 and emergency[r] == 1 and flat[p] == 0:
                flat[p] = 1
                if risk_on:
                    log_event(risk_log, rstate, t, p, RULE_EVENT, KIND_FLATTEN, math.nan, math.nan,
                              math.nan)
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
                had = has_trade[p] == 1
                had_short = had and st[TS_IS_SHORT] > 0.5
                # 1. open orders: timeouts
                if has_trade[p]:
                    if st[TS_ENTRY_OPEN] > 0.5:
                        timed = entry_to > 0.0 and st[TS_OPEN_DATE] < t - entry_to
                        if not timed and (cb_flags & CB_ENTRY_TIMEOUT):
                            timed = cb_check_entry_timeout(p, r, t)
                        if timed:
                            has_trade[p] = 0
                            st[TS_OPEN_ROW] = math.nan
                            tied_up -= st[TS_STAKE]
                            n_open = _remove(open_order, n_open, p)
                    elif st[TS_EXIT_OPEN] > 0.5:
                        timed = exit_to > 0.0 and st[TS_EXIT_DATE] < t - exit_to
                        if not timed and (cb_flags & CB_EXIT_TIMEOUT):
                            timed = cb_check_exit_timeout(p, r, t)
                        if timed:
                            st[TS_EXIT_OPEN] = 0.0
                # 1b. emergency flatten ordered by the risk engine: exit at this candle's open
                if flat[p]:
                    flat[p] = 0
                    if has_trade[p]:
                        if st[TS_ENTRY_OPEN] > 0.5:
                            has_trade[p] = 0
                            st[TS_OPEN_ROW] = math.nan
                        else:
                            _place_exit_order(st, o, t)
                            st[TS_EXIT_REASON] = EXIT_EMERGENCY
                            st[TS_EXIT_TAG] = 0
                            price = min(max(st[TS_EXIT_PRICE], lo), h)
                            pr = _close_trade(st, p, r, t, price, out, n_out)
                            closed_profit += pr
                            record_profit(profits, rstate, _trade_ratio(st, pr))
                            n_out += 1
                        tied_up -= st[TS_STAKE]
                        has_trade[p] = 0
                        n_open = _remove(open_order, n_open, p)
                        break
                # 2. entry
                if has_trade[p] == 0 and not is_last:
                    if direction != 0:
                        if n_open < max_open:
                            if risk_on:
                                entry_inputs(
                                    rin, p, k_grid, ts, open_order, n_open, grid_close, grid_ret,
                                    vol_row[r], asset_id, sector_id, closed_profit, rstate,
                                    order_times, profits.shape[0], t, regime_scale[k_grid - 1],
                                    params, rp,
                                )
                            ok = _try_enter(
                                p, r, t, direction < 0, ts, seq, o, h, lo, tick_dec, enter_tag,
                                params,
                                pair_limits, amount_dec, closed_profit, tied_up, cb_flags,
                                rp, rin, profits,
                            )
                            if ok < 0:
                                log_event(risk_log, rstate, t, p, -ok, KIND_DENIED, rin[RI_EQUITY],
                                          rin[RI_REQUESTED], 0.0)
                            if ok == 1:
                                if risk_on:
                                    record_order(order_times, rstate, t)
                                    if rin[RI_REDUCE_RULE] > 0:
                                        log_event(risk_log, rstate, t, p, rin[RI_REDUCE_RULE],
                                                  KIND_REDUCED, rin[RI_EQUITY], rin[RI_REQUESTED],
                                                  rin[RI_APPROVED])
                                seq += 1
                                has_trade[p] = 1
                                tied_up += st[TS_STAKE]
                                open_order[n_open] = p
                                n_open += 1
                        else:
                            rejected += 1
                if has_trade[p] == 0:
                    break
                # 3. entry order fill
                if st[TS_ENTRY_OPEN] > 0.5:
                    if lo <= st[TS_OPEN_RATE] <= h:
                        st[TS_ENTRY_OPEN] = 0.0
                    else:
                        break
                # 3b. take-profit brackets (partial exits)
                if risk_on:
                    realized, released, tp_price = take_profits(st, o, h, lo, amount_dec[p], params, rp)
                    closed_profit += realized
                    tied_up -= released
                    if not math.isnan(tp_price):
                        _place_exit_order(st, tp_price, t)
                        st[TS_EXIT_REASON] = EXIT_TAKE_PROFIT
                        st[TS_EXIT_TAG] = 0
                        price = min(max(st[TS_EXIT_PRICE], lo), h)
                        pr = _close_trade(st, p, r, t, price, out, n_out)
                        closed_profit += pr
                        record_profit(profits, rstate, _trade_ratio(st, pr))
                        n_out += 1
                        tied_up -= st[TS_STAKE]
                        has_trade[p] = 0
                        n_open = _remove(open_order, n_open, p)
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
                    pr = _close_trade(st, p, r, t, st[TS_EXIT_PRICE], out, n_out)
                    closed_profit += pr
                    if risk_on:
                        record_profit(profits, rstate, _trade_ratio(st, pr))
                    n_out += 1
                    tied_up -= st[TS_STAKE]
                    has_trade[p] = 0
                    n_open = _remove(open_order, n_open, p)
                if not (can_short and direction != 0 and had and has_trade[p] == 0):
                    break
                if (-1 if had_short else 1) == direction:
                    break
        if risk_on:
            end_of_candle(rstate, ts, open_order, n_open, grid_close, k_grid, t + tf_ns,
                          closed_profit, params, rp, risk_log, equity_out, state_out)
        t += tf_ns
    loop_f[LF_N_OPEN] = n_open
    loop_f[LF_N_SEEN] = n_seen
    loop_f[LF_CLOSED_PROFIT] = closed_profit
    loop_f[LF_TIED_UP] = tied_up
    loop_f[LF_N_OUT] = n_out
    loop_f[LF_REJECTED] = rejected
    loop_f[LF_SEQ] = seq
    if not finalize:
        return n_out, rejected
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
def _trade_ratio(st, final_profit):
    """Whole-trade profit ratio (partial legs included) of a just-closed trade, on its stake."""
    stake = st[TS_INITIAL_AMOUNT] * st[TS_OPEN_RATE] / st[TS_LEVERAGE]
    if not (stake > 0.0):
        return 0.0
    return (final_profit + st[TS_REALIZED]) / stake


@njit(cache=True)
def _remove(arr, n, value):
    """Remove ``value`` from ``arr[:n]`` keeping order; returns the new length."""
    j = 0
    for k in range(n):
        if arr[k] != value:
            arr[j] = arr[k]
            j += 1
    return j
