"""Tables of paper/live trading (orders, fills, positions, balances, decisions, trades, id counters).

They share :class:`atb.persistence.tables.Base` (one metadata, one migration history). Decimal
amounts are stored as their exact decimal text (:class:`DecimalText`) so that every value
round-trips unchanged on SQLite and PostgreSQL (``Decimal('0.10')`` stays ``0.10``). Times are UTC
(``DateTime(timezone=True)``; SQLite keeps them without zone and the store re-attaches UTC).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from atb.persistence.tables import Base

__all__ = [
    "DecimalText",
    "LiveBalanceRow",
    "LiveBalanceSnapshotRow",
    "LiveDecisionRow",
    "LiveFillRow",
    "LiveIdCounterRow",
    "LiveOrderRow",
    "LivePositionRow",
    "LiveTradeRow",
]

#: Longest decimal text stored (a 34-digit value in scientific notation fits easily).
DECIMAL_TEXT_LENGTH = 64


class DecimalText(TypeDecorator[Decimal]):
    """``Decimal`` stored as ``VARCHAR(64)`` holding ``str(value)``: exact on every database."""

    impl = String(DECIMAL_TEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        """``str(value)``; rejects non-Decimal values and texts longer than 64 characters."""
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected Decimal, got {type(value).__name__}")
        text = str(value)
        if len(text) > DECIMAL_TEXT_LENGTH:
            raise ValueError(f"decimal {text[:20]}... longer than {DECIMAL_TEXT_LENGTH} characters")
        return text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """``Decimal(text)``."""
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"stored decimal {value!r} is not a number") from None


def _utc_col(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(DateTime(timezone=True), nullable=nullable)


class LiveIdCounterRow(Base):
    """Client order id counter of one strategy (``tag`` drawn at random when the row is created)."""

    __tablename__ = "live_id_counters"

    strategy_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tag: Mapped[str] = mapped_column(String(8))
    last_seq: Mapped[int] = mapped_column(BigInteger)


class LiveOrderRow(Base):
    """One order (:class:`atb.orders.models.Order`); amounts base currency, prices quote currency."""

    __tablename__ = "live_orders"

    client_order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    venue: Mapped[str] = mapped_column(String(64))
    strategy_id: Mapped[str] = mapped_column(String(128))
    pair: Mapped[str] = mapped_column(String(50))
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    stop_price: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    time_in_force: Mapped[str] = mapped_column(String(8))
    post_only: Mapped[bool] = mapped_column(Boolean)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    venue_order_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    filled: Mapped[Decimal] = mapped_column(DecimalText)
    average: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    created_at: Mapped[datetime] = _utc_col()
    updated_at: Mapped[datetime] = _utc_col()
    tag: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (Index("ix_live_orders_strategy_status", "strategy_id", "status"),
                      Index("ix_live_orders_status", "status"),
                      Index("ix_live_orders_pair", "pair"))


class LiveFillRow(Base):
    """One execution (:class:`atb.orders.models.Fill`), unique per ``(venue, fill_id)``."""

    __tablename__ = "live_fills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(64))
    fill_id: Mapped[str] = mapped_column(String(128))
    client_order_id: Mapped[str] = mapped_column(ForeignKey("live_orders.client_order_id"), index=True)
    strategy_id: Mapped[str] = mapped_column(String(128))
    pair: Mapped[str] = mapped_column(String(50))
    side: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal] = mapped_column(DecimalText)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_currency: Mapped[str] = mapped_column(String(20))
    is_maker: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = _utc_col()

    __table_args__ = (UniqueConstraint("venue", "fill_id", name="uq_live_fills_venue_fill_id"),
                      Index("ix_live_fills_pair_at", "pair", "at"))


class LivePositionRow(Base):
    """Net position of one strategy in one pair (:class:`atb.orders.records.PositionState`)."""

    __tablename__ = "live_positions"

    strategy_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    pair: Mapped[str] = mapped_column(String(50), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    avg_price: Mapped[Decimal] = mapped_column(DecimalText)
    realised_pnl: Mapped[Decimal] = mapped_column(DecimalText)
    fees: Mapped[Decimal] = mapped_column(DecimalText)
    updated_at: Mapped[datetime | None] = _utc_col(nullable=True)


class LiveBalanceSnapshotRow(Base):
    """One balance snapshot of a venue account (its currencies in ``live_balances``)."""

    __tablename__ = "live_balance_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    venue: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = _utc_col()

    __table_args__ = (Index("ix_live_balance_snapshots_venue_at", "venue", "at"),)


class LiveBalanceRow(Base):
    """One currency of a snapshot: free and used amounts in that currency."""

    __tablename__ = "live_balances"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("live_balance_snapshots.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(32), primary_key=True)
    free: Mapped[Decimal] = mapped_column(DecimalText)
    used: Mapped[Decimal] = mapped_column(DecimalText)


class LiveDecisionRow(Base):
    """One strategy decision and its risk verdict (:class:`atb.orders.records.Decision`)."""

    __tablename__ = "live_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[str] = mapped_column(String(128))
    pair: Mapped[str] = mapped_column(String(50))
    candle_time: Mapped[datetime] = _utc_col()
    action: Mapped[str] = mapped_column(String(32))
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)
    risk_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    risk_rule: Mapped[str | None] = mapped_column(String(64), nullable=True)
    risk_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_order_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = _utc_col()

    __table_args__ = (Index("ix_live_decisions_strategy_id", "strategy_id", "id"),)


class LiveTradeRow(Base):
    """One round trip (:class:`atb.orders.records.LiveTrade`)."""

    __tablename__ = "live_trades"

    trade_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy_id: Mapped[str] = mapped_column(String(128))
    venue: Mapped[str] = mapped_column(String(64))
    pair: Mapped[str] = mapped_column(String(50))
    side: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    open_time: Mapped[datetime] = _utc_col()
    open_rate: Mapped[Decimal] = mapped_column(DecimalText)
    entry_client_order_id: Mapped[str] = mapped_column(String(36))
    close_time: Mapped[datetime | None] = _utc_col(nullable=True)
    close_rate: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    profit_abs: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    profit_ratio: Mapped[Decimal | None] = mapped_column(DecimalText, nullable=True)
    exit_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    exit_client_order_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    enter_tag: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (Index("ix_live_trades_strategy_close", "strategy_id", "close_time"),)
