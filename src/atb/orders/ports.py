"""The order store port: what crash-safe paper and live trading persist, one short transaction a call.

Adapters: :class:`atb.orders.memory.InMemoryOrderStore` (tests, in-process default) and
``atb.persistence.order_store.SqlOrderStore`` (SQLite / PostgreSQL). Both behave the same; a shared
test suite runs against each.

Crash-safety contract
---------------------
* Every write is committed before the method returns. The engine saves an order (status ``new``
  or ``submitted``) *before* it sends the request, so after a crash :meth:`OrderStore.open_orders`
  lists every order the venue might know, and reconciliation looks each one up by its client
  order id.
* :meth:`OrderStore.next_client_order_id` hands out each id once, across restarts and across
  processes sharing the database.
* :meth:`OrderStore.add_fill` is idempotent by ``(venue, fill_id)``: replaying venue events after
  a restart never counts a fill twice. The position is updated in the same transaction.

Methods are synchronous; the asyncio engine calls them directly (each is one short transaction).
Failures raise :class:`~atb.errors.PersistenceError` naming the table or field;
:meth:`OrderStore.save_order` raises :class:`~atb.errors.OrderStateError` for an illegal status
change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from atb.orders.models import Fill, Order
from atb.orders.records import BalanceSnapshot, Decision, LiveTrade, PositionState

__all__ = ["OrderStore"]


@runtime_checkable
class OrderStore(Protocol):
    """Durable state of paper/live trading: orders, fills, positions, balances, decisions, trades."""

    def next_client_order_id(self, strategy_id: str) -> str:
        """Allocate a new client order id for ``strategy_id`` (persisted counter, never reused).

        Returns
        -------
        str
            ``atb-<8 hex of sha256(strategy_id)>-<4-char store tag>-<sequence in base 36>``:
            at most 36 characters of ``[a-z0-9-]``. The store tag is drawn at random when the
            strategy's counter is created, so a fresh database never re-issues an id an old one
            sent to the same venue account.
        """
        ...

    def save_order(self, order: Order) -> None:
        """Insert or update ``order`` by its client order id; committed on return.

        Raises
        ------
        OrderStateError
            The stored status cannot move to ``order.status`` (:mod:`atb.orders.state`).
        PersistenceError
            The write failed, or the venue, strategy, pair or side of a stored order changed.
        """
        ...

    def get_order(self, client_order_id: str) -> Order | None:
        """The stored order, or None."""
        ...

    def open_orders(self, strategy_id: str | None = None) -> list[Order]:
        """Orders in a non-terminal status (new, submitted, open, partially filled).

        Ordered by ``(created_at, client_order_id)``; ``strategy_id`` None means all strategies.
        """
        ...

    def orders(self, strategy_id: str | None = None, pair: str | None = None) -> list[Order]:
        """Every stored order matching the filters, ordered by ``(created_at, client_order_id)``."""
        ...

    def add_fill(self, fill: Fill) -> bool:
        """Record ``fill`` and apply it to its strategy's position (one transaction).

        The order (``fill.client_order_id``) must be stored first: it gives the venue and the
        strategy. The order itself is not changed (the caller saves its new status and filled
        amount). Positions follow :func:`atb.orders.records.apply_fill`.

        Returns
        -------
        bool
            False when a fill with the same ``(venue, fill_id)`` is stored already (nothing
            changes), True when recorded.

        Raises
        ------
        PersistenceError
            Unknown order, pair or side differing from the order's, or the write failed.
        """
        ...

    def fills(self, client_order_id: str | None = None, pair: str | None = None) -> list[Fill]:
        """Stored fills matching the filters, ordered by ``(at, venue, fill_id)``."""
        ...

    def position(self, strategy_id: str, pair: str) -> PositionState:
        """The position of ``strategy_id`` in ``pair`` (a flat one when it never traded it)."""
        ...

    def positions(self, strategy_id: str | None = None) -> list[PositionState]:
        """Every position ever filled (flat ones included), ordered by ``(strategy_id, pair)``."""
        ...

    def save_balances(self, venue: str, balances: Mapping[str, tuple[Decimal, Decimal]],
                      at: datetime) -> None:
        """Store a snapshot ``{currency: (free, used)}`` of ``venue``'s account at UTC ``at``."""
        ...

    def latest_balances(self, venue: str) -> BalanceSnapshot | None:
        """The snapshot with the latest ``at`` (the last saved among equal times), or None."""
        ...

    def record_decision(self, decision: Decision) -> None:
        """Append ``decision`` to the decision log."""
        ...

    def decisions(self, strategy_id: str | None = None, limit: int | None = None) -> list[Decision]:
        """Recorded decisions, most recently recorded first; at most ``limit`` of them."""
        ...

    def save_trade(self, trade: LiveTrade) -> None:
        """Insert or update ``trade`` by ``trade_id``.

        Raises
        ------
        PersistenceError
            The write failed, or the strategy, venue, pair or side of a stored trade changed.
        """
        ...

    def open_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """Trades without a close time, ordered by ``(open_time, trade_id)``."""
        ...

    def closed_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """Closed trades, ordered by ``(close_time, trade_id)``."""
        ...
