"""Alembic environment of the atb run store.

Run programmatically by :func:`atb.persistence.migrate.upgrade_db`, which passes an open connection
(already inside its transaction) as ``config.attributes["connection"]``. Developers can also point
the ``alembic`` command at it (``alembic -x url=sqlite:///x.sqlite revision --autogenerate``, with
``script_location`` set to this folder) to write the next revision against
:data:`atb.persistence.tables.Base.metadata`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

import atb.persistence.live_tables  # noqa: F401  (registers the live tables on Base.metadata)
from atb.persistence.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set sqlalchemy.url")
    return url


def _configure(**kwargs: object) -> None:
    context.configure(target_metadata=target_metadata, compare_type=True, render_as_batch=True,
                      **kwargs)  # type: ignore[arg-type]


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a new one to the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
