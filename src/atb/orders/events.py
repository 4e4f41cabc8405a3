"""Risk events: denial, reduction, trading-state change and emergency flatten (frozen records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from atb.orders.models import OrderIntent

__all__ = ["FlattenRequested", "OrderDenied", "OrderReduced", "RiskEvent", "TradingStateChanged"]


@dataclass(frozen=True, slots=True)
class OrderDenied:
    """The risk engine refused ``intent``; ``rule`` is a :data:`atb.risk.layout.RULE_NAMES` value."""

    intent: OrderIntent
    rule: str
    reason: str
    equity: float
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderReduced:
    """The risk engine approved ``intent`` with a smaller notional (quote currency)."""

    intent: OrderIntent
    rule: str
    requested_notional: float
    approved_notional: float
    equity: float
    at: datetime


@dataclass(frozen=True, slots=True)
class TradingStateChanged:
    """ACTIVE / REDUCING / HALTED transition and the rule that caused it."""

    old: str
    new: str
    rule: str
    equity: float
    at: datetime


@dataclass(frozen=True, slots=True)
class FlattenRequested:
    """Close open positions now (emergency exit) because ``rule`` was breached.

    ``pairs`` names the positions to close; empty means every open position.
    """

    rule: str
    equity: float
    at: datetime
    pairs: tuple[str, ...] = ()


RiskEvent = OrderDenied | OrderReduced | TradingStateChanged | FlattenRequested
