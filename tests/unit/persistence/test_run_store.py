"""Run store round trips on SQLite and on PostgreSQL (127.0.0.1:5432, own throwaway database)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from atb.backtest.metrics import compute_metrics
from atb.backtest.results import TRADE_COLUMNS, BacktestResult
from atb.cli.main import app
from atb.errors import PersistenceError
from atb.persistence import BacktestRunRepository, create_db_engine, create_session_factory


def _pg_admin_url() -> str:
    return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def pg_url():
    import psycopg

    name = f"atb_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                               autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required for this test: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request, tmp_path):
    if request.param == "sqlite":
        engine = create_db_engine(None, tmp_path / "user_data")
        assert (tmp_path / "user_data" / "atb.sqlite").is_file()
    else:
        engine = create_db_engine(request.getfixturevalue("pg_url"), tmp_path)
    yield BacktestRunRepository(create_session_factory(engine))
    engine.dispose()


@pytest.fixture(scope="module")
def result(shared_dir) -> BacktestResult:
    case = shared_dir / "parity/cases/sample_strategy__binance_1h"
    raw = pd.DataFrame(json.loads((case / "trades.json").read_text()))
    raw["open_date"] = pd.to_datetime(raw["open_date"], utc=True)
    raw["close_date"] = pd.to_datetime(raw["close_date"], utc=True)
    raw["leverage"] = 1.0
    raw["max_rate"] = raw[["open_rate", "close_rate"]].max(axis=1)
    raw["min_rate"] = raw[["open_rate", "close_rate"]].min(axis=1)
    return BacktestResult(
        strategy="SampleStrategy", timeframe="1h", pairs=tuple(sorted(raw["pair"].unique())),
        stake_currency="USDT", starting_balance=100000.0, max_open_trades=3,
        backtest_start=datetime(2024, 1, 9, 8, tzinfo=UTC),
        backtest_end=datetime(2026, 2, 20, 7, tzinfo=UTC),
        trades=raw[list(TRADE_COLUMNS)], config={"stake_amount": 100.0, "inf": "inf"},
        config_hash="ab" * 32,
    )


def test_save_get_round_trip_exact(repo, result):
    metrics = compute_metrics(result)
    run_id = repo.save(result, metrics)
    stored = repo.get(run_id)
    assert len(stored.trades) == 796
    pd.testing.assert_frame_equal(stored.trades, result.trades.reset_index(drop=True),
                                  check_dtype=False)
    assert stored.metrics["profit_total_abs"] == pytest.approx(-407.25240407, abs=1e-8)
    assert stored.summary.backtest_start == result.backtest_start
    assert stored.config["stake_amount"] == 100.0


def test_list_order_filter_delete(repo, result):
    a = repo.save(result, {"profit_total_abs": 1.0})
    other = BacktestResult(**{**{f: getattr(result, f) for f in result.__dataclass_fields__},
                              "strategy": "Other"})
    b = repo.save(other, {"profit_total_abs": 2.0})
    ids = [r.id for r in repo.list()]
    assert ids.index(b) < ids.index(a)  # newest first
    assert [r.strategy for r in repo.list(strategy="Other")] == ["Other"]
    repo.delete(b)
    with pytest.raises(PersistenceError, match=str(b)):
        repo.get(b)


def test_failed_save_stores_nothing(repo, result):
    before = len(repo.list(limit=1000))
    bad = result.trades.copy()
    bad["pair"] = bad["pair"].astype(object)
    bad.loc[bad.index[-1], "pair"] = None  # violates NOT NULL on the last trade
    broken = BacktestResult(**{**{f: getattr(result, f) for f in result.__dataclass_fields__},
                               "trades": bad})
    with pytest.raises(PersistenceError):
        repo.save(broken, {})
    assert len(repo.list(limit=1000)) == before


def test_bad_url_is_a_persistence_error(tmp_path):
    with pytest.raises(PersistenceError, match=r"\*\*\*"):
        create_db_engine("postgresql://user:secret@127.0.0.1:1/nope", tmp_path)


def test_backtesting_show_cli(tmp_path, result):
    engine = create_db_engine(None, tmp_path)
    run_id = BacktestRunRepository(create_session_factory(engine)).save(result, compute_metrics(result))
    out = CliRunner().invoke(app, ["backtesting-show", "--user-data-dir", str(tmp_path)])
    assert out.exit_code == 0 and "SampleStrategy" in out.output and "796" in out.output
    out = CliRunner().invoke(app, ["backtesting-show", "--user-data-dir", str(tmp_path),
                                   "--run-id", str(run_id), "--trades", "2"])
    assert out.exit_code == 0 and "INJ/USDT" in out.output and "first 2 of 796" in out.output
