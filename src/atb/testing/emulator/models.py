"""Records of the emulator's matching engine: symbol rules, quotes, candles, orders, fills, events.

Prices are quote currency, quantities base currency, all ``Decimal``; times are UTC ms.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_FLOOR, Decimal

__all__ = ["OPEN_STATUSES", "Candle", "EmuFill", "EmuOrder", "OrderEvent", "OrderRequest", "Quote",
           "Reject", "SymbolRules"]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


class Reject(Exception):  # noqa: N818 - Binance's name for a rejected request
    """A request Binance would reject: ``code``/``msg`` are Binance's error body, ``status`` HTTP."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolRules:
    """Trading rules of one symbol: tick (quote), lot step and minimum (base), min notional (quote)."""

    pair: str
    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal = Decimal(5)
    max_qty: Decimal = Decimal(9_000_000)

    def floor_price(self, price: Decimal) -> Decimal:
        """Round a price down to the tick."""
        return (price / self.tick).to_integral_value(ROUND_FLOOR) * self.tick

    def floor_qty(self, qty: Decimal) -> Decimal:
        """Round a quantity down to the lot step."""
        return (qty / self.step).to_integral_value(ROUND_DOWN) * self.step


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of the synthetic book: best bid and ask (quote currency)."""

    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle's prices (quote currency), used to match resting orders."""

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A validated ``POST /api/v3/order``; ``side``/``type``/``time_in_force`` in Binance spelling."""

    symbol: str
    side: str
    type: str
    client_order_id: str
    quantity: Decimal | None = None
    quote_order_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmuFill:
    """One execution of an order (a row of ``myTrades`` and of ``fills``)."""

    trade_id: int
    order_id: int
    symbol: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    @property
    def quote_qty(self) -> Decimal:
        """Price * qty (quote currency)."""
        return self.price * self.qty


@dataclass(slots=True, kw_only=True)
class EmuOrder:
    """The emulator's mutable order record (Binance statuses: NEW, FILLED, CANCELED, EXPIRED)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str | None
    price: Decimal | None
    stop_price: Decimal | None
    orig_qty: Decimal
    time: int
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumm_quote: Decimal = Decimal(0)
    update_time: int = 0
    locked: Decimal = Decimal(0)
    triggered: bool = False
    fills: list[EmuFill] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED."""
        return self.status in OPEN_STATUSES

    def snapshot(self) -> EmuOrder:
        """A copy whose later changes do not show through."""
        out = copy.copy(self)
        out.fills = list(self.fills)
        return out


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One order update for the user data stream (``executionType`` NEW/TRADE/CANCELED/EXPIRED)."""

    execution_type: str
    order: EmuOrder
    fill: EmuFill | None = None
