"""``atb db upgrade`` / ``atb db current`` end to end (SQLite in a temp dir, PostgreSQL on 127.0.0.1)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from atb.persistence.db import make_engine
from atb.persistence.tables import BacktestRunRow, Base


def _atb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atb.cli.main", "db", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _in_process(capsys, *args: str) -> subprocess.CompletedProcess[str]:
    """``atb db ARGS`` through :func:`atb.cli.main.main` in this process (same error handling, faster)."""
    from atb.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["db", *args])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["atb", "db", *args], exit_info.value.code, out, err)


def _one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_upgrade_then_current_on_default_sqlite(tmp_path, capsys):
    userdir = tmp_path / "user_data"
    proc = _in_process(capsys, "current", "--userdir", str(userdir))
    assert proc.returncode == 0 and "no database yet" in proc.stdout and not userdir.exists()
    proc = _atb("upgrade", "--userdir", str(userdir), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "at revision 0001 (head; from empty)" in proc.stdout
    assert (userdir / "atb.sqlite").is_file()
    proc = _in_process(capsys, "upgrade", "--user-data-dir", str(userdir))
    assert proc.returncode == 0 and "(head; unchanged)" in proc.stdout
    proc = _atb("current", "--userdir", str(userdir), cwd=tmp_path)
    assert proc.returncode == 0 and "at revision 0001 (head)" in proc.stdout


def test_legacy_store_is_reported_then_upgraded(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine, tables=[BacktestRunRow.__table__])
    engine.dispose()
    proc = _in_process(capsys, "current", "--db-url", url)
    assert proc.returncode == 0 and "not under migration control" in proc.stdout
    proc = _in_process(capsys, "upgrade", "--db-url", url, "--revision", "0001")
    assert proc.returncode == 0 and "at revision 0001" in proc.stdout, proc.stderr


def test_bad_url_exits_2_with_one_line(tmp_path):
    _one_line_error(_atb("upgrade", "--db-url", "nope://x", cwd=tmp_path), "nope://x", "not usable")


def test_unreachable_db_and_bad_revision_exit_2(tmp_path, capsys):
    proc = _in_process(capsys, "current", "--db-url", "postgresql://u:secret@127.0.0.1:1/x")
    _one_line_error(proc, "u:***@127.0.0.1:1", "cannot open run store")
    assert "secret" not in proc.stderr
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    proc = _in_process(capsys, "upgrade", "--db-url", url, "--revision", "zzz")
    _one_line_error(proc, "zzz")
    assert "secret" not in proc.stderr


@pytest.mark.postgres
def test_upgrade_postgresql(tmp_path, capsys):
    import psycopg

    name = f"atb_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True,
                                connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required for this test: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        proc = _in_process(capsys, "upgrade", "--db-url", url)
        assert proc.returncode == 0 and "at revision 0001 (head; from empty)" in proc.stdout, proc.stderr
        proc = _in_process(capsys, "current", "--db-url", url)
        assert proc.returncode == 0 and "0001 (head)" in proc.stdout
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()
