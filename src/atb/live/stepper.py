"""The backtest's trade loop, one candle at a time: the live engine's decision core.

:class:`CandleStepper` keeps the kernel's own arrays (candles, signals, open-trade state ``ts``,
closed trades ``out`` and the resumable loop state) and runs
:func:`atb.backtest.kernels.simulate_nb.simulate_nb` for exactly one loop time per call. Entry
sizing (stake, wallet, minimums, amount rounding), the ROI table, stoploss, trailing stop, exit
signals, order timeouts and emergency exits are therefore not re-implemented anywhere: the paper
and live engines decide with the code the backtest runs. Each :meth:`~CandleStepper.step` returns
what changed: trades opened (:class:`EntryDecision`) and trades closed (:class:`ExitDecision`)
at the kernel's prices, which the engine turns into orders.

Rows follow the backtest's layout (``atb.backtest.prepare``): the row appended for candle ``t``
carries candle ``t``'s OHLC and the signals of candle ``t-1``. When an actual fill differs from
the kernel's price (live venues), :meth:`~CandleStepper.apply_entry_fill` writes the real open
rate and amount into the trade state, so later ROI/stop decisions use what really happened.

Limits: one block of ``capacity`` rows per pair (a :class:`~atb.errors.DataError` when full);
partial exits (take-profit brackets) and the kernel's risk arrays are not used here (the live
engine puts every order through :class:`~atb.risk.engine.RiskEngine` instead).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atb.backtest.kernels import records as rec
from atb.backtest.kernels.exit_nb import _close_trade, _exit_decision, _place_exit_order
from atb.backtest.kernels.simulate_nb import simulate_nb as _simulate_nb
from atb.backtest.markets import MarketInfo
from atb.backtest.risk_run import disabled_risk_arrays
from atb.backtest.settings import SimulationSettings
from atb.backtest.simulation import decode_trades, exit_reason_name, market_arrays, new_loop_state
from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError, DataError

__all__ = ["CandleStepper", "EntryDecision", "ExitDecision", "StepResult"]

_KERNEL: Any = _simulate_nb  # numba dispatcher (its type stub caps the argument count)

_SIG = ("enter_long", "exit_long", "enter_short", "exit_short", "emergency_exit")


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryDecision:
    """A trade the loop opened at loop time ``at_ns`` (UTC ns, the candle's open time).

    ``price`` is the entry rate (quote currency), ``amount`` the base amount, ``stake`` the stake
    (quote currency); ``filled`` is False while a limit entry rests unfilled.
    """

    pair: str
    at_ns: int
    is_short: bool
    price: float
    amount: float
    stake: float
    leverage: float
    tag: str
    filled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitDecision:
    """A trade the loop closed at ``at_ns`` with ``reason`` at ``price`` (quote currency)."""

    pair: str
    at_ns: int
    is_short: bool
    price: float
    amount: float
    reason: str
    open_rate: float
    open_ns: int
    profit_abs: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """Changes of one loop time: entries first, then exits (a trade may do both in one candle)."""

    at_ns: int
    entries: tuple[EntryDecision, ...]
    exits: tuple[ExitDecision, ...]
    rejected_signals: int


class CandleStepper:
    """Run the backtest kernel incrementally over candles appended one by one.

    Parameters
    ----------
    pairs : sequence of str
        Whitelist order (the kernel visits pairs without trades in this order).
    settings : SimulationSettings
        The strategy's exit rules, stake and wallet settings (as for a backtest).
    start_ns : int
        Open time (UTC ns) of the candle whose signals the first appended row carries; the first
        loop time is ``start_ns + tf``.
    markets : mapping pair -> MarketInfo, optional
        Amount step and limits (default: 1e-8 step, no limits).
    capacity : int
        Rows kept per pair.

    Raises
    ------
    ConfigError
        Empty pair list or capacity < 2.
    """

    def __init__(self, pairs: Sequence[str], settings: SimulationSettings, *, start_ns: int,
                 markets: Mapping[str, MarketInfo] | None = None, capacity: int = 50_000) -> None:
        if not pairs:
            raise ConfigError("stepper: 'pairs' is empty")
        if capacity < 2:
            raise ConfigError(f"stepper: invalid value for 'capacity': {capacity}")
        self.pairs = tuple(pairs)
        self._index = {p: i for i, p in enumerate(self.pairs)}
        n, self.capacity = len(self.pairs), capacity
        self.settings = settings
        self.tf_ns = timeframe_to_seconds(settings.timeframe) * 1_000_000_000
        self.start_ns = int(start_ns)
        self.next_t = self.start_ns + self.tf_ns
        size = n * capacity
        self.a: dict[str, np.ndarray] = {
            "date_ns": np.zeros(size, np.int64), "tick_dec": np.zeros(size, np.int64),
            "enter_tag": np.zeros(size, np.int64), "exit_tag": np.zeros(size, np.int64),
        }
        for c in ("open", "high", "low", "close"):
            self.a[c] = np.zeros(size, np.float64)
        for c in _SIG:
            self.a[c] = np.zeros(size, np.int8)
        self.pair_start = np.arange(n, dtype=np.int64) * capacity
        self.pair_len = np.zeros(n, dtype=np.int64)
        self.amount_dec, self.pair_limits = market_arrays(self.pairs, markets)
        self.ts = np.full((n, rec.TS_N), np.nan)
        self.out = np.zeros((max(64, 4 * n), rec.OUT_N))
        self.loop_i, self.loop_f = new_loop_state(n)
        self._risk = disabled_risk_arrays(n)
        self._roi = settings.roi_arrays()
        self._params = settings.params_vector()
        self.tags: list[str] = [""]
        self._tag_ids: dict[str, int] = {"": 0}

    # -- input ---------------------------------------------------------------------------------
    def _tag(self, tag: object) -> int:
        if tag is None or (isinstance(tag, float) and math.isnan(tag)) or tag == "":
            return 0
        s = str(tag)
        if s not in self._tag_ids:
            self._tag_ids[s] = len(self.tags)
            self.tags.append(s)
        return self._tag_ids[s]

    def append(self, pair: str, date_ns: int, open_: float, high: float, low: float, close: float,
               *, signals: Mapping[str, object] | None = None, tick_dec: int = 8) -> None:
        """Append candle ``date_ns`` of ``pair`` with the signals of the candle before it.

        ``signals`` holds any of ``enter_long, exit_long, enter_short, exit_short,
        emergency_exit`` (1 = set) and ``enter_tag``/``exit_tag`` (str or None); ``tick_dec``
        is the number of decimals of the pair's price tick.

        Raises
        ------
        DataError
            Unknown pair, a candle not after the pair's last one, or the pair's block is full.
        """
        p = self._index.get(pair)
        if p is None:
            raise DataError(f"stepper: unknown pair {pair!r}")
        i = int(self.pair_len[p])
        if i >= self.capacity:
            raise DataError(f"stepper: {pair} holds {self.capacity} candles (capacity); restart "
                            "the engine with a larger capacity")
        r = int(self.pair_start[p]) + i
        if i and date_ns <= self.a["date_ns"][r - 1]:
            raise DataError(f"stepper: {pair} candle {date_ns} is not after the previous one")
        a, sig = self.a, signals or {}
        a["date_ns"][r] = date_ns
        a["open"][r], a["high"][r], a["low"][r], a["close"][r] = open_, high, low, close
        for c in _SIG:
            v = sig.get(c, 0)
            a[c][r] = 1 if v is not None and not (isinstance(v, float) and math.isnan(v)) and v == 1 else 0
        a["enter_tag"][r] = self._tag(sig.get("enter_tag"))
        a["exit_tag"][r] = self._tag(sig.get("exit_tag"))
        a["tick_dec"][r] = tick_dec
        self.pair_len[p] = i + 1

    # -- the loop ------------------------------------------------------------------------------
    def step(self, t_ns: int | None = None, *, provisional: bool = False) -> StepResult:
        """Run the loop for loop time ``t_ns`` (default: the next one) and report the changes.

        ``provisional``: live mode at the candle's open, on a row holding only the open price.
        Entries and exits that happen at the open are taken; the exit-rule state of trades that
        stay open (max/min rate, trailing stop) is restored afterwards, so the whole candle is
        applied once, later (:meth:`probe_exit` / :meth:`finish_candle`), as the backtest does.

        Raises
        ------
        DataError
            ``t_ns`` is not the next loop time.
        """
        t = self.next_t if t_ns is None else int(t_ns)
        if t != self.next_t:
            raise DataError(f"stepper: loop time {t} is not the next one ({self.next_t})")
        n_pairs = len(self.pairs)
        n_out0 = int(self.loop_f[rec.LF_N_OUT])
        rej0 = int(self.loop_f[rec.LF_REJECTED])
        if self.out.shape[0] - n_out0 < 2 * n_pairs + 2:
            grown = np.zeros((2 * self.out.shape[0], rec.OUT_N))
            grown[: self.out.shape[0]] = self.out
            self.out = grown
        held = {p: self.ts[p].copy() for p in range(n_pairs)
                if provisional and self.loop_i[p, rec.LI_HAS_TRADE] == 1}
        a = self.a
        roi_keys, roi_vals = self._roi
        n_out, rejected = _KERNEL(
            a["date_ns"], a["open"], a["high"], a["low"], a["close"], a["enter_long"],
            a["exit_long"], a["enter_short"], a["exit_short"], a["emergency_exit"],
            a["enter_tag"], a["exit_tag"], a["tick_dec"], self.pair_start, self.pair_len,
            self.amount_dec, self.pair_limits, self.start_ns, t, self.tf_ns, roi_keys, roi_vals,
            self._params, 0, self.ts, self.out, *self._risk.kernel_args(), self.loop_i,
            self.loop_f, t, False,
        )
        self.next_t = t + self.tf_ns
        for p, row in held.items():
            same = self.ts[p, rec.TS_OPEN_DATE] == row[rec.TS_OPEN_DATE]
            if self.loop_i[p, rec.LI_HAS_TRADE] == 1 and same:
                self.ts[p] = row
        entries: list[EntryDecision] = []
        exits: list[ExitDecision] = []
        for o in self.out[n_out0:n_out]:
            pair = self.pairs[int(o[rec.OUT_PAIR])]
            if int(o[rec.OUT_OPEN_DATE]) == t:
                entries.append(self._entry_from_out(pair, o, t))
            exits.append(self._exit_from_out(pair, o))
        for p in range(n_pairs):
            st = self.ts[p]
            if self.loop_i[p, rec.LI_HAS_TRADE] == 1 and int(st[rec.TS_OPEN_DATE]) == t:
                entries.append(EntryDecision(
                    pair=self.pairs[p], at_ns=t, is_short=bool(st[rec.TS_IS_SHORT] > 0.5),
                    price=float(st[rec.TS_OPEN_RATE]), amount=float(st[rec.TS_AMOUNT]),
                    stake=float(st[rec.TS_STAKE]), leverage=float(st[rec.TS_LEVERAGE]),
                    tag=self.tags[int(st[rec.TS_ENTER_TAG])], filled=not st[rec.TS_ENTRY_OPEN] > 0.5))
        entries.sort(key=lambda e: float(self.ts[self._index[e.pair], rec.TS_SEQ])
                     if not math.isnan(self.ts[self._index[e.pair], rec.TS_SEQ]) else -1.0)
        return StepResult(at_ns=t, entries=tuple(entries), exits=tuple(exits),
                          rejected_signals=int(rejected) - rej0)

    def _entry_from_out(self, pair: str, o: np.ndarray, t: int) -> EntryDecision:
        lev = float(o[rec.OUT_LEVERAGE])
        amount = float(o[rec.OUT_INITIAL_AMOUNT]) or float(o[rec.OUT_AMOUNT])
        return EntryDecision(pair=pair, at_ns=t, is_short=bool(o[rec.OUT_IS_SHORT] > 0.5),
                             price=float(o[rec.OUT_OPEN_RATE]), amount=amount,
                             stake=float(o[rec.OUT_STAKE]), leverage=lev,
                             tag=self.tags[int(o[rec.OUT_ENTER_TAG])], filled=True)

    def _exit_from_out(self, pair: str, o: np.ndarray) -> ExitDecision:
        reason = exit_reason_name(int(o[rec.OUT_EXIT_REASON]), int(o[rec.OUT_EXIT_TAG]), self.tags)
        return ExitDecision(pair=pair, at_ns=int(o[rec.OUT_CLOSE_DATE]),
                            is_short=bool(o[rec.OUT_IS_SHORT] > 0.5), price=float(o[rec.OUT_CLOSE_RATE]),
                            amount=float(o[rec.OUT_AMOUNT]), reason=reason,
                            open_rate=float(o[rec.OUT_OPEN_RATE]), open_ns=int(o[rec.OUT_OPEN_DATE]),
                            profit_abs=float(o[rec.OUT_PROFIT_ABS]))

    # -- state ---------------------------------------------------------------------------------
    def has_trade(self, pair: str) -> bool:
        """True when the loop holds an open trade for ``pair``."""
        return bool(self.loop_i[self._index[pair], rec.LI_HAS_TRADE] == 1)

    def apply_entry_fill(self, pair: str, *, open_rate: float, amount: float) -> None:
        """Replace the kernel's entry rate and amount of ``pair``'s open trade by the real fill.

        Stop and value fields are recomputed from the new open rate (long: stop = rate x (1 +
        stoploss); short: rate x (1 - stoploss)), as the kernel sets them at entry.

        Raises
        ------
        DataError
            ``pair`` has no open trade.
        """
        p = self._index[pair]
        if self.loop_i[p, rec.LI_HAS_TRADE] != 1:
            raise DataError(f"stepper: {pair} has no open trade to apply a fill to")
        st = self.ts[p]
        if st[rec.TS_OPEN_RATE] == open_rate and st[rec.TS_AMOUNT] == amount:
            return
        short = st[rec.TS_IS_SHORT] > 0.5
        fee = float(st[rec.TS_FEE_OPEN])
        ratio = open_rate / float(st[rec.TS_OPEN_RATE])
        for col in (rec.TS_STOP, rec.TS_INITIAL_STOP):
            if not math.isnan(st[col]):
                st[col] = st[col] * ratio
        st[rec.TS_OPEN_RATE] = open_rate
        st[rec.TS_AMOUNT] = amount
        st[rec.TS_INITIAL_AMOUNT] = amount
        st[rec.TS_MAX_RATE] = max(float(st[rec.TS_MAX_RATE]), open_rate)
        st[rec.TS_MIN_RATE] = min(float(st[rec.TS_MIN_RATE]), open_rate)
        st[rec.TS_OPEN_VALUE] = amount * open_rate * ((1.0 - fee) if short else (1.0 + fee))
        stake = amount * open_rate / float(st[rec.TS_LEVERAGE])
        self.loop_f[rec.LF_TIED_UP] += stake - float(st[rec.TS_STAKE])
        st[rec.TS_STAKE] = stake

    def closed_trades(self) -> pd.DataFrame:
        """Trades closed so far, in the backtest's trades-table format."""
        n = int(self.loop_f[rec.LF_N_OUT])
        return decode_trades(self.out[:n], self.pairs, self.tags)

    def _trailing_params(self) -> np.ndarray:
        q = self._params
        return np.array([q[rec.P_USE_CUSTOM_STOPLOSS], q[rec.P_TRAILING_STOP], q[rec.P_ONLY_OFFSET],
                         q[rec.P_TRAILING_OFFSET], q[rec.P_TRAILING_POSITIVE]])

    def _decide(self, p: int, st: np.ndarray, t_ns: int, open_: float, high: float, low: float,
                close: float) -> None:
        roi_keys, roi_vals = self._roi
        r = int(self.pair_start[p] + max(self.pair_len[p] - 1, 0))
        short = st[rec.TS_IS_SHORT] > 0.5
        a = self.a
        enter_sig = (a["enter_short"][r] if short else a["enter_long"][r]) == 1
        exit_sig = (a["exit_short"][r] if short else a["exit_long"][r]) == 1
        _exit_decision(p, r, t_ns, st, open_, high, low, close, enter_sig, exit_sig,
                       int(a["exit_tag"][r]), roi_keys, roi_vals, self._params,
                       self._trailing_params(), 0, np.zeros(4, np.int64), np.zeros(4, np.int64))

    def finish_candle(self, pair: str, t_ns: int, open_: float, high: float, low: float,
                      close: float) -> ExitDecision | None:
        """Apply the whole closed candle ``t_ns`` to ``pair``'s open trade (live mode).

        The kernel's exit decision runs on the real trade state (max/min rates, trailing stop,
        as the backtest updates them on the candle); an exit it takes inside the candle closes
        the trade (returned), one it cannot fill stays open in the state as in the backtest.
        """
        p = self._index[pair]
        if self.loop_i[p, rec.LI_HAS_TRADE] != 1 or self.ts[p, rec.TS_ENTRY_OPEN] > 0.5:
            return None
        st = self.ts[p]
        self._decide(p, st, t_ns, open_, high, low, close)
        price = float(st[rec.TS_EXIT_PRICE])
        if st[rec.TS_EXIT_OPEN] > 0.5 and low <= price <= high:
            return self.close_trade(pair, t_ns, price, int(st[rec.TS_EXIT_REASON]))
        return None

    def probe_exit(self, pair: str, t_ns: int, open_: float, high: float, low: float,
                   close: float) -> tuple[float, str, int] | None:
        """Would the loop exit ``pair``'s open trade on this (forming) candle? Nothing changes.

        Runs the kernel's exit decision on a copy of the trade state with the candle ``t_ns``
        (open time, UTC ns) seen so far and the signals of the pair's newest row (as the loop
        does). Returns ``(price, reason, reason_code)`` of the exit the loop would take inside
        the candle, or None.
        """
        p = self._index[pair]
        if self.loop_i[p, rec.LI_HAS_TRADE] != 1 or self.ts[p, rec.TS_ENTRY_OPEN] > 0.5:
            return None
        st = self.ts[p].copy()
        self._decide(p, st, t_ns, open_, high, low, close)
        price = float(st[rec.TS_EXIT_PRICE])
        if st[rec.TS_EXIT_OPEN] > 0.5 and low <= price <= high:
            code = int(st[rec.TS_EXIT_REASON])
            return price, rec.EXIT_REASON_NAMES.get(code, "other"), code
        return None

    def close_trade(self, pair: str, t_ns: int, price: float, reason_code: int) -> ExitDecision:
        """Close ``pair``'s open trade at ``price`` now (an exit decided between two loop steps).

        The trade is written to the closed trades and the loop's wallet is updated exactly as
        the kernel does when it fills an exit (``_close_trade`` and the loop's bookkeeping).

        Raises
        ------
        DataError
            ``pair`` has no open trade.
        """
        p = self._index[pair]
        if self.loop_i[p, rec.LI_HAS_TRADE] != 1:
            raise DataError(f"stepper: {pair} has no open trade to close")
        if self.out.shape[0] - int(self.loop_f[rec.LF_N_OUT]) < 2:
            grown = np.zeros((2 * self.out.shape[0], rec.OUT_N))
            grown[: self.out.shape[0]] = self.out
            self.out = grown
        st = self.ts[p]
        if not (st[rec.TS_EXIT_OPEN] > 0.5 and st[rec.TS_EXIT_PRICE] == price):
            _place_exit_order(st, price, t_ns)
        st[rec.TS_EXIT_REASON] = reason_code
        st[rec.TS_EXIT_TAG] = 0
        n_out = int(self.loop_f[rec.LF_N_OUT])
        r = int(self.pair_start[p] + max(self.pair_len[p] - 1, 0))
        stake = float(st[rec.TS_STAKE])
        profit = _close_trade(st, p, r, t_ns, float(st[rec.TS_EXIT_PRICE]), self.out, n_out)
        self.loop_f[rec.LF_N_OUT] = n_out + 1
        self.loop_f[rec.LF_CLOSED_PROFIT] += profit
        self.loop_f[rec.LF_TIED_UP] -= stake
        self.loop_i[p, rec.LI_HAS_TRADE] = 0
        n_open = int(self.loop_f[rec.LF_N_OPEN])
        order = [int(q) for q in self.loop_i[:n_open, rec.LI_OPEN_ORDER] if int(q) != p]
        self.loop_i[: len(order), rec.LI_OPEN_ORDER] = order
        self.loop_f[rec.LF_N_OPEN] = len(order)
        return self._exit_from_out(pair, self.out[n_out])

    def set_last_ohlc(self, pair: str, open_: float, high: float, low: float, close: float) -> None:
        """Overwrite the prices of ``pair``'s newest row.

        Live mode steps a provisional row at the candle's open; the real candle replaces it.
        """
        p = self._index[pair]
        if self.pair_len[p] == 0:
            return
        r = int(self.pair_start[p] + self.pair_len[p] - 1)
        self.a["open"][r], self.a["high"][r], self.a["low"][r], self.a["close"][r] = open_, high, low, close

    def open_trade_pairs(self) -> tuple[str, ...]:
        """Pairs with an open trade, in opening order."""
        n_open = int(self.loop_f[rec.LF_N_OPEN])
        return tuple(self.pairs[int(p)] for p in self.loop_i[:n_open, rec.LI_OPEN_ORDER])
