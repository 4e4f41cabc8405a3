"""Schema migrations of the run store, run programmatically with Alembic (no ``alembic.ini`` needed).

The Alembic environment and revisions ship inside the package (``atb/persistence/migrations``).
:func:`upgrade_db` is what :func:`atb.persistence.db.create_db_engine` runs on every open and what
``atb db upgrade`` calls.

Databases created before migrations existed (by ``Base.metadata.create_all``) have atb's tables but
no ``alembic_version`` table: when every table of a revision is present, that revision is stamped
before upgrading; otherwise the initial revision creates just the tables that are missing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from atb.errors import PersistenceError

__all__ = ["SCRIPT_LOCATION", "current_revision", "head_revision", "upgrade_db"]

#: Folder of the Alembic environment (``env.py``, ``versions/``) inside the installed package.
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"

#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
_PG_LOCK_KEY = 0x61746264625F6D67  # "atbdb_mg"

#: Alembic's ``context``/``op`` proxies are module globals: one migration at a time per process.
_ALEMBIC_LOCK = threading.Lock()

#: Tables present when a revision is applied, for stamping databases made by ``create_all``.
_REVISION_TABLES: dict[str, frozenset[str]] = {
    "0001": frozenset({
        "backtest_runs", "backtest_trades", "model_artifacts", "live_id_counters", "live_orders",
        "live_fills", "live_positions", "live_balance_snapshots", "live_balances", "live_decisions",
        "live_trades"}),
}


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` built in code, pointing at the packaged environment.

    Parameters
    ----------
    connection : Connection or None
        Handed to ``env.py`` (``config.attributes["connection"]``); migrations then run on it,
        inside its transaction.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _script() -> tuple[str, frozenset[str]]:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise PersistenceError(f"no migration revisions found in {SCRIPT_LOCATION}")
    return head, frozenset(r.revision for r in script.walk_revisions())


def head_revision() -> str:
    """The newest revision this version of atb knows (``"0001"``, ...)."""
    return _script()[0]


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _engine(engine_or_url: Engine | str) -> Iterator[Engine]:
    if isinstance(engine_or_url, Engine):
        yield engine_or_url
        return
    from atb.persistence.db import make_engine

    engine = make_engine(engine_or_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _heads(conn: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(conn).get_current_heads())


def _fail(engine: Engine, exc: Exception) -> PersistenceError:
    orig = getattr(exc, "orig", None)
    first = (str(orig) if orig is not None else str(exc)).strip().splitlines()
    return PersistenceError(f"cannot open run store {_describe(engine)}: {first[0] if first else exc}")


def current_revision(engine_or_url: Engine | str) -> str | None:
    """The revision the database is at (None: not under migration control yet).

    Raises
    ------
    PersistenceError
        Invalid URL, or the database cannot be reached.
    """
    with _engine(engine_or_url) as engine:
        try:
            with engine.connect() as conn:
                heads = _heads(conn)
        except SQLAlchemyError as exc:
            raise _fail(engine, exc) from None
    return heads[0] if heads else None


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # one migrator at a time; DDL inside the transaction
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _legacy_revision(conn: Connection) -> str | None:
    existing = set(inspect(conn).get_table_names())
    matching = [rev for rev, tables in _REVISION_TABLES.items() if tables <= existing]
    return max(matching) if matching else None


def upgrade_db(engine_or_url: Engine | str, revision: str = "head") -> str | None:
    """Migrate the run store to ``revision`` (one transaction; concurrent callers wait their turn).

    Parameters
    ----------
    engine_or_url : Engine or str
        An engine (from :func:`atb.persistence.db.make_engine`) or a SQLAlchemy URL
        (``postgresql://`` uses psycopg 3; an engine made from a URL is disposed on return).
    revision : str
        Target revision id, or ``"head"``.

    Returns
    -------
    str or None
        The revision the database is at afterwards.

    Raises
    ------
    PersistenceError
        Invalid URL or revision, unreachable database, a database at a revision this atb does not
        know (made by a newer version), or a failing migration (nothing is changed then, except on
        SQLite for DDL that SQLite cannot roll back).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     upgrade_db(f"sqlite:///{tmp}/atb.sqlite") == head_revision()
    True
    """
    with _engine(engine_or_url) as engine:
        try:
            head, known = _script()
            with engine.connect() as conn:
                heads = _heads(conn)
            if heads == (head,) and revision in ("head", head):
                return head  # fast path: nothing to do, no lock taken
            unknown = sorted(set(heads) - known)
            if unknown:
                raise PersistenceError(f"run store {_describe(engine)} is at schema revision "
                                       f"{', '.join(unknown)}, unknown to this atb (newest {head}): "
                                       "upgrade atb")
            with _ALEMBIC_LOCK, engine.begin() as conn:
                _lock(conn)
                cfg = alembic_config(conn)
                if not _heads(conn):
                    legacy = _legacy_revision(conn)
                    if legacy is not None:
                        command.stamp(cfg, legacy)
                command.upgrade(cfg, revision)
                heads = _heads(conn)
        except (SQLAlchemyError, CommandError) as exc:
            raise _fail(engine, exc) from None
    return heads[0] if heads else None
