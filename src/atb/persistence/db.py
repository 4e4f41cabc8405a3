"""Engine and session factory for the run store (no globals: callers keep what they build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from atb.errors import PersistenceError
from atb.persistence.tables import Base

__all__ = ["create_db_engine", "create_session_factory", "redact_url"]


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


def create_db_engine(db_url: str | None, user_data_dir: Path) -> Engine:
    """Open (and create the schema of) the run store.

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
        Invalid URL or the database cannot be reached (password redacted in the message).
    """
    if db_url is None:
        Path(user_data_dir).mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{Path(user_data_dir) / 'atb.sqlite'}"
    url = _normalise(db_url)
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise PersistenceError(f"run store URL {redact_url(db_url)} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragma(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    try:
        Base.metadata.create_all(engine)
    except (OperationalError, SQLAlchemyError) as exc:
        orig = getattr(exc, "orig", None)
        first = (str(orig) if orig is not None else str(exc)).splitlines()[0]
        raise PersistenceError(f"cannot open run store {redact_url(db_url)}: {first}") from None
    return engine


def create_session_factory(engine: Engine) -> sessionmaker:
    """Session factory bound to ``engine`` (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)
