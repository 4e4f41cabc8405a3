"""Applying the venue's view of an order to the order store (shared by the manager and reconciliation).

The pure part, :func:`classify_update`, decides what a :class:`~atb.execution.models.VenueOrder`
means for a stored :class:`~atb.orders.models.Order`; :func:`apply_venue_order` performs it.
Write order, chosen so a crash between any two writes is repaired by the next reconciliation:

1. fills first (``add_fill`` is idempotent by fill id), from the venue's response or, when the
   venue reports more filled than the store's fills add up to, from ``fetch_my_trades``;
2. then the order's new status / filled amount / average price / fee.

A crash after 1 leaves a non-terminal order whose next venue view is applied again (fills are
not double counted); a crash before 1 loses nothing the venue does not still report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from atb.errors import OrderStateError
from atb.execution.models import VenueOrder
from atb.execution.ports import ExchangeClient
from atb.orders.models import Order, OrderRequest
from atb.orders.ports import OrderStore
from atb.orders.state import OrderStatus, check_transition, is_terminal

__all__ = ["ApplyResult", "UpdateKind", "adopt_venue_order", "apply_venue_order", "classify_update",
           "is_live", "normalise_status", "record_fills", "recorded_fill_amount"]

_S = OrderStatus
#: Progress of a status along the lifecycle; a report with less progress and no more filled
#: amount than the stored order is stale.
_RANK = {_S.NEW: 0, _S.SUBMITTED: 1, _S.OPEN: 2, _S.PARTIALLY_FILLED: 3, _S.FILLED: 4,
         _S.CANCELLED: 4, _S.REJECTED: 4, _S.EXPIRED: 4}


class UpdateKind(StrEnum):
    """What a venue report means for the stored order."""

    APPLIED = "applied"            # legal progress: saved
    DUPLICATE = "duplicate"        # same status and filled amount: nothing to save
    STALE = "stale"                # older than what is stored (less filled, or an earlier state)
    RESURRECTED = "resurrected"    # stored as rejected (never placed) but the venue has it
    CONFLICT = "conflict"          # an illegal transition the venue insists on (a bug somewhere)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    """Outcome of :func:`apply_venue_order`.

    Attributes
    ----------
    kind : UpdateKind
        How the report was classified.
    order : Order
        The stored order after the call.
    new_fills : int
        Fills recorded by this call (0 for replays).
    """

    kind: UpdateKind
    order: Order
    new_fills: int = 0


def normalise_status(vo: VenueOrder) -> OrderStatus:
    """The venue's status made consistent with its filled amount.

    ``open`` with a partial fill is ``partially_filled``; a live status with everything filled is
    ``filled``; ``partially_filled`` with nothing filled is ``open`` (``submitted`` - accepted but
    not active yet - stays ``submitted``).
    """
    s = vo.status
    if s in (_S.OPEN, _S.PARTIALLY_FILLED, _S.SUBMITTED):
        if vo.amount > 0 and vo.filled >= vo.amount:
            return _S.FILLED
        if vo.filled > 0:
            return _S.PARTIALLY_FILLED
        return _S.SUBMITTED if s == _S.SUBMITTED else _S.OPEN
    return s


def classify_update(order: Order, vo: VenueOrder) -> UpdateKind:
    """Classify the venue report ``vo`` against the stored ``order`` (pure).

    Rules, in order: less filled than stored -> stale; same status and filled -> duplicate;
    same filled and an earlier lifecycle state -> stale (e.g. ``open`` after ``filled``); stored
    ``rejected`` while the venue reports the order -> resurrected; otherwise the transition table
    decides: legal -> applied, illegal -> conflict.
    """
    status = normalise_status(vo)
    if vo.filled < order.filled:
        return UpdateKind.STALE
    if status == order.status and vo.filled == order.filled:
        return UpdateKind.DUPLICATE
    if order.status == _S.REJECTED and status != _S.REJECTED:
        return UpdateKind.RESURRECTED
    if vo.filled == order.filled and _RANK[status] < _RANK[order.status]:
        return UpdateKind.STALE
    try:
        check_transition(order.status, status, client_order_id=order.client_order_id)
    except OrderStateError:
        return UpdateKind.CONFLICT
    return UpdateKind.APPLIED


def recorded_fill_amount(store: OrderStore, client_order_id: str) -> Decimal:
    """Sum of the stored fills of an order, base currency."""
    return sum((f.amount for f in store.fills(client_order_id=client_order_id)), Decimal(0))


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


async def record_fills(store: OrderStore, exchange: ExchangeClient | None, order: Order,
                       vo: VenueOrder) -> int:
    """Record the fills of ``vo`` (idempotent); fetch missing ones with ``fetch_my_trades``.

    Returns the number of fills newly recorded.
    """
    cid = order.client_order_id
    new = sum(1 for f in vo.fills if f.client_order_id == cid and store.add_fill(f))
    if exchange is not None and vo.filled > recorded_fill_amount(store, cid):
        trades = await exchange.fetch_my_trades(order.request.pair, since_ms=_ms(order.created_at) - 60_000)
        # venues such as binance report trades by their own order id, not the client id
        ids = {cid} | {i for i in (vo.venue_order_id, order.venue_order_id) if i}
        new += sum(1 for f in trades if f.client_order_id in ids
                   and store.add_fill(replace(f, client_order_id=cid)))
    return new


async def apply_venue_order(store: OrderStore, exchange: ExchangeClient | None, order: Order,
                            vo: VenueOrder, now: datetime) -> ApplyResult:
    """Apply the venue's view ``vo`` of ``order``: fills first, then the status (module docstring).

    Stale and conflicting reports change no status (their fills are still recorded: a fill is a
    fact whatever the order's status says). A resurrected order is left to the caller (it must be
    cancelled on the venue).

    Parameters
    ----------
    store : OrderStore
    exchange : ExchangeClient or None
        Used for ``fetch_my_trades`` when the report lacks fills; None: do not fetch.
    order : Order
        The stored order (``vo.client_order_id`` must equal its client order id).
    vo : VenueOrder
    now : datetime
        UTC time written as ``updated_at``.
    """
    kind = classify_update(order, vo)
    new_fills = await record_fills(store, exchange, order, vo)
    if kind is not UpdateKind.APPLIED:
        if kind is UpdateKind.DUPLICATE and order.venue_order_id is None and vo.venue_order_id:
            order = order.with_status(order.status, order.updated_at, venue_order_id=vo.venue_order_id)
            store.save_order(order)
        return ApplyResult(kind=kind, order=order, new_fills=new_fills)
    updated = order.with_status(normalise_status(vo), now, filled=min(vo.filled, order.request.amount),
                                average=vo.average, fee=vo.fee,
                                venue_order_id=vo.venue_order_id or order.venue_order_id)
    store.save_order(updated)
    return ApplyResult(kind=kind, order=updated, new_fills=new_fills)


async def adopt_venue_order(store: OrderStore, exchange: ExchangeClient | None, vo: VenueOrder, *,
                            venue: str, strategy_id: str, now: datetime,
                            tag: str = "orphan_adopted") -> ApplyResult:
    """Record an order only the venue knows (as ``submitted``), then apply the venue's view.

    A stop-limit order's trigger price is not in :class:`VenueOrder`; the adopted request uses its
    limit price as the trigger.
    """
    request = OrderRequest(client_order_id=vo.client_order_id, pair=vo.pair, side=vo.side,
                           order_type=vo.order_type, amount=vo.amount, price=vo.price,
                           stop_price=vo.price if vo.order_type == "stop_limit" else None)
    created = datetime.fromtimestamp(vo.timestamp / 1000, tz=now.tzinfo) if vo.timestamp else now
    order = Order(request=request, status=_S.SUBMITTED, venue=venue, strategy_id=strategy_id,
                  created_at=created, updated_at=now, venue_order_id=vo.venue_order_id, tag=tag)
    store.save_order(order)
    return await apply_venue_order(store, exchange, order, vo, now)


def is_live(order: Order) -> bool:
    """True for orders the venue may still fill (submitted, open, partially filled)."""
    return not is_terminal(order.status) and order.status != _S.NEW
