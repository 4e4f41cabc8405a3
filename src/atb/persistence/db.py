"""Engine and session factory for the run store (no globals: callers keep what they build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import sessionmaker

from atb.errors import PersistenceError

__all__ = ["create_db_engine", "create_session_factory", "make_engine", "redact_url"]


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


def _normalise(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(db_url: str) -> Engine:
    """An engine for ``db_url`` without touching the schema (see :func:`create_db_engine`).

    SQLite connections use the WAL journal and enforce foreign keys; ``postgresql://`` URLs use
    psycopg 3.

    Raises
    ------
    PersistenceError
        The URL is invalid or its driver is not installed (password redacted in the message).
    """
    try:
        engine = create_engine(_normalise(db_url), future=True, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise PersistenceError(f"run store URL {redact_url(db_url)} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragma(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    return engine


def create_db_engine(db_url: str | None, user_data_dir: Path) -> Engine:
    """Open the run store and migrate its schema to the newest revision.

    Parameters
    ----------
    db_url : str or None
        SQLAlchemy URL; ``postgresql://`` uses psycopg 3. None means
        ``sqlite:///<user_data_dir>/atb.sqlite`` (WAL journal, foreign keys on).
    user_data_dir : Path
        Folder for the default SQLite file (created if needed).

    Raises
    ------
    PersistenceError
        Invalid URL, the database cannot be reached, or its schema cannot be migrated
        (:func:`atb.persistence.migrate.upgrade_db`; password redacted in the message).
    """
    from atb.persistence.migrate import upgrade_db

    if db_url is None:
        Path(user_data_dir).mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{Path(user_data_dir) / 'atb.sqlite'}"
    engine = make_engine(db_url)
    try:
        upgrade_db(engine)
    except PersistenceError:
        engine.dispose()
        raise
    return engine


def create_session_factory(engine: Engine) -> sessionmaker:
    """Session factory bound to ``engine`` (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)
