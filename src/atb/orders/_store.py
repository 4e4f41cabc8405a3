"""Rules every :class:`~atb.orders.ports.OrderStore` adapter shares (ids, update checks)."""

from __future__ import annotations

import hashlib
import secrets

from atb.errors import PersistenceError
from atb.orders.models import Fill, Order
from atb.orders.records import LiveTrade
from atb.orders.state import OrderStatus, check_transition

__all__ = ["NON_TERMINAL", "check_fill", "check_order_update", "check_trade_update", "format_client_order_id",
           "new_store_tag"]

#: Statuses :meth:`~atb.orders.ports.OrderStore.open_orders` returns.
NON_TERMINAL: frozenset[OrderStatus] = frozenset({OrderStatus.NEW, OrderStatus.SUBMITTED,
                                                  OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def new_store_tag() -> str:
    """Four random base-36 characters, drawn once per strategy counter."""
    return "".join(secrets.choice(_DIGITS) for _ in range(4))


def format_client_order_id(strategy_id: str, tag: str, seq: int) -> str:
    """``atb-<8 hex of sha256(strategy_id)>-<tag>-<seq base 36>`` (<= 36 characters).

    Examples
    --------
    >>> format_client_order_id("ema-btc", "k2x9", 1295)
    'atb-01f8bccb-k2x9-zz'
    """
    digest = hashlib.sha256(strategy_id.encode()).hexdigest()[:8]
    out = f"atb-{digest}-{tag}-{_base36(seq)}"
    if len(out) > 36:
        raise PersistenceError(f"client order id counter of strategy {strategy_id!r} overflowed")
    return out


def check_order_update(old: Order, new: Order) -> None:
    """Raise unless ``new`` may replace the stored ``old`` (same identity, legal status change)."""
    for name, before, after in (("venue", old.venue, new.venue), ("strategy_id", old.strategy_id,
                                new.strategy_id), ("pair", old.request.pair, new.request.pair),
                                ("side", old.request.side, new.request.side)):
        if before != after:
            raise PersistenceError(f"live_orders.{name} of order {old.client_order_id} cannot change "
                                   f"({before!r} -> {after!r})")
    check_transition(old.status, new.status, client_order_id=old.client_order_id)


def check_fill(order: Order | None, fill: Fill) -> Order:
    """Return the order of ``fill``, raising when it is unknown or does not match the fill."""
    if order is None:
        raise PersistenceError(f"live_fills.client_order_id: fill {fill.fill_id} belongs to unknown order "
                               f"{fill.client_order_id!r} (save the order first)")
    if fill.pair != order.request.pair or fill.side != order.request.side:
        raise PersistenceError(f"live_fills.pair/side: fill {fill.fill_id} ({fill.pair} {fill.side}) does "
                               f"not match order {order.client_order_id} "
                               f"({order.request.pair} {order.request.side})")
    return order


def check_trade_update(old: LiveTrade, new: LiveTrade) -> None:
    """Raise unless ``new`` may replace the stored ``old`` (same strategy, venue, pair and side)."""
    for name in ("strategy_id", "venue", "pair", "side"):
        if getattr(old, name) != getattr(new, name):
            raise PersistenceError(f"live_trades.{name} of trade {old.trade_id} cannot change "
                                   f"({getattr(old, name)!r} -> {getattr(new, name)!r})")
