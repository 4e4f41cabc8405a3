"""The slow path: the simulation kernel run as Python with strategy callbacks bound.

Strategies that override per-trade callbacks (``custom_stoploss``, ``custom_exit``,
``custom_stake_amount``, ``confirm_trade_entry/exit``, ``custom_entry_price``,
``custom_exit_price``, ``leverage``, ``check_entry/exit_timeout``) cannot run inside compiled
numba code. Instead of a second implementation of the loop, the very same kernel functions are
re-created from their Python code objects with the ``cb_*`` names bound to adapters below; the
rules therefore stay identical and only the speed differs. Callback exceptions are caught and the
default is used, as freqtrade's ``strategy_safe_wrapper`` does.
"""

from __future__ import annotations

import logging
import math
import types
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from atb.backtest.kernels import records as rec

__all__ = ["CALLBACK_FLAGS", "CallbackAdapter", "callback_flags", "make_python_kernel"]

logger = logging.getLogger(__name__)

#: Strategy method name -> kernel flag.
CALLBACK_FLAGS: dict[str, int] = {
    "custom_stoploss": rec.CB_CUSTOM_STOPLOSS,
    "custom_exit": rec.CB_CUSTOM_EXIT,
    "custom_stake_amount": rec.CB_CUSTOM_STAKE,
    "confirm_trade_entry": rec.CB_CONFIRM_ENTRY,
    "confirm_trade_exit": rec.CB_CONFIRM_EXIT,
    "custom_entry_price": rec.CB_ENTRY_PRICE,
    "custom_exit_price": rec.CB_EXIT_PRICE,
    "leverage": rec.CB_LEVERAGE,
    "check_entry_timeout": rec.CB_ENTRY_TIMEOUT,
    "check_exit_timeout": rec.CB_EXIT_TIMEOUT,
}

_REASON_NAMES = rec.EXIT_REASON_NAMES


def callback_flags(strategy: Any) -> int:
    """Bit mask of the callbacks the strategy overrides (0 = the compiled fast path applies)."""
    flags = 0
    for name, flag in CALLBACK_FLAGS.items():
        if strategy.atb_overridden(name):
            if name == "custom_stoploss" and not getattr(strategy, "use_custom_stoploss", False):
                continue
            flags |= flag
    return flags


def make_python_kernel(bindings: dict[str, Callable[..., Any]]) -> Callable[..., tuple[int, int]]:
    """Re-create ``simulate_nb`` and its entry/exit helpers as Python with ``bindings`` as globals.

    Every ``@njit`` function defined in the loop, entry and exit kernel modules is rebuilt from
    its ``py_func`` code object over one shared globals dict, so calls between them stay in
    Python and reach the bound callbacks; pure helpers (rounding, stops) remain compiled.
    """
    from atb.backtest.kernels import entry_nb, exit_nb
    from atb.backtest.kernels import simulate_nb as loop_nb

    modules = (entry_nb, exit_nb, loop_nb)
    g: dict[str, Any] = {}
    for module in modules:
        g.update(vars(module))
    g.update(bindings)
    for module in modules:
        for name, obj in list(vars(module).items()):
            py = getattr(obj, "py_func", None)
            if py is not None and getattr(py, "__module__", None) == module.__name__:
                g[name] = types.FunctionType(py.__code__, g, name, py.__defaults__, py.__closure__)
    return g["simulate_nb"]


