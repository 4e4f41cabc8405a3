"""In-memory :class:`~atb.orders.ports.OrderStore`: tests and in-process runs without a database.

Same behaviour as the SQL adapter except durability: everything is lost with the process, and each
instance draws its own client order id tags (a new instance is a new store).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from atb.errors import ConfigError
from atb.orders._store import (
    NON_TERMINAL,
    check_fill,
    check_order_update,
    check_trade_update,
    format_client_order_id,
    new_store_tag,
)
from atb.orders.models import Fill, Order
from atb.orders.records import BalanceSnapshot, Decision, LiveTrade, PositionState, apply_fill

__all__ = ["InMemoryOrderStore"]


class InMemoryOrderStore:
    """Implements :class:`~atb.orders.ports.OrderStore` in dictionaries (thread-safe).

    Examples
    --------
    >>> store = InMemoryOrderStore()
    >>> a, b = store.next_client_order_id("s1"), store.next_client_order_id("s1")
    >>> a != b and a.startswith("atb-") and len(a) <= 36
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, tuple[str, int]] = {}
        self._orders: dict[str, Order] = {}
        self._fills: dict[tuple[str, str], Fill] = {}
        self._positions: dict[tuple[str, str], PositionState] = {}
        self._balances: dict[str, BalanceSnapshot] = {}
        self._decisions: list[Decision] = []
        self._trades: dict[str, LiveTrade] = {}

    # -- client order ids ---------------------------------------------------------------------
    def next_client_order_id(self, strategy_id: str) -> str:
        """See :meth:`atb.orders.ports.OrderStore.next_client_order_id`."""
        if not strategy_id:
            raise ConfigError("order store: missing value for 'strategy_id'")
        with self._lock:
            tag, seq = self._counters.get(strategy_id, (new_store_tag(), 0))
            self._counters[strategy_id] = (tag, seq + 1)
        return format_client_order_id(strategy_id, tag, seq + 1)

    # -- orders -------------------------------------------------------------------------------
    def save_order(self, order: Order) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_order`."""
        with self._lock:
            old = self._orders.get(order.client_order_id)
            if old is not None:
                check_order_update(old, order)
            self._orders[order.client_order_id] = order

    def get_order(self, client_order_id: str) -> Order | None:
        """See :meth:`atb.orders.ports.OrderStore.get_order`."""
        with self._lock:
            return self._orders.get(client_order_id)

    def open_orders(self, strategy_id: str | None = None) -> list[Order]:
        """See :meth:`atb.orders.ports.OrderStore.open_orders`."""
        return [o for o in self.orders(strategy_id) if o.status in NON_TERMINAL]

    def orders(self, strategy_id: str | None = None, pair: str | None = None) -> list[Order]:
        """See :meth:`atb.orders.ports.OrderStore.orders`."""
        with self._lock:
            found = [o for o in self._orders.values()
                     if (strategy_id is None or o.strategy_id == strategy_id)
                     and (pair is None or o.request.pair == pair)]
        return sorted(found, key=lambda o: (o.created_at, o.client_order_id))

    # -- fills and positions --------------------------------------------------------------------
    def add_fill(self, fill: Fill) -> bool:
        """See :meth:`atb.orders.ports.OrderStore.add_fill`."""
        with self._lock:
            order = check_fill(self._orders.get(fill.client_order_id), fill)
            key = (order.venue, fill.fill_id)
            if key in self._fills:
                return False
            pos_key = (order.strategy_id, fill.pair)
            old = self._positions.get(pos_key) or PositionState(strategy_id=order.strategy_id,
                                                                 pair=fill.pair)
            self._positions[pos_key] = apply_fill(old, fill)
            self._fills[key] = fill
            return True

    def fills(self, client_order_id: str | None = None, pair: str | None = None) -> list[Fill]:
        """See :meth:`atb.orders.ports.OrderStore.fills`."""
        with self._lock:
            found = [(venue, f) for (venue, _), f in self._fills.items()
                     if (client_order_id is None or f.client_order_id == client_order_id)
                     and (pair is None or f.pair == pair)]
        return [f for _, f in sorted(found, key=lambda vf: (vf[1].at, vf[0], vf[1].fill_id))]

    def position(self, strategy_id: str, pair: str) -> PositionState:
        """See :meth:`atb.orders.ports.OrderStore.position`."""
        with self._lock:
            found = self._positions.get((strategy_id, pair))
        return found or PositionState(strategy_id=strategy_id, pair=pair)

    def positions(self, strategy_id: str | None = None) -> list[PositionState]:
        """See :meth:`atb.orders.ports.OrderStore.positions`."""
        with self._lock:
            return [p for key, p in sorted(self._positions.items())
                    if strategy_id is None or key[0] == strategy_id]

    # -- balances -------------------------------------------------------------------------------
    def save_balances(self, venue: str, balances: Mapping[str, tuple[Decimal, Decimal]],
                      at: datetime) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_balances`."""
        snap = BalanceSnapshot(venue=venue, at=at, balances=balances)
        with self._lock:
            last = self._balances.get(venue)
            if last is None or snap.at >= last.at:
                self._balances[venue] = snap

    def latest_balances(self, venue: str) -> BalanceSnapshot | None:
        """See :meth:`atb.orders.ports.OrderStore.latest_balances`."""
        with self._lock:
            return self._balances.get(venue)

    # -- decisions ------------------------------------------------------------------------------
    def record_decision(self, decision: Decision) -> None:
        """See :meth:`atb.orders.ports.OrderStore.record_decision`."""
        with self._lock:
            self._decisions.append(decision)

    def decisions(self, strategy_id: str | None = None, limit: int | None = None) -> list[Decision]:
        """See :meth:`atb.orders.ports.OrderStore.decisions`."""
        with self._lock:
            found = [d for d in reversed(self._decisions)
                     if strategy_id is None or d.strategy_id == strategy_id]
        return found if limit is None else found[:max(limit, 0)]

    # -- trades ---------------------------------------------------------------------------------
    def save_trade(self, trade: LiveTrade) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_trade`."""
        with self._lock:
            old = self._trades.get(trade.trade_id)
            if old is not None:
                check_trade_update(old, trade)
            self._trades[trade.trade_id] = trade

    def open_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """See :meth:`atb.orders.ports.OrderStore.open_trades`."""
        found = [t for t in self._select_trades(strategy_id) if t.close_time is None]
        return sorted(found, key=lambda t: (t.open_time, t.trade_id))

    def closed_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """See :meth:`atb.orders.ports.OrderStore.closed_trades`."""
        closed = [(t.close_time, t) for t in self._select_trades(strategy_id) if t.close_time is not None]
        return [t for _, t in sorted(closed, key=lambda ct: (ct[0], ct[1].trade_id))]

    def _select_trades(self, strategy_id: str | None) -> list[LiveTrade]:
        with self._lock:
            return [t for t in self._trades.values() if strategy_id is None or t.strategy_id == strategy_id]
