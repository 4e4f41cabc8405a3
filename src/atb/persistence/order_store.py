"""SQL adapter of :class:`atb.orders.ports.OrderStore` (SQLite or PostgreSQL), one transaction a call.

Concurrency: on SQLite every writing call starts with ``BEGIN IMMEDIATE`` (writers queue on the
database lock, up to the driver's 5 s busy timeout, instead of failing on a stale read snapshot);
on PostgreSQL rows are locked with ``SELECT ... FOR UPDATE`` and counters/rows are created with
``INSERT ... ON CONFLICT DO NOTHING``. Client order ids come from ``UPDATE ... RETURNING`` on the
strategy's counter row, so stores in different processes never hand out the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from atb.core.enums import OrderSide, OrderType, SignalDirection, TimeInForce
from atb.errors import ConfigError, PersistenceError
from atb.orders._store import (
    NON_TERMINAL,
    check_fill,
    check_order_update,
    check_trade_update,
    format_client_order_id,
    new_store_tag,
)
from atb.orders.models import Fill, Order, OrderRequest
from atb.orders.records import BalanceSnapshot, Decision, LiveTrade, PositionState, apply_fill
from atb.orders.state import OrderStatus
from atb.persistence.live_tables import (
    LiveBalanceRow,
    LiveBalanceSnapshotRow,
    LiveDecisionRow,
    LiveFillRow,
    LiveIdCounterRow,
    LiveOrderRow,
    LivePositionRow,
    LiveTradeRow,
)

__all__ = ["SqlOrderStore"]

_T = TypeVar("_T")


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _utc_opt(dt: datetime | None) -> datetime | None:
    return None if dt is None else _utc(dt)


# -- row <-> record ---------------------------------------------------------------------------------
def _order(row: LiveOrderRow) -> Order:
    request = OrderRequest(client_order_id=row.client_order_id, pair=row.pair, side=OrderSide(row.side),
                           order_type=OrderType(row.order_type), amount=row.amount, price=row.price,
                           stop_price=row.stop_price, time_in_force=TimeInForce(row.time_in_force),
                           post_only=row.post_only, reduce_only=row.reduce_only)
    return Order(request=request, status=OrderStatus(row.status), venue=row.venue,
                 strategy_id=row.strategy_id, created_at=_utc(row.created_at),
                 updated_at=_utc(row.updated_at), venue_order_id=row.venue_order_id, filled=row.filled,
                 average=row.average, fee=row.fee, tag=row.tag)


def _order_values(order: Order) -> dict[str, Any]:
    r = order.request
    return {"client_order_id": r.client_order_id, "venue": order.venue, "strategy_id": order.strategy_id,
            "pair": r.pair, "side": r.side.value, "order_type": r.order_type.value, "amount": r.amount,
            "price": r.price, "stop_price": r.stop_price, "time_in_force": r.time_in_force.value,
            "post_only": r.post_only, "reduce_only": r.reduce_only, "status": order.status.value,
            "venue_order_id": order.venue_order_id, "filled": order.filled, "average": order.average,
            "fee": order.fee, "created_at": _utc(order.created_at), "updated_at": _utc(order.updated_at),
            "tag": order.tag}


def _fill(row: LiveFillRow) -> Fill:
    return Fill(fill_id=row.fill_id, client_order_id=row.client_order_id, pair=row.pair,
                side=OrderSide(row.side), price=row.price, amount=row.amount, fee=row.fee,
                fee_currency=row.fee_currency, is_maker=row.is_maker, at=_utc(row.at))


def _position(row: LivePositionRow) -> PositionState:
    return PositionState(strategy_id=row.strategy_id, pair=row.pair, amount=row.amount,
                         avg_price=row.avg_price, realised_pnl=row.realised_pnl, fees=row.fees,
                         updated_at=_utc_opt(row.updated_at))


def _decision(row: LiveDecisionRow) -> Decision:
    return Decision(strategy_id=row.strategy_id, pair=row.pair, candle_time=_utc(row.candle_time),
                    action=row.action, signals=row.signals, risk_verdict=row.risk_verdict,
                    risk_rule=row.risk_rule, risk_reason=row.risk_reason,
                    client_order_id=row.client_order_id, created_at=_utc(row.created_at))


_TRADE_FIELDS = ("trade_id", "strategy_id", "venue", "pair", "amount", "open_rate", "entry_client_order_id",
                 "close_rate", "profit_abs", "profit_ratio", "exit_reason", "exit_client_order_id",
                 "enter_tag")


def _trade(row: LiveTradeRow) -> LiveTrade:
    values = {name: getattr(row, name) for name in _TRADE_FIELDS}
    return LiveTrade(side=SignalDirection(row.side), open_time=_utc(row.open_time),
                     close_time=_utc_opt(row.close_time), **values)


def _trade_values(trade: LiveTrade) -> dict[str, Any]:
    values = {name: getattr(trade, name) for name in _TRADE_FIELDS}
    return {**values, "side": trade.side.value, "open_time": _utc(trade.open_time),
            "close_time": _utc_opt(trade.close_time)}


class SqlOrderStore:
    """Implements :class:`atb.orders.ports.OrderStore` in the run store database.

    Parameters
    ----------
    session_factory : sessionmaker
        From :func:`atb.persistence.db.create_session_factory`; its engine comes from
        :func:`atb.persistence.db.create_db_engine`, which migrates the schema to the head revision.

    Raises
    ------
    ConfigError
        The session factory is not bound to an engine, or the database is neither SQLite nor
        PostgreSQL.

    Examples
    --------
    >>> from pathlib import Path; import tempfile
    >>> from atb.persistence.db import create_db_engine, create_session_factory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     engine = create_db_engine(None, Path(tmp))
    ...     store = SqlOrderStore(create_session_factory(engine))
    ...     print(store.next_client_order_id("ema-btc").startswith("atb-01f8bccb-"))
    ...     engine.dispose()
    True
    """

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        bind = session_factory.kw.get("bind")
        dialect = getattr(getattr(bind, "dialect", None), "name", None)
        if dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"order store: unsupported database dialect {dialect!r} "
                              "(SQLite or PostgreSQL)")
        self._sessions = session_factory
        self._sqlite = dialect == "sqlite"
        self._insert = sqlite.insert if self._sqlite else postgresql.insert

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def _tx(self, table: str, *, write: bool) -> Iterator[Session]:
        try:
            with self._sessions() as session, session.begin():
                if write and self._sqlite:
                    session.connection().exec_driver_sql("BEGIN IMMEDIATE")
                yield session
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None)
            first = (str(orig) if orig is not None else str(exc)).strip().splitlines()[0]
            verb = "write" if write else "read"
            raise PersistenceError(f"order store: cannot {verb} {table}: {first}") from None

    def _read(self, table: str, query: Callable[[Session], _T]) -> _T:
        with self._tx(table, write=False) as session:
            return query(session)

    def _rows(self, stmt: Select[Any], table: str) -> list[Any]:
        return self._read(table, lambda s: list(s.execute(stmt).scalars()))

    # -- client order ids -----------------------------------------------------------------------
    def next_client_order_id(self, strategy_id: str) -> str:
        """See :meth:`atb.orders.ports.OrderStore.next_client_order_id`."""
        if not strategy_id:
            raise ConfigError("order store: missing value for 'strategy_id'")
        counter = LiveIdCounterRow
        with self._tx("live_id_counters", write=True) as session:
            session.execute(self._insert(counter).values(strategy_id=strategy_id, tag=new_store_tag(),
                                                         last_seq=0)
                            .on_conflict_do_nothing(index_elements=["strategy_id"]))
            tag, seq = session.execute(
                update(counter).where(counter.strategy_id == strategy_id)
                .values(last_seq=counter.last_seq + 1)
                .returning(counter.tag, counter.last_seq)).one()
        return format_client_order_id(strategy_id, tag, seq)

    # -- orders ---------------------------------------------------------------------------------
    def save_order(self, order: Order) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_order`."""
        values = _order_values(order)
        with self._tx("live_orders", write=True) as session:
            row = session.execute(select(LiveOrderRow).where(
                LiveOrderRow.client_order_id == order.client_order_id).with_for_update()).scalar()
            if row is None:
                session.add(LiveOrderRow(**values))
                return
            check_order_update(_order(row), order)
            for name, value in values.items():
                setattr(row, name, value)

    def get_order(self, client_order_id: str) -> Order | None:
        """See :meth:`atb.orders.ports.OrderStore.get_order`."""
        def query(session: Session) -> Order | None:
            row = session.get(LiveOrderRow, client_order_id)
            return None if row is None else _order(row)

        return self._read("live_orders", query)

    def open_orders(self, strategy_id: str | None = None) -> list[Order]:
        """See :meth:`atb.orders.ports.OrderStore.open_orders`."""
        return self._orders(strategy_id, None, open_only=True)

    def orders(self, strategy_id: str | None = None, pair: str | None = None) -> list[Order]:
        """See :meth:`atb.orders.ports.OrderStore.orders`."""
        return self._orders(strategy_id, pair, open_only=False)

    def _orders(self, strategy_id: str | None, pair: str | None, *, open_only: bool) -> list[Order]:
        stmt = select(LiveOrderRow)
        if strategy_id is not None:
            stmt = stmt.where(LiveOrderRow.strategy_id == strategy_id)
        if pair is not None:
            stmt = stmt.where(LiveOrderRow.pair == pair)
        if open_only:
            stmt = stmt.where(LiveOrderRow.status.in_(sorted(s.value for s in NON_TERMINAL)))
        found = [_order(r) for r in self._rows(stmt, "live_orders")]
        return sorted(found, key=lambda o: (o.created_at, o.client_order_id))

    # -- fills and positions ----------------------------------------------------------------------
    def add_fill(self, fill: Fill) -> bool:
        """See :meth:`atb.orders.ports.OrderStore.add_fill`."""
        with self._tx("live_fills", write=True) as session:
            row = session.get(LiveOrderRow, fill.client_order_id)
            order = check_fill(None if row is None else _order(row), fill)
            inserted = session.execute(
                self._insert(LiveFillRow).values(
                    venue=order.venue, fill_id=fill.fill_id, client_order_id=fill.client_order_id,
                    strategy_id=order.strategy_id, pair=fill.pair, side=fill.side.value, price=fill.price,
                    amount=fill.amount, fee=fill.fee, fee_currency=fill.fee_currency,
                    is_maker=fill.is_maker, at=_utc(fill.at))
                .on_conflict_do_nothing(index_elements=["venue", "fill_id"])
                .returning(LiveFillRow.id)).first()
            if inserted is None:
                return False
            flat = PositionState(strategy_id=order.strategy_id, pair=fill.pair)
            session.execute(self._insert(LivePositionRow).values(
                strategy_id=flat.strategy_id, pair=flat.pair, amount=flat.amount,
                avg_price=flat.avg_price, realised_pnl=flat.realised_pnl, fees=flat.fees, updated_at=None)
                .on_conflict_do_nothing(index_elements=["strategy_id", "pair"]))
            pos = session.execute(select(LivePositionRow).where(
                LivePositionRow.strategy_id == order.strategy_id, LivePositionRow.pair == fill.pair)
                .with_for_update()).scalar_one()
            new = apply_fill(_position(pos), fill)
            pos.amount, pos.avg_price, pos.realised_pnl = new.amount, new.avg_price, new.realised_pnl
            pos.fees, pos.updated_at = new.fees, _utc_opt(new.updated_at)
        return True

    def fills(self, client_order_id: str | None = None, pair: str | None = None) -> list[Fill]:
        """See :meth:`atb.orders.ports.OrderStore.fills`."""
        stmt = select(LiveFillRow)
        if client_order_id is not None:
            stmt = stmt.where(LiveFillRow.client_order_id == client_order_id)
        if pair is not None:
            stmt = stmt.where(LiveFillRow.pair == pair)
        rows = sorted(self._rows(stmt, "live_fills"), key=lambda r: (_utc(r.at), r.venue, r.fill_id))
        return [_fill(r) for r in rows]

    def position(self, strategy_id: str, pair: str) -> PositionState:
        """See :meth:`atb.orders.ports.OrderStore.position`."""
        def query(session: Session) -> PositionState:
            row = session.get(LivePositionRow, (strategy_id, pair))
            return PositionState(strategy_id=strategy_id, pair=pair) if row is None else _position(row)

        return self._read("live_positions", query)

    def positions(self, strategy_id: str | None = None) -> list[PositionState]:
        """See :meth:`atb.orders.ports.OrderStore.positions`."""
        stmt = select(LivePositionRow)
        if strategy_id is not None:
            stmt = stmt.where(LivePositionRow.strategy_id == strategy_id)
        found = [_position(r) for r in self._rows(stmt, "live_positions")]
        return sorted(found, key=lambda p: (p.strategy_id, p.pair))

    # -- balances -------------------------------------------------------------------------------
    def save_balances(self, venue: str, balances: Mapping[str, tuple[Decimal, Decimal]],
                      at: datetime) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_balances`."""
        snap = BalanceSnapshot(venue=venue, at=at, balances=balances)
        with self._tx("live_balances", write=True) as session:
            head = LiveBalanceSnapshotRow(venue=venue, at=_utc(snap.at))
            session.add(head)
            session.flush()
            session.add_all([LiveBalanceRow(snapshot_id=head.id, currency=c, free=f, used=u)
                             for c, (f, u) in snap.balances.items()])

    def latest_balances(self, venue: str) -> BalanceSnapshot | None:
        """See :meth:`atb.orders.ports.OrderStore.latest_balances`."""
        def query(session: Session) -> BalanceSnapshot | None:
            head = session.execute(
                select(LiveBalanceSnapshotRow).where(LiveBalanceSnapshotRow.venue == venue)
                .order_by(LiveBalanceSnapshotRow.at.desc(), LiveBalanceSnapshotRow.id.desc()).limit(1)
            ).scalar()
            if head is None:
                return None
            rows = session.execute(select(LiveBalanceRow).where(LiveBalanceRow.snapshot_id == head.id)
                                   .order_by(LiveBalanceRow.currency)).scalars()
            return BalanceSnapshot(venue=venue, at=_utc(head.at),
                                   balances={r.currency: (r.free, r.used) for r in rows})

        return self._read("live_balances", query)

    # -- decisions ------------------------------------------------------------------------------
    def record_decision(self, decision: Decision) -> None:
        """See :meth:`atb.orders.ports.OrderStore.record_decision`."""
        with self._tx("live_decisions", write=True) as session:
            session.add(LiveDecisionRow(
                strategy_id=decision.strategy_id, pair=decision.pair, candle_time=_utc(decision.candle_time),
                action=decision.action, signals=dict(decision.signals), risk_verdict=decision.risk_verdict,
                risk_rule=decision.risk_rule, risk_reason=decision.risk_reason,
                client_order_id=decision.client_order_id, created_at=_utc(decision.created_at)))

    def decisions(self, strategy_id: str | None = None, limit: int | None = None) -> list[Decision]:
        """See :meth:`atb.orders.ports.OrderStore.decisions`."""
        stmt = select(LiveDecisionRow).order_by(LiveDecisionRow.id.desc())
        if strategy_id is not None:
            stmt = stmt.where(LiveDecisionRow.strategy_id == strategy_id)
        if limit is not None:
            stmt = stmt.limit(max(limit, 0))
        return [_decision(r) for r in self._rows(stmt, "live_decisions")]

    # -- trades ---------------------------------------------------------------------------------
    def save_trade(self, trade: LiveTrade) -> None:
        """See :meth:`atb.orders.ports.OrderStore.save_trade`."""
        values = _trade_values(trade)
        with self._tx("live_trades", write=True) as session:
            row = session.execute(select(LiveTradeRow).where(LiveTradeRow.trade_id == trade.trade_id)
                                  .with_for_update()).scalar()
            if row is None:
                session.add(LiveTradeRow(**values))
                return
            check_trade_update(_trade(row), trade)
            for name, value in values.items():
                setattr(row, name, value)

    def open_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """See :meth:`atb.orders.ports.OrderStore.open_trades`."""
        found = self._trades(strategy_id, is_open=True)
        return sorted(found, key=lambda t: (t.open_time, t.trade_id))

    def closed_trades(self, strategy_id: str | None = None) -> list[LiveTrade]:
        """See :meth:`atb.orders.ports.OrderStore.closed_trades`."""
        found = self._trades(strategy_id, is_open=False)
        return sorted(found, key=lambda t: (t.close_time or t.open_time, t.trade_id))

    def _trades(self, strategy_id: str | None, *, is_open: bool) -> list[LiveTrade]:
        closed = LiveTradeRow.close_time
        stmt = select(LiveTradeRow).where(closed.is_(None) if is_open else closed.is_not(None))
        if strategy_id is not None:
            stmt = stmt.where(LiveTradeRow.strategy_id == strategy_id)
        return [_trade(r) for r in self._rows(stmt, "live_trades")]