class CallbackAdapter:
    """Bridge between kernel callback calls (numbers) and strategy methods (objects).

    Parameters
    ----------
    strategy : IStrategy
        The loaded strategy.
    pairs : sequence of str
        Whitelist in kernel order.
    dates_ns : int64 array
        Row dates of the kernel input (to turn row indices into datetimes).
    tags : list of str
        Tag table shared with the kernel input; custom exit reasons are appended.
    state : float64 array (n_pairs, TS_N)
        The kernel's open-trade state matrix (read to build ``Trade`` objects).
    trade_cls : type
        The freqtrade-compatible ``Trade`` class given to callbacks.
    """

    def __init__(
        self,
        strategy: Any,
        pairs: tuple[str, ...],
        dates_ns: np.ndarray,
        tags: list[str],
        state: np.ndarray,
        trade_cls: type,
    ) -> None:
        self.strategy = strategy
        self.pairs = pairs
        self.dates_ns = dates_ns
        self.tags = tags
        self._tag_ids = {t: i for i, t in enumerate(tags)}
        self.state = state
        self.trade_cls = trade_cls
        self.errors = 0

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _dt(t_ns: int) -> datetime:
        return pd.Timestamp(int(t_ns), tz="UTC").to_pydatetime()

    def _tag(self, tag_id: int) -> str | None:
        return self.tags[int(tag_id)] or None if tag_id > 0 else None

    def _tag_id(self, text: str) -> int:
        if text not in self._tag_ids:
            self._tag_ids[text] = len(self.tags)
            self.tags.append(text)
        return self._tag_ids[text]

    def trade(self, p: int) -> Any:
        """A ``Trade`` view of the open trade of pair index ``p``."""
        st = self.state[p]
        stop = None if math.isnan(st[rec.TS_STOP]) else float(st[rec.TS_STOP])
        return self.trade_cls(
            id=int(st[rec.TS_SEQ]) + 1,
            pair=self.pairs[p],
            is_short=bool(st[rec.TS_IS_SHORT] > 0.5),
            open_rate=float(st[rec.TS_OPEN_RATE]),
            open_date=self._dt(int(st[rec.TS_OPEN_DATE])),
            amount=float(st[rec.TS_AMOUNT]),
            stake_amount=float(st[rec.TS_STAKE]),
            leverage=float(st[rec.TS_LEVERAGE]),
            fee_open=float(st[rec.TS_FEE_OPEN]),
            fee_close=float(st[rec.TS_FEE_CLOSE]),
            enter_tag=self._tag(int(st[rec.TS_ENTER_TAG])),
            stop_loss=stop,
            stop_loss_pct=float(st[rec.TS_STOP_PCT]),
            initial_stop_loss=float(st[rec.TS_INITIAL_STOP]),
            initial_stop_loss_pct=float(self.strategy.stoploss),
            max_rate=float(st[rec.TS_MAX_RATE]),
            min_rate=float(st[rec.TS_MIN_RATE]),
            is_open=True,
        )

    def open_trades(self) -> list[Any]:
        """All open trades (for ``Trade.get_trades_proxy`` inside callbacks)."""
        rows = np.nonzero(~np.isnan(self.state[:, rec.TS_OPEN_ROW]))[0]
        order = sorted(rows, key=lambda p: self.state[p, rec.TS_SEQ])
        return [self.trade(int(p)) for p in order]

    def _safe(self, name: str, default: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.strategy, name)(**kwargs)
        except Exception:  # noqa: BLE001 - strategy code: keep going like freqtrade does
            self.errors += 1
            logger.exception("strategy callback %s failed; using the default", name)
            return default

    # -- kernel callbacks ---------------------------------------------------------------------
    def custom_stoploss(self, p: int, row: int, t_ns: int, rate: float, profit: float) -> float:
        """``custom_stoploss``: new stop ratio or nan."""
        v = self._safe(
            "custom_stoploss", None, pair=self.pairs[p], trade=self.trade(p),
            current_time=self._dt(t_ns), current_rate=rate, current_profit=profit, after_fill=False,
        )
        return math.nan if v is None else float(v)

    def custom_exit(self, p: int, row: int, t_ns: int, rate: float, profit: float) -> int:
        """``custom_exit``: 0, -1 (no reason) or a tag id."""
        v = self._safe(
            "custom_exit", None, pair=self.pairs[p], trade=self.trade(p),
            current_time=self._dt(t_ns), current_rate=rate, current_profit=profit,
        )
        if not v:
            return 0
        if isinstance(v, str):
            return self._tag_id(v[:255])
        return -1

    def custom_stake(
        self, p: int, row: int, t_ns: int, rate: float, proposed: float, min_stake: float,
        max_stake: float, leverage: float, is_short: int, enter_tag: int,
    ) -> float:
        """``custom_stake_amount``: stake in quote currency."""
        v = self._safe(
            "custom_stake_amount", proposed, pair=self.pairs[p], current_time=self._dt(t_ns),
            current_rate=rate, proposed_stake=proposed,
            min_stake=None if math.isnan(min_stake) else min_stake, max_stake=max_stake,
            leverage=leverage, entry_tag=self._tag(enter_tag),
            side="short" if is_short else "long",
        )
        return math.nan if v is None else float(v)

    def confirm_entry(
        self, p: int, row: int, t_ns: int, amount: float, rate: float, is_short: int, tag: int
    ) -> bool:
        """``confirm_trade_entry``."""
        return bool(self._safe(
            "confirm_trade_entry", True, pair=self.pairs[p],
            order_type=self.strategy.order_types.get("entry", "limit"), amount=amount, rate=rate,
            time_in_force="GTC", current_time=self._dt(t_ns), entry_tag=self._tag(tag),
            side="short" if is_short else "long",
        ))

    def _reason(self, reason: int, tag: int) -> str:
        if tag > 0:
            return self.tags[tag]
        return _REASON_NAMES.get(int(reason), "exit_signal")

    def confirm_exit(
        self, p: int, row: int, t_ns: int, amount: float, rate: float, reason: int, tag: int
    ) -> bool:
        """``confirm_trade_exit``."""
        why = self._reason(reason, tag)
        return bool(self._safe(
            "confirm_trade_exit", True, pair=self.pairs[p], trade=self.trade(p),
            order_type=self.strategy.order_types.get("exit", "limit"), amount=amount, rate=rate,
            time_in_force="GTC", exit_reason=why, sell_reason=why, current_time=self._dt(t_ns),
        ))

    def entry_price(
        self, p: int, row: int, t_ns: int, proposed: float, is_short: int, tag: int
    ) -> float:
        """``custom_entry_price``: limit price or nan."""
        v = self._safe(
            "custom_entry_price", proposed, pair=self.pairs[p], trade=None,
            current_time=self._dt(t_ns), proposed_rate=proposed, entry_tag=self._tag(tag),
            side="short" if is_short else "long",
        )
        return math.nan if v is None else float(v)

    def exit_price(
        self, p: int, row: int, t_ns: int, proposed: float, profit: float, reason: int, tag: int
    ) -> float:
        """``custom_exit_price``: limit price or nan."""
        v = self._safe(
            "custom_exit_price", proposed, pair=self.pairs[p], trade=self.trade(p),
            current_time=self._dt(t_ns), proposed_rate=proposed, current_profit=profit,
            exit_tag=self._reason(reason, tag),
        )
        return math.nan if v is None else float(v)

    def leverage(
        self, p: int, row: int, t_ns: int, rate: float, max_leverage: float, is_short: int,
        tag: int,
    ) -> float:
        """``leverage``: leverage for a new trade."""
        v = self._safe(
            "leverage", 1.0, pair=self.pairs[p], current_time=self._dt(t_ns), current_rate=rate,
            proposed_leverage=1.0, max_leverage=max_leverage, entry_tag=self._tag(tag),
            side="short" if is_short else "long",
        )
        return 1.0 if v is None else float(v)

    def entry_timeout(self, p: int, row: int, t_ns: int) -> bool:
        """``check_entry_timeout``."""
        return bool(self._safe(
            "check_entry_timeout", False, pair=self.pairs[p], trade=self.trade(p), order=None,
            current_time=self._dt(t_ns),
        ))

    def exit_timeout(self, p: int, row: int, t_ns: int) -> bool:
        """``check_exit_timeout``."""
        return bool(self._safe(
            "check_exit_timeout", False, pair=self.pairs[p], trade=self.trade(p), order=None,
            current_time=self._dt(t_ns),
        ))

    def bindings(self) -> dict[str, Callable[..., Any]]:
        """Kernel global name -> bound adapter method."""
        return {
            "cb_custom_stoploss": self.custom_stoploss,
            "cb_custom_exit": self.custom_exit,
            "cb_custom_stake": self.custom_stake,
            "cb_confirm_entry": self.confirm_entry,
            "cb_confirm_exit": self.confirm_exit,
            "cb_custom_entry_price": self.entry_price,
            "cb_custom_exit_price": self.exit_price,
            "cb_leverage": self.leverage,
            "cb_check_entry_timeout": self.entry_timeout,
            "cb_check_exit_timeout": self.exit_timeout,
        }
