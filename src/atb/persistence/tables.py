"""Table mappings of the run store; row <-> domain conversion lives here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "BacktestRunRow", "BacktestTradeRow", "ModelArtifactRow"]


class Base(DeclarativeBase):
    """Declarative base of atb's tables."""


class BacktestRunRow(Base):
    """One backtest run: what was run, on what, and its summary metrics."""

    __tablename__ = "backtest_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 default=lambda: datetime.now(UTC))
    strategy: Mapped[str] = mapped_column(String(200))
    timeframe: Mapped[str] = mapped_column(String(10))
    backtest_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    backtest_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pairs: Mapped[list[str]] = mapped_column(JSON)
    stake_currency: Mapped[str] = mapped_column(String(20))
    starting_balance: Mapped[float] = mapped_column(Float)
    max_open_trades: Mapped[int] = mapped_column(Integer)
    config_hash: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    trade_count: Mapped[int] = mapped_column(Integer)
    profit_total_abs: Mapped[float] = mapped_column(Float)
    profit_total: Mapped[float] = mapped_column(Float)
    max_drawdown_account: Mapped[float] = mapped_column(Float)
    atb_version: Mapped[str] = mapped_column(String(40))
    data_source: Mapped[str] = mapped_column(Text, default="")

    trades: Mapped[list[BacktestTradeRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (Index("ix_backtest_runs_strategy", "strategy"),
                      Index("ix_backtest_runs_created_at", "created_at"))


class BacktestTradeRow(Base):
    """One closed trade of a run (the columns of ``atb.backtest.results.TRADE_COLUMNS``)."""

    __tablename__ = "backtest_trades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("backtest_runs.id", ondelete="CASCADE"),
                                        index=True)
    seq: Mapped[int] = mapped_column(Integer)
    pair: Mapped[str] = mapped_column(String(50))
    open_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    close_date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    open_rate: Mapped[float] = mapped_column(Float(precision=53))
    close_rate: Mapped[float] = mapped_column(Float(precision=53))
    amount: Mapped[float] = mapped_column(Float(precision=53))
    profit_ratio: Mapped[float] = mapped_column(Float(precision=53))
    profit_abs: Mapped[float] = mapped_column(Float(precision=53))
    exit_reason: Mapped[str] = mapped_column(String(255))
    enter_tag: Mapped[str] = mapped_column(String(255))
    is_short: Mapped[bool] = mapped_column(Boolean)
    stake_amount: Mapped[float] = mapped_column(Float(precision=53))
    fee_open: Mapped[float] = mapped_column(Float(precision=53))
    fee_close: Mapped[float] = mapped_column(Float(precision=53))
    trade_duration: Mapped[int] = mapped_column(Integer)
    leverage: Mapped[float] = mapped_column(Float(precision=53))
    max_rate: Mapped[float] = mapped_column(Float(precision=53))
    min_rate: Mapped[float] = mapped_column(Float(precision=53))

    run: Mapped[BacktestRunRow] = relationship(back_populates="trades")


class ModelArtifactRow(Base):
    """One registered model version, mirrored from :class:`atb.ml.registry.ModelRegistry`."""

    __tablename__ = "model_artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    features: Mapped[list[str]] = mapped_column(JSON)
    train_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    train_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_artifacts_name_version"),)
