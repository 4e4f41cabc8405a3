"""``Trade`` and ``Order``: what strategy callbacks receive as ``trade`` / ``order``.

These are the compatibility surface of ``freqtrade.persistence.Trade`` / ``Order``: plain
mutable objects with freqtrade's attribute and method names, built by the engine from its own
state for each callback call (they are views, not the engine's records, and are never stored).
Units: prices/rates in quote currency, ``amount`` in base currency, ``stake_amount`` in quote
currency, fees and ``*_pct`` as ratios, dates tz-aware UTC ``datetime``.

Class-level queries (``Trade.get_trades_proxy``, ``get_open_trades``, ``get_open_trade_count``)
answer from a provider the engine installs for the duration of a run with
:func:`atb_trades_context` (or ``Trade.atb_trades_context``); outside one they answer "no
trades". Profit maths follow freqtrade 2026.9 (``../shared/parity/SPEC.md`` section 7):
``open_value = amount * open_rate * (1 + fee_open)``, ``close_value = amount * rate *
(1 - fee_close)``, computed exactly in decimal from the floats' shortest representations as
freqtrade's ``FtPrecise`` does; shorts mirror the fee signs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any, ClassVar

__all__ = ["Order", "Trade", "atb_trades_context"]

TradesProvider = Callable[[], Sequence["Trade"]]


class Order:
    """One order of a trade (freqtrade's ``Order`` attributes that strategies read).

    Parameters (all keyword, all optional)
    --------------------------------------
    ft_order_side : ``"buy"``/``"sell"``; side : same (exchange's view);
    order_type : ``"limit"``/``"market"``; status : ``"open"``/``"closed"``/``"canceled"``;
    price, average : quote currency; amount, filled, remaining : base currency;
    order_date, order_filled_date : UTC datetimes; ft_is_entry : bool; order_id : str;
    ft_pair : str; ft_order_tag : str or None. Other keywords are kept as attributes.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.ft_order_side: str = kwargs.pop("ft_order_side", "buy")
        self.side: str = kwargs.pop("side", self.ft_order_side)
        self.order_type: str = kwargs.pop("order_type", "limit")
        self.status: str = kwargs.pop("status", "closed")
        self.price: float | None = kwargs.pop("price", None)
        self.average: float | None = kwargs.pop("average", None)
        self.amount: float | None = kwargs.pop("amount", None)
        self.filled: float | None = kwargs.pop("filled", self.amount if self.status == "closed" else 0.0)
        self.remaining: float | None = kwargs.pop(
            "remaining", None if self.amount is None else self.amount - (self.filled or 0.0))
        self.order_date: datetime | None = kwargs.pop("order_date", None)
        self.order_filled_date: datetime | None = kwargs.pop("order_filled_date", None)
        self.ft_is_entry: bool = kwargs.pop("ft_is_entry", True)
        self.order_id: str = kwargs.pop("order_id", "")
        self.ft_pair: str = kwargs.pop("ft_pair", "")
        self.ft_order_tag: str | None = kwargs.pop("ft_order_tag", None)
        self.__dict__.update(kwargs)

    def __repr__(self) -> str:
        return (f"Order({self.ft_pair} {self.ft_order_side} {self.order_type} {self.status} "
                f"amount={self.amount} price={self.price})")

    @property
    def ft_is_open(self) -> bool:
        """Whether the order is still open on the exchange."""
        return self.status not in ("closed", "canceled", "cancelled", "expired", "rejected")

    @property
    def order_date_utc(self) -> datetime | None:
        """``order_date`` (UTC)."""
        return self.order_date

    @property
    def order_filled_utc(self) -> datetime | None:
        """``order_filled_date`` (UTC)."""
        return self.order_filled_date

    @property
    def safe_price(self) -> float:
        """Average fill price, else the limit price, else 0."""
        return self.average or self.price or 0.0

    @property
    def safe_amount(self) -> float:
        """Amount, or 0."""
        return self.amount or 0.0

    @property
    def safe_filled(self) -> float:
        """Filled amount (the whole amount for a closed order without ``filled``)."""
        return self.filled if self.filled is not None else (self.amount or 0.0)

    @property
    def safe_remaining(self) -> float:
        """Remaining amount."""
        return self.remaining if self.remaining is not None else self.safe_amount - self.safe_filled

    @property
    def cost(self) -> float:
        """``safe_filled * safe_price`` (quote currency)."""
        return self.safe_filled * self.safe_price

    safe_cost = cost


def _dec(x: float) -> Decimal:
    return Decimal(str(x))


class Trade:
    """A trade as strategy callbacks see it (freqtrade's attribute names).

    Keyword parameters (defaults in brackets): ``id`` [0], ``pair`` [""], ``is_short`` [False],
    ``open_rate`` [0.0], ``open_date`` [None], ``amount`` [0.0], ``stake_amount`` [0.0],
    ``leverage`` [1.0], ``fee_open``/``fee_close`` [0.0], ``enter_tag``, ``exit_reason``,
    ``stop_loss`` (price), ``stop_loss_pct`` (negative ratio), ``initial_stop_loss``,
    ``initial_stop_loss_pct``, ``max_rate``/``min_rate`` [open_rate], ``is_open`` [True],
    ``close_rate``, ``close_date``, ``close_profit``, ``close_profit_abs``, ``orders`` [[]],
    ``trading_mode`` ["spot"], ``funding_fees`` [0.0], ``exchange`` [""], ``timeframe``,
    ``realized_profit`` [0.0]. Other keywords are kept as attributes.
    """

    _atb_provider: ClassVar[TradesProvider | None] = None

    def __init__(self, **kwargs: Any) -> None:
        self.id: int = kwargs.pop("id", 0)
        self.pair: str = kwargs.pop("pair", "")
        self.is_short: bool = kwargs.pop("is_short", False)
        self.open_rate: float = kwargs.pop("open_rate", 0.0)
        self.open_date: datetime | None = kwargs.pop("open_date", None)
        self.amount: float = kwargs.pop("amount", 0.0)
        self.amount_requested: float = kwargs.pop("amount_requested", self.amount)
        self.stake_amount: float = kwargs.pop("stake_amount", 0.0)
        self.max_stake_amount: float = kwargs.pop("max_stake_amount", self.stake_amount)
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
        self.close_profit: float | None = kwargs.pop("close_profit", None)
        self.close_profit_abs: float | None = kwargs.pop("close_profit_abs", None)
        self.realized_profit: float = kwargs.pop("realized_profit", 0.0)
        self.orders: list[Order] = list(kwargs.pop("orders", []))
        self.trading_mode: str = str(kwargs.pop("trading_mode", "spot"))
        self.funding_fees: float = kwargs.pop("funding_fees", 0.0)
        self.liquidation_price: float | None = kwargs.pop("liquidation_price", None)
        self.exchange: str = kwargs.pop("exchange", "")
        self.timeframe: int | None = kwargs.pop("timeframe", None)
        self.strategy: str = kwargs.pop("strategy", "")
        self._custom_data: dict[str, Any] = dict(kwargs.pop("custom_data", {}))
        self.__dict__.update(kwargs)

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return (f"Trade(id={self.id}, pair={self.pair}, {self.trade_direction}, amount="
                f"{self.amount}, open_rate={self.open_rate}, {state})")

    # -- read-only views -------------------------------------------------------------------
    @property
    def open_date_utc(self) -> datetime | None:
        """``open_date`` (UTC)."""
        return self.open_date

    @property
    def close_date_utc(self) -> datetime | None:
        """``close_date`` (UTC)."""
        return self.close_date

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

    @property
    def stoploss_or_liquidation(self) -> float | None:
        """The stop price, or the liquidation price when it would trigger first."""
        if self.liquidation_price is None:
            return self.stop_loss
        if self.stop_loss is None:
            return self.liquidation_price
        pick = min if self.is_short else max
        return pick(self.stop_loss, self.liquidation_price)

    @property
    def open_orders(self) -> list[Order]:
        """Orders still open."""
        return [o for o in self.orders if o.ft_is_open]

    @property
    def has_open_orders(self) -> bool:
        """Whether an order of the trade is still open."""
        return bool(self.open_orders)

    def select_filled_orders(self, order_side: str | None = None) -> list[Order]:
        """Filled (closed, non-zero) orders, optionally of one side (``"buy"``/``"sell"``)."""
        return [o for o in self.orders if not o.ft_is_open and o.safe_filled > 0
                and (order_side is None or o.ft_order_side == order_side)]

    def select_order(self, order_side: str | None = None, is_open: bool | None = None) -> Order | None:
        """The latest order of ``order_side`` (and open state), or None."""
        for o in reversed(self.orders):
            if (order_side is None or o.ft_order_side == order_side) and (
                    is_open is None or o.ft_is_open == is_open):
                return o
        return None

    @property
    def nr_of_successful_entries(self) -> int:
        """Filled entry orders (1 for an open trade built without orders)."""
        if not self.orders:
            return 1
        return len(self.select_filled_orders(self.entry_side))

    @property
    def nr_of_successful_exits(self) -> int:
        """Filled exit orders (without orders: 0 while open, 1 once closed)."""
        if not self.orders:
            return 0 if self.is_open else 1
        return len(self.select_filled_orders(self.exit_side))

    @property
    def nr_of_successful_buys(self) -> int:
        """Legacy alias (spot): :attr:`nr_of_successful_entries`."""
        return self.nr_of_successful_entries

    # -- custom data -------------------------------------------------------------------------
    def set_custom_data(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` on this trade object (kept for this object only)."""
        self._custom_data[key] = value

    def get_custom_data(self, key: str, default: Any = None) -> Any:
        """Value stored with :meth:`set_custom_data`, else ``default``."""
        return self._custom_data.get(key, default)

    # -- profit maths ----------------------------------------------------------------------
    def _calc_open_trade_value(self, amount: float, open_rate: float) -> float:
        with localcontext() as ctx:
            ctx.prec = 60
            value = _dec(amount) * _dec(open_rate)
            fees = value * _dec(self.fee_open)
            return float(value - fees if self.is_short else value + fees)

    @property
    def open_trade_value(self) -> float:
        """Quote currency paid to open: ``amount * open_rate`` plus the open fee (minus for shorts)."""
        return self._calc_open_trade_value(self.amount, self.open_rate)

    def calc_close_trade_value(self, rate: float, amount: float | None = None) -> float:
        """Quote currency received at ``rate``: ``amount * rate`` minus the close fee (plus, shorts).

        Futures add funding fees (received for longs, paid back for shorts).
        """
        with localcontext() as ctx:
            ctx.prec = 60
            value = _dec(amount or self.amount) * _dec(rate)
            fees = value * _dec(self.fee_close or 0.0)
            close = float(value + fees if self.is_short else value - fees)
        if self.trading_mode == "futures":
            ff = self.funding_fees or 0.0
            return close - ff if self.is_short else close + ff
        return close

    def calc_profit(self, rate: float, amount: float | None = None,
                    open_rate: float | None = None) -> float:
        """Profit in quote currency at ``rate``, fees included, rounded to 8 decimals."""
        close = self.calc_close_trade_value(rate, amount)
        opened = (self.open_trade_value if amount is None or open_rate is None
                  else self._calc_open_trade_value(amount, open_rate))
        return round(opened - close if self.is_short else close - opened, 8)

    def calc_profit_ratio(self, rate: float, amount: float | None = None,
                          open_rate: float | None = None) -> float:
        """Profit ratio at ``rate``: ``(close / open value - 1) * leverage`` (shorts mirrored), 8 dp."""
        close = self.calc_close_trade_value(rate, amount)
        opened = (self.open_trade_value if amount is None and open_rate is None
                  else self._calc_open_trade_value(amount or self.amount, open_rate or self.open_rate))
        if opened == 0.0:
            return 0.0
        ratio = (1 - close / opened) if self.is_short else (close / opened - 1)
        return round(ratio * self.leverage, 8)

    # -- class-level queries ---------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def atb_trades_context(cls, provider: TradesProvider) -> Iterator[None]:
        """Answer the class-level queries from ``provider()`` inside the ``with`` block."""
        previous = cls._atb_provider
        cls._atb_provider = provider
        try:
            yield
        finally:
            cls._atb_provider = previous

    @classmethod
    def get_trades_proxy(cls, *, pair: str | None = None, is_open: bool | None = None,
                         open_date: datetime | None = None,
                         close_date: datetime | None = None) -> list[Trade]:
        """Trades known to the running engine, filtered like freqtrade.

        ``open_date``/``close_date`` keep trades opened/closed after that time.
        """
        provider = cls._atb_provider
        trades = list(provider()) if provider is not None else []
        return [t for t in trades
                if (pair is None or t.pair == pair)
                and (is_open is None or t.is_open == is_open)
                and (open_date is None or (t.open_date is not None and t.open_date > open_date))
                and (close_date is None or (t.close_date is not None and t.close_date > close_date))]

    @classmethod
    def get_open_trades(cls) -> list[Trade]:
        """Open trades of the running engine."""
        return cls.get_trades_proxy(is_open=True)

    @classmethod
    def get_open_trade_count(cls) -> int:
        """Number of open trades."""
        return len(cls.get_open_trades())

    @classmethod
    def get_total_closed_profit(cls) -> float:
        """Sum of ``close_profit_abs`` of the closed trades the engine reports (quote currency)."""
        return sum(t.close_profit_abs or 0.0 for t in cls.get_trades_proxy(is_open=False))


#: freqtrade's in-memory trade class has the same surface.
LocalTrade = Trade


def atb_trades_context(provider: TradesProvider) -> contextlib.AbstractContextManager[None]:
    """Context manager: ``Trade``'s class-level queries answer from ``provider()`` inside it.

    Examples
    --------
    >>> t = Trade(pair="BTC/USDT", open_rate=100.0, amount=1.0)
    >>> with atb_trades_context(lambda: [t]):
    ...     Trade.get_open_trade_count()
    1
    >>> Trade.get_open_trade_count()
    0
    """
    return Trade.atb_trades_context(provider)
