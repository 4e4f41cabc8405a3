"""Venue-side records of the exchange port: markets, balances, tickers, books, venue orders.

Frozen records; prices and amounts are ``Decimal`` (quote and base currency); times are UTC ms
(``int``) as the venues report them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from atb.core.enums import OrderSide, OrderType
from atb.orders.models import Fill
from atb.orders.state import OrderStatus

__all__ = ["Balance", "BookSnapshot", "Market", "Position", "Ticker", "TradeTick", "VenueOrder"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    """Trading rules of one pair on one venue (from ccxt's ``markets``).

    ``price_tick``/``amount_step`` are the smallest increments (quote / base currency);
    ``min_amount`` (base) and ``min_notional`` (quote) are the venue's minimums (0 when none);
    fees are ratios (0.001 = 0.1 %).
    """

    pair: str
    base: str
    quote: str
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal = Decimal(0)
    min_notional: Decimal = Decimal(0)
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    active: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """One currency of the account: ``free + used == total``."""

    currency: str
    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        """Free + used."""
        return self.free + self.used


@dataclass(frozen=True, slots=True, kw_only=True)
class Ticker:
    """Best bid/ask and last price, quote currency; ``timestamp`` UTC ms."""

    pair: str
    timestamp: int
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot:
    """Order book levels ``(price, amount)``, bids descending and asks ascending."""

    pair: str
    timestamp: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeTick:
    """One public trade: price (quote), amount (base), taker side, UTC ms."""

    pair: str
    timestamp: int
    price: Decimal
    amount: Decimal
    side: OrderSide
    trade_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """The venue's view of an order (what ``create/fetch/cancel_order`` return).

    ``status`` is mapped to :class:`~atb.orders.state.OrderStatus`; ``fills`` holds the executions
    the venue reported with this response (may be empty even when ``filled > 0``).
    """

    venue_order_id: str
    client_order_id: str
    pair: str
    side: OrderSide
    order_type: OrderType
    status: OrderStatus
    amount: Decimal
    filled: Decimal
    price: Decimal | None
    average: Decimal | None
    fee: Decimal
    timestamp: int
    fills: tuple[Fill, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A derivatives position (futures); spot venues report none."""

    pair: str
    is_short: bool
    amount: Decimal
    entry_price: Decimal
    leverage: Decimal = Decimal(1)
