"""Repository of backtest runs (save, list, get, delete) over a session factory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from atb import __version__
from atb.backtest.results import TRADE_COLUMNS, BacktestResult
from atb.errors import PersistenceError
from atb.persistence.tables import BacktestRunRow, BacktestTradeRow

__all__ = ["BacktestRunRepository", "RunSummary", "StoredRun"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """A stored run, without its trades."""

    id: int
    created_at: datetime
    strategy: str
    timeframe: str
    backtest_start: datetime
    backtest_end: datetime
    pairs: tuple[str, ...]
    trade_count: int
    profit_total_abs: float
    profit_total: float
    max_drawdown_account: float
    config_hash: str
    stake_currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRun:
    """A stored run with config, metrics and trades (columns ``TRADE_COLUMNS``)."""

    summary: RunSummary
    config: dict[str, Any]
    metrics: dict[str, Any]
    trades: pd.DataFrame


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, bool | str) or obj is None:
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, pd.Timestamp | datetime):
        return pd.Timestamp(obj).isoformat()
    return str(obj)


def _utc(dt: datetime) -> datetime:
    ts = pd.Timestamp(dt)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()


def _summary(row: BacktestRunRow) -> RunSummary:
    return RunSummary(
        id=row.id, created_at=_utc(row.created_at), strategy=row.strategy, timeframe=row.timeframe,
        backtest_start=_utc(row.backtest_start), backtest_end=_utc(row.backtest_end),
        pairs=tuple(row.pairs), trade_count=row.trade_count, profit_total_abs=row.profit_total_abs,
        profit_total=row.profit_total, max_drawdown_account=row.max_drawdown_account,
        config_hash=row.config_hash, stake_currency=row.stake_currency,
    )


class BacktestRunRepository:
    """Stores and reads backtest runs.

    Parameters
    ----------
    session_factory : sessionmaker
        From :func:`atb.persistence.db.create_session_factory`.
    """

    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def save(self, result: BacktestResult, metrics: dict[str, Any]) -> int:
        """Store the run and all its trades in one transaction; returns the run id.

        Raises
        ------
        PersistenceError
            If the database rejects the write (nothing is stored then).
        """
        row = BacktestRunRow(
            strategy=result.strategy, timeframe=result.timeframe,
            backtest_start=_utc(result.backtest_start), backtest_end=_utc(result.backtest_end),
            pairs=list(result.pairs), stake_currency=result.stake_currency,
            starting_balance=float(result.starting_balance),
            max_open_trades=int(result.max_open_trades), config_hash=result.config_hash,
            config=_json_safe(result.config), metrics=_json_safe(metrics),
            trade_count=len(result.trades),
            profit_total_abs=float(metrics.get("profit_total_abs") or 0.0),
            profit_total=float(metrics.get("profit_total") or 0.0),
            max_drawdown_account=float(metrics.get("max_drawdown_account") or 0.0),
            atb_version=__version__, data_source=str(result.config.get("datadir", "")),
        )
        trade_rows = _trade_rows(result.trades)
        try:
            with self._sessions.begin() as session:
                session.add(row)
                session.flush()
                run_id = row.id
                if trade_rows:
                    for r in trade_rows:
                        r["run_id"] = run_id
                    session.execute(insert(BacktestTradeRow), trade_rows)
        except SQLAlchemyError as exc:
            raise PersistenceError(f"could not store the backtest run: {exc}") from None
        return run_id

    def list(self, limit: int = 50, strategy: str | None = None) -> list[RunSummary]:
        """Stored runs, newest first."""
        stmt = select(BacktestRunRow).order_by(BacktestRunRow.id.desc()).limit(limit)
        if strategy:
            stmt = stmt.where(BacktestRunRow.strategy == strategy)
        with self._sessions() as session:
            return [_summary(r) for r in session.scalars(stmt)]

    def get(self, run_id: int) -> StoredRun:
        """One run with its trades.

        Raises
        ------
        PersistenceError
            If no run has this id.
        """
        with self._sessions() as session:
            row = session.get(BacktestRunRow, run_id)
            if row is None:
                raise PersistenceError(f"no backtest run with id {run_id}")
            trades = sorted(row.trades, key=lambda t: t.seq)
            df = pd.DataFrame([{c: getattr(t, c) for c in TRADE_COLUMNS} for t in trades],
                              columns=list(TRADE_COLUMNS))
            for c in ("open_date", "close_date"):
                df[c] = pd.to_datetime(df[c], utc=True)
            df["trade_duration"] = df["trade_duration"].astype("int64")
            df["is_short"] = df["is_short"].astype(bool)
            return StoredRun(summary=_summary(row), config=row.config, metrics=row.metrics, trades=df)

    def delete(self, run_id: int) -> None:
        """Delete a run and its trades."""
        with self._sessions.begin() as session:
            row = session.get(BacktestRunRow, run_id)
            if row is None:
                raise PersistenceError(f"no backtest run with id {run_id}")
            session.delete(row)


def _trade_rows(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """Trades as plain dicts for one bulk insert (UTC datetimes, Python scalars)."""
    if trades.empty:
        return []
    out = trades[list(TRADE_COLUMNS)].copy()
    for c in ("open_date", "close_date"):
        out[c] = [_utc(x) for x in out[c]]
    rows = out.to_dict("records")
    for i, r in enumerate(rows):
        r["seq"] = i
        for k, v in r.items():
            r[k] = _plain(v)
    return rows


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v
