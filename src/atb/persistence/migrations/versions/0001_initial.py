"""Initial schema: backtest runs and trades, model artefacts, and the paper/live trading tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

Databases created before migrations existed (``Base.metadata.create_all``) already hold some of
these tables; each table is created only when it is missing, so upgrading such a database adds the
live-trading tables and keeps its runs. Decimal columns are ``VARCHAR(64)`` holding the exact
decimal text (``atb.persistence.live_tables.DecimalText``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Tables of this revision, in creation order (parents before children).
TABLES = ("backtest_runs", "backtest_trades", "model_artifacts", "live_id_counters", "live_orders",
          "live_fills", "live_positions", "live_balance_snapshots", "live_balances", "live_decisions",
          "live_trades")


def _dec(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=64), nullable=nullable)


def _utc(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _col(name: str, type_: sa.types.TypeEngine, nullable: bool = False) -> sa.Column:
    return sa.Column(name, type_, nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def _schema() -> dict[str, tuple[list[SchemaItem], list[tuple[str, list[str]]]]]:
    f53 = sa.Float(precision=53)
    return {
        "backtest_runs": ([
            _id(), _utc("created_at"), _str("strategy", 200), _str("timeframe", 10),
            _utc("backtest_start"), _utc("backtest_end"), _col("pairs", sa.JSON()),
            _str("stake_currency", 20), _col("starting_balance", sa.Float()),
            _col("max_open_trades", sa.Integer()), _str("config_hash", 64), _col("config", sa.JSON()),
            _col("metrics", sa.JSON()), _col("trade_count", sa.Integer()),
            _col("profit_total_abs", sa.Float()), _col("profit_total", sa.Float()),
            _col("max_drawdown_account", sa.Float()), _str("atb_version", 40),
            _col("data_source", sa.Text()), sa.PrimaryKeyConstraint("id"),
        ], [("ix_backtest_runs_created_at", ["created_at"]), ("ix_backtest_runs_strategy", ["strategy"])]),
        "backtest_trades": ([
            _id(), _col("run_id", sa.Integer()), _col("seq", sa.Integer()), _str("pair", 50),
            _utc("open_date"), _utc("close_date"), _col("open_rate", f53), _col("close_rate", f53),
            _col("amount", f53), _col("profit_ratio", f53), _col("profit_abs", f53),
            _str("exit_reason", 255), _str("enter_tag", 255), _col("is_short", sa.Boolean()),
            _col("stake_amount", f53), _col("fee_open", f53), _col("fee_close", f53),
            _col("trade_duration", sa.Integer()), _col("leverage", f53), _col("max_rate", f53),
            _col("min_rate", f53),
            sa.ForeignKeyConstraint(["run_id"], ["backtest_runs.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        ], [("ix_backtest_trades_run_id", ["run_id"])]),
        "model_artifacts": ([
            _id(), _str("name", 128), _col("version", sa.Integer()), _str("kind", 64), _str("task", 32),
            _col("path", sa.Text()), _str("sha256", 64), _col("features", sa.JSON()),
            _utc("train_start"), _utc("train_end"), _col("metrics", sa.JSON()), _col("params", sa.JSON()),
            _utc("created_at"), sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name", "version", name="uq_model_artifacts_name_version"),
        ], []),
        "live_id_counters": ([
            _str("strategy_id", 128), _str("tag", 8), _col("last_seq", sa.BigInteger()),
            sa.PrimaryKeyConstraint("strategy_id"),
        ], []),
        "live_orders": ([
            _str("client_order_id", 36), _str("venue", 64), _str("strategy_id", 128), _str("pair", 50),
            _str("side", 8), _str("order_type", 16), _dec("amount"), _dec("price", True),
            _dec("stop_price", True), _str("time_in_force", 8), _col("post_only", sa.Boolean()),
            _col("reduce_only", sa.Boolean()), _str("status", 20), _str("venue_order_id", 128, True),
            _dec("filled"), _dec("average", True), _dec("fee"), _utc("created_at"), _utc("updated_at"),
            _str("tag", 255, True), sa.PrimaryKeyConstraint("client_order_id"),
        ], [("ix_live_orders_pair", ["pair"]), ("ix_live_orders_status", ["status"]),
            ("ix_live_orders_strategy_status", ["strategy_id", "status"])]),
        "live_fills": ([
            _id(), _str("venue", 64), _str("fill_id", 128), _str("client_order_id", 36),
            _str("strategy_id", 128), _str("pair", 50), _str("side", 8), _dec("price"), _dec("amount"),
            _dec("fee"), _str("fee_currency", 20), _col("is_maker", sa.Boolean()), _utc("at"),
            sa.ForeignKeyConstraint(["client_order_id"], ["live_orders.client_order_id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("venue", "fill_id", name="uq_live_fills_venue_fill_id"),
        ], [("ix_live_fills_client_order_id", ["client_order_id"]),
            ("ix_live_fills_pair_at", ["pair", "at"])]),
        "live_positions": ([
            _str("strategy_id", 128), _str("pair", 50), _dec("amount"), _dec("avg_price"),
            _dec("realised_pnl"), _dec("fees"), _utc("updated_at", True),
            sa.PrimaryKeyConstraint("strategy_id", "pair"),
        ], []),
        "live_balance_snapshots": ([
            _id(), _str("venue", 64), _utc("at"), sa.PrimaryKeyConstraint("id"),
        ], [("ix_live_balance_snapshots_venue_at", ["venue", "at"])]),
        "live_balances": ([
            _col("snapshot_id", sa.Integer()), _str("currency", 32), _dec("free"), _dec("used"),
            sa.ForeignKeyConstraint(["snapshot_id"], ["live_balance_snapshots.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("snapshot_id", "currency"),
        ], []),
        "live_decisions": ([
            _id(), _str("strategy_id", 128), _str("pair", 50), _utc("candle_time"), _str("action", 32),
            _col("signals", sa.JSON()), _str("risk_verdict", 16, True), _str("risk_rule", 64, True),
            _col("risk_reason", sa.Text(), True), _str("client_order_id", 36, True), _utc("created_at"),
            sa.PrimaryKeyConstraint("id"),
        ], [("ix_live_decisions_strategy_id", ["strategy_id", "id"])]),
        "live_trades": ([
            _str("trade_id", 64), _str("strategy_id", 128), _str("venue", 64), _str("pair", 50),
            _str("side", 8), _dec("amount"), _utc("open_time"), _dec("open_rate"),
            _str("entry_client_order_id", 36), _utc("close_time", True), _dec("close_rate", True),
            _dec("profit_abs", True), _dec("profit_ratio", True), _str("exit_reason", 255, True),
            _str("exit_client_order_id", 36, True), _str("enter_tag", 255, True),
            sa.PrimaryKeyConstraint("trade_id"),
        ], [("ix_live_trades_strategy_close", ["strategy_id", "close_time"])]),
    }


def upgrade() -> None:
    """Create every table of this revision that does not exist yet, with its indexes."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    schema = _schema()
    for name in TABLES:
        if name in existing:
            continue
        items, indexes = schema[name]
        op.create_table(name, *items)
        for index, columns in indexes:
            op.create_index(index, name, columns, unique=False)


def downgrade() -> None:
    """Drop every table of this revision (children first)."""
    for name in reversed(TABLES):
        op.drop_table(name)
