"""Run store: backtest runs and their trades in SQLite (default) or PostgreSQL."""

from atb.persistence.db import create_db_engine, create_session_factory, redact_url
from atb.persistence.repositories import BacktestRunRepository, RunSummary, StoredRun

__all__ = [
    "BacktestRunRepository",
    "RunSummary",
    "StoredRun",
    "create_db_engine",
    "create_session_factory",
    "redact_url",
]
