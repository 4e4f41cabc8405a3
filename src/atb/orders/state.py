"""The order state machine as a transition table (one implementation for paper, live and replay).

::

    new ──submit──► submitted ──accept──► open ──fill(part)──► partially_filled ──fill──► filled
     │                 │   │                │  │                   │   │
     │                 │   └─fill──► filled │  └─cancel/expire──►  │   └─cancel/expire──► cancelled/expired
     │                 └─reject──► rejected └─fill──► filled       └─fill(part)──► partially_filled
     └─reject (risk or validation, never sent)──► rejected

``submitted`` means the intent is written to the store and the request is on its way: the venue
may or may not know the order (a lost response). Only reconciliation (``fetch_order`` by the
client order id) resolves it: the venue's status is applied through the same table, and a
``submitted`` order the venue does not know after the reconciliation grace period becomes
``rejected`` (it was never placed) - never "lost".

A status reported by the venue may skip states (``submitted`` → ``filled`` when the response of a
market order is the fill); every path allowed here is a path a real venue can report. Terminal
states (filled, cancelled, rejected, expired) accept nothing: a late event for them is an
:class:`~atb.errors.OrderStateError` unless it repeats the same status (idempotent replays).
"""

from __future__ import annotations

from enum import StrEnum

from atb.errors import OrderStateError

__all__ = ["TERMINAL", "TRANSITIONS", "OrderStatus", "check_transition", "is_terminal"]


class OrderStatus(StrEnum):
    """Lifecycle state of one order."""

    NEW = "new"
    SUBMITTED = "submitted"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


_S = OrderStatus

#: Allowed ``old -> {new, ...}`` transitions. A venue report equal to the current status is
#: always allowed (no-op), so it is not listed.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.NEW: frozenset({_S.SUBMITTED, _S.REJECTED}),
    _S.SUBMITTED: frozenset({_S.OPEN, _S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.REJECTED,
                             _S.EXPIRED}),
    _S.OPEN: frozenset({_S.PARTIALLY_FILLED, _S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.PARTIALLY_FILLED: frozenset({_S.FILLED, _S.CANCELLED, _S.EXPIRED}),
    _S.FILLED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset(),
    _S.EXPIRED: frozenset(),
}

#: States an order never leaves.
TERMINAL: frozenset[OrderStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


def is_terminal(status: OrderStatus) -> bool:
    """True for filled, cancelled, rejected and expired."""
    return status in TERMINAL


def check_transition(old: OrderStatus, new: OrderStatus, *, client_order_id: str = "") -> None:
    """Raise unless ``old -> new`` is in :data:`TRANSITIONS` (or ``old == new``).

    Raises
    ------
    OrderStateError
        The transition is illegal; the message names the order and both states.

    Examples
    --------
    >>> check_transition(OrderStatus.SUBMITTED, OrderStatus.FILLED)
    >>> check_transition(OrderStatus.FILLED, OrderStatus.OPEN, client_order_id="x1")
    Traceback (most recent call last):
    ...
    atb.errors.OrderStateError: order x1: illegal transition filled -> open
    """
    if old == new or new in TRANSITIONS[old]:
        return
    raise OrderStateError(f"order {client_order_id}: illegal transition {old.value} -> {new.value}")
