"""``Trade`` and ``Order`` objects given to strategy callbacks (freqtrade's attribute names).

These are the compatibility surface of ``freqtrade.persistence.Trade``: plain mutable objects,
built by the engine from its own state for each callback call. Class-level queries
(``Trade.get_trades_proxy`` ...) answer from a provider installed with
:meth:`Trade.atb_trades_context` for the duration of a run; outside a run they return nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar

__all__ = ["Order", "Trade"]


class Order:
    """An order of a trade (subset of freqtrade's ``Order`` attributes)."""

    def __init__(self, **kwargs: Any) -> None:
        self.ft_order_side: str = kwargs.pop("ft_order_side", "buy")
        self.side = kwargs.pop("side", self.ft_order_side)
        self.order_type: str = kwargs.pop("order_type", "limit")
        self.status: str = kwargs.pop("status", "closed")
        self.price: float | None = kwargs.pop("price", None)
        self.amount: float | None = kwargs.pop("amount", None)
        self.filled: float | None = kwargs.pop("filled", self.amount)
        self.order_date: datetime | None = kwargs.pop("order_date", None)
        self.__dict__.update(kwargs)

    @property
    def safe_price(self) -> float:
        """Price, or 0.0 when unknown."""
        return self.price or 0.0


class Trade:
    """A trade as strategy callbacks see it.

    Attributes (freqtrade names): ``pair``, ``is_short``, ``open_rate``, ``open_date`` (UTC),
    ``amount`` (base currency), ``stake_amount`` (quote currency), ``leverage``, ``fee_open``,
    ``fee_close`` (ratios), ``enter_tag``, ``exit_reason``, ``stop_loss`` (price),
    ``stop_loss_pct`` (negative ratio), ``initial_stop_loss``, ``initial_stop_loss_pct``,
    ``max_rate``, ``min_rate``, ``is_open``, ``close_rate``, ``close_date``, ``orders``, ``id``.
    """

    _provider: ClassVar[Callable[[], list[Trade]] | None] = None

    def __init__(self, **kwargs: Any) -> None:
        self.id: int = kwargs.pop("id", 0)
        self.pair: str = kwargs.pop("pair", "")
        self.is_short: bool = kwargs.pop("is_short", False)
        self.open_rate: float = kwargs.pop("open_rate", 0.0)
        self.open_date: datetime | None = kwargs.pop("open_date", None)
        self.amount: float = kwargs.pop("amount", 0.0)
        self.stake_amount: float = kwargs.pop("stake_amount", 0.0)
        self.leverage: float = kwargs.pop("leverage", 1.0)
        self.fee_open: float = kwargs.pop("fee_open", 0.0)
        self.fee_close: float = kwargs.pop("fee_close", 0.0)
        self.enter_tag: str | None = kwargs.pop("enter_tag", None)
        self.exit_reason: str | None = kwargs.pop("exit_reason", None)
        self.stop_loss: float | None = kwargs.pop("stop_loss", None)
        self.stop_loss_pct: float | None = kwargs.pop("stop_loss_pct", None)
        self.initial_stop_loss: float | None = kwargs.pop("initial_stop_loss", None)
        self.initial_stop_loss_pct: float | None = kwargs.pop("initial_stop_loss_pct", None)
        self.max_rate: float | None = kwargs.pop("max_rate", self.open_rate)
        self.min_rate: float | None = kwargs.pop("min_rate", self.open_rate)
        self.is_open: bool = kwargs.pop("is_open", True)
        self.close_rate: float | None = kwargs.pop("close_rate", None)
        self.close_date: datetime | None = kwargs.pop("close_date", None)
        self.orders: list[Order] = kwargs.pop("orders", [])
        self.__dict__.update(kwargs)

    # -- freqtrade-compatible read-only views -----------------------------------------------
    @property
    def open_date_utc(self) -> datetime | None:
        """``open_date`` (already UTC)."""
        return self.open_date

    @property
    def close_date_utc(self) -> datetime | None:
        """``close_date`` (already UTC)."""
        return self.close_date

    @property
    def nr_of_successful_entries(self) -> int:
        """1 for a filled single-entry trade (position adjustment is not simulated)."""
        return 1

    @property
    def nr_of_successful_exits(self) -> int:
        """0 while open, 1 when closed."""
        return 0 if self.is_open else 1

    @property
    def has_open_orders(self) -> bool:
        """Whether an order of the trade is still open."""
        return any(o.status == "open" for o in self.orders)

    @property
    def open_orders(self) -> list[Order]:
        """Orders still open."""
        return [o for o in self.orders if o.status == "open"]

    @property
    def entry_side(self) -> str:
        """``"sell"`` for shorts, else ``"buy"``."""
        return "sell" if self.is_short else "buy"

    @property
    def exit_side(self) -> str:
        """``"buy"`` for shorts, else ``"sell"``."""
        return "buy" if self.is_short else "sell"

    @property
    def trade_direction(self) -> str:
        """``"short"`` or ``"long"``."""
        return "short" if self.is_short else "long"

    # -- profit maths (``../shared/parity/SPEC.md`` section 7) --------------------------------
    def _open_value(self) -> float:
        v = self.amount * self.open_rate
        return v - v * self.fee_open if self.is_short else v + v * self.fee_open

    def _close_value(self, rate: float) -> float:
        v = self.amount * rate
        return v + v * self.fee_close if self.is_short else v - v * self.fee_close

    def calc_profit(self, rate: float) -> float:
        """Profit in quote currency at ``rate``, fees included, rounded to 8 decimals."""
        diff = self._open_value() - self._close_value(rate) if self.is_short else (
            self._close_value(rate) - self._open_value())
        return float(f"{diff:.8f}")

    def calc_profit_ratio(self, rate: float) -> float:
        """Profit ratio at ``rate``: ``(close/open value - 1) * leverage``, rounded to 8 decimals."""
        ov = self._open_value()
        if ov == 0:
            return 0.0
        r = 1 - self._close_value(rate) / ov if self.is_short else self._close_value(rate) / ov - 1
        return float(f"{r * self.leverage:.8f}")

    # -- class-level queries -------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def atb_trades_context(cls, provider: Callable[[], list[Trade]]) -> Iterator[None]:
        """Answer class-level queries from ``provider`` inside the ``with`` block."""
        previous = cls._provider
        cls._provider = provider
        try:
            yield
        finally:
            cls._provider = previous

    @classmethod
    def get_trades_proxy(cls, *, pair: str | None = None, is_open: bool | None = None,
                         **_: Any) -> list[Trade]:
        """Trades known to the running engine (open ones during a backtest)."""
        trades = cls._provider() if cls._provider is not None else []
        return [t for t in trades if (pair is None or t.pair == pair)
                and (is_open is None or t.is_open == is_open)]

    @classmethod
    def get_open_trades(cls) -> list[Trade]:
        """Open trades of the running engine."""
        return cls.get_trades_proxy(is_open=True)

    @classmethod
    def get_open_trade_count(cls) -> int:
        """Number of open trades."""
        return len(cls.get_open_trades())
