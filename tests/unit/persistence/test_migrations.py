"""Alembic migrations: head equals the SQLAlchemy metadata; legacy create_all stores are adopted.

PostgreSQL cases run on 127.0.0.1:5432 in a throwaway database per test.
"""

from __future__ import annotations

import doctest
import threading
import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

import atb.persistence.migrate
import atb.persistence.order_store
from atb.errors import PersistenceError
from atb.persistence.db import create_db_engine, create_session_factory, make_engine
from atb.persistence.live_tables import LiveOrderRow
from atb.persistence.migrate import (
    SCRIPT_LOCATION,
    alembic_config,
    current_revision,
    head_revision,
    upgrade_db,
)
from atb.persistence.tables import BacktestRunRow, BacktestTradeRow, Base, ModelArtifactRow

ALL_TABLES = {t.name for t in Base.metadata.sorted_tables}


def _pg_database():
    import psycopg

    name = f"atb_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                               autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required for this test: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')
    return conn, name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'atb.sqlite'}"
        return
    conn, name = _pg_database()
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


def _diff(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def _legacy_run(engine) -> None:
    with create_session_factory(engine)() as s, s.begin():
        s.add(BacktestRunRow(
            strategy="Legacy", timeframe="1h", backtest_start=datetime(2024, 1, 1, tzinfo=UTC),
            backtest_end=datetime(2024, 2, 1, tzinfo=UTC), pairs=["BTC/USDT"], stake_currency="USDT",
            starting_balance=1000.0, max_open_trades=1, config_hash="0" * 64, config={}, metrics={},
            trade_count=0, profit_total_abs=0.0, profit_total=0.0, max_drawdown_account=0.0,
            atb_version="0.0.1"))


def test_migrations_ship_inside_the_package():
    assert (SCRIPT_LOCATION / "env.py").is_file() and (SCRIPT_LOCATION / "script.py.mako").is_file()
    assert (SCRIPT_LOCATION / "versions" / "0001_initial.py").is_file()
    assert head_revision() == "0001"


@pytest.mark.parametrize("module", [atb.persistence.migrate, atb.persistence.order_store])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0


def test_head_equals_metadata(url, tmp_path):
    engine = create_db_engine(url, tmp_path)
    try:
        assert set(inspect(engine).get_table_names()) == ALL_TABLES | {"alembic_version"}
        assert current_revision(engine) == head_revision()
        assert _diff(engine) == []
        assert upgrade_db(engine) == head_revision()  # idempotent
    finally:
        engine.dispose()


def test_legacy_create_all_store_is_upgraded_and_keeps_its_rows(url, tmp_path):
    engine = make_engine(url)
    try:
        legacy = [BacktestRunRow.__table__, BacktestTradeRow.__table__, ModelArtifactRow.__table__]
        Base.metadata.create_all(engine, tables=legacy)
        _legacy_run(engine)
        assert current_revision(engine) is None
        assert upgrade_db(url) == head_revision()  # by URL: an engine of its own, disposed
        assert set(inspect(engine).get_table_names()) == ALL_TABLES | {"alembic_version"}
        assert _diff(engine) == []
        with engine.connect() as conn:
            assert conn.execute(select(BacktestRunRow.strategy)).scalars().all() == ["Legacy"]
    finally:
        engine.dispose()


def test_full_create_all_store_is_stamped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        Base.metadata.create_all(engine)
        _legacy_run(engine)
        assert upgrade_db(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM backtest_runs")).scalar() == 1
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        upgrade_db(engine)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        assert upgrade_db(engine, "0001") == "0001" and _diff(engine) == []
    finally:
        engine.dispose()


def test_concurrent_first_opens_migrate_once(url, tmp_path):
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            create_db_engine(url, tmp_path).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_revision(url) == head_revision()


def test_unknown_revision_and_bad_target_are_persistence_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    with pytest.raises(PersistenceError, match="zzz"):
        upgrade_db(url, "zzz")
    upgrade_db(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(PersistenceError, match="revision 9999, unknown to this atb"):
            create_db_engine(url, tmp_path)
        with engine.connect() as conn:  # nothing was touched
            assert inspect(conn).has_table(LiveOrderRow.__tablename__)
    finally:
        engine.dispose()


def test_unreachable_database_is_a_persistence_error_with_redacted_password(tmp_path):
    with pytest.raises(PersistenceError, match=r"u:\*\*\*@127\.0\.0\.1:1"):
        upgrade_db("postgresql://u:secret@127.0.0.1:1/nope")
    with pytest.raises(PersistenceError, match="not usable"):
        current_revision("nope://")
