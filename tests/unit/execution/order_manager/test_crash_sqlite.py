"""The crash simulation on the SQLite order store: the restart opens the database file again."""

from __future__ import annotations

import pytest

from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore

from .test_crash import _session


@pytest.mark.parametrize("crash_at", [0, 4, 5, 9, 14, 30, 57, 80, 101])
def test_sqlite_restart_after_crash_is_consistent(tmp_path, crash_at):
    url = f"sqlite:///{tmp_path / 'atb.sqlite'}"
    engines = []

    def open_store() -> SqlOrderStore:
        engine = create_db_engine(url, tmp_path)
        engines.append(engine)
        return SqlOrderStore(create_session_factory(engine))

    try:
        crashed, _, _ = _session(crash_at, open_store)
    finally:
        for e in engines:
            e.dispose()
    assert crashed == (crash_at > 0)
