import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from atb.cli.main import app
from atb.errors import ConfigError, ModelError, PersistenceError
from atb.ml import ModelRegistry, create_model, export_onnx, load_model
from atb.ml.adapters.onnx import OnnxModel
from atb.ml.registry import artefact_sha256
from atb.persistence import create_db_engine, create_session_factory
from atb.persistence.model_store import SqlModelIndex

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] > 0).astype(float)
    m = create_model("lightgbm", "classification", {"n_estimators": 10})
    m.fit(X, y)
    return m, X


@pytest.fixture
def artefact(fitted, tmp_path):
    m, X = fitted
    d = tmp_path / "artefact"
    m.save(d)
    export_onnx(m, 3, d / "model.onnx", probe=X)
    return d


def _register(reg, artefact, name="btc-dir", **over):
    kw = dict(kind="lightgbm", task="classification", features=["a", "b", "c"], train_start=T0,
              train_end=T1, metrics={"auc": 0.61, "nan": float("nan"), "n": np.int64(5)},
              params={"n_estimators": 10})
    kw.update(over)
    return reg.register(name, artefact, **kw)


def test_register_list_get_and_versions(tmp_path, artefact, fitted):
    reg = ModelRegistry(tmp_path / "models")
    r1 = _register(reg, artefact)
    r2 = _register(reg, artefact, train_end=T1 + timedelta(days=1))
    _register(reg, artefact, name="other")
    assert (r1.version, r2.version) == (1, 2)
    assert r1.path == tmp_path / "models" / "btc-dir" / "1"
    assert r1.files == ("meta.json", "model.onnx", "model.txt")
    assert r1.sha256 == r2.sha256 == artefact_sha256(artefact, list(r1.files))
    assert r1.metrics == {"auc": 0.61, "nan": None, "n": 5}
    assert r1.train_start == T0 and r1.created_at.tzinfo is not None
    meta = json.loads((r1.path / "metadata.json").read_text())
    assert meta["train_end"] == "2025-06-01T00:00:00+00:00" and meta["features"] == ["a", "b", "c"]
    assert [(r.name, r.version) for r in reg.list()] == [("btc-dir", 1), ("btc-dir", 2), ("other", 1)]
    assert reg.get("btc-dir").version == 2 and reg.get("btc-dir", 1) == r1
    assert not any(p.name.startswith(".tmp") for p in (tmp_path / "models").iterdir())
    m, X = fitted
    native = load_model(r1)
    np.testing.assert_array_equal(native.predict_proba(X), m.predict_proba(X))
    onnx_model = load_model(r1, prefer="onnx")
    assert isinstance(onnx_model, OnnxModel)
    np.testing.assert_allclose(onnx_model.predict_proba(X), m.predict_proba(X.astype(np.float32)), atol=1e-5)


def test_missing_models_and_bad_input(tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "models")
    with pytest.raises(ModelError, match="no model named 'nope'"):
        reg.get("nope")
    _register(reg, artefact)
    with pytest.raises(ModelError, match="has no version 7"):
        reg.get("btc-dir", 7)
    with pytest.raises(ConfigError, match="model name"):
        _register(reg, artefact, name="../evil")
    with pytest.raises(ConfigError, match="train_start"):
        _register(reg, artefact, train_start=datetime(2025, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ModelError, match="holds no files"):
        _register(reg, tmp_path / "empty")


def test_non_utc_times_are_converted(tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "models")
    r = _register(reg, artefact, train_start=datetime(2025, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert r.train_start == T0 and r.train_start.utcoffset() == timedelta(0)


def test_verify_detects_tampering_and_malformed_metadata(tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "models")
    r = _register(reg, artefact)
    reg.verify(r)
    (r.path / "model.txt").write_text((r.path / "model.txt").read_text() + " ")
    with pytest.raises(ModelError, match=r"field 'sha256' of .*metadata.json"):
        reg.verify(r)
    with pytest.raises(ModelError, match="sha256"):
        load_model(r)
    meta = json.loads((r.path / "metadata.json").read_text())
    del meta["train_end"]
    (r.path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"metadata.json: field 'train_end'"):
        reg.verify(r)
    (r.path / "metadata.json").write_text("{not json")
    with pytest.raises(ModelError, match="not JSON"):
        reg.get("btc-dir")
    r2 = _register(reg, artefact, name="gone")
    (r2.path / "model.onnx").unlink()
    with pytest.raises(ModelError, match="model.onnx listed in .* is missing"):
        reg.verify(r2)


class FailingIndex:
    def add(self, record):
        raise PersistenceError("index down")

    def list(self):
        return []


def test_failed_registration_leaves_nothing(tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "models", index=FailingIndex())
    with pytest.raises(PersistenceError, match="index down"):
        _register(reg, artefact)
    assert [p.name for p in (tmp_path / "models").rglob("*") if p.is_file()] == []
    assert ModelRegistry(tmp_path / "models").list() == []


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
def index(request, tmp_path):
    if request.param == "sqlite":
        engine = create_db_engine(None, tmp_path / "user_data")
    else:
        engine = create_db_engine(request.getfixturevalue("pg_url"), tmp_path)
    yield SqlModelIndex(create_session_factory(engine))
    engine.dispose()


def test_sql_model_index_mirrors_registry(index, tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "models", index=index)
    r1 = _register(reg, artefact)
    r2 = _register(reg, artefact, metrics={"auc": 0.7})
    rows = index.list()
    assert [(r.name, r.version) for r in rows] == [("btc-dir", 1), ("btc-dir", 2)]
    got = rows[0]
    assert (got.path, got.sha256, got.features, got.kind, got.task) == (
        r1.path, r1.sha256, r1.features, "lightgbm", "classification")
    assert got.train_start == T0 and got.train_end == T1 and got.created_at == r1.created_at
    assert got.metrics == {"auc": 0.61, "nan": None, "n": 5} and rows[1].metrics == r2.metrics
    with pytest.raises(PersistenceError, match="already indexed"):
        index.add(r1)


def test_cli_models_list_and_show(tmp_path, artefact):
    reg = ModelRegistry(tmp_path / "ud" / "models")
    _register(reg, artefact)
    _register(reg, artefact, metrics={"auc": 0.7})
    runner = CliRunner()
    res = runner.invoke(app, ["models", "list", "--userdir", str(tmp_path / "ud")])
    assert res.exit_code == 0, res.output
    assert "btc-dir" in res.output and "lightgbm" in res.output and res.output.count("btc-dir") == 2
    res = runner.invoke(app, ["models", "show", "btc-dir", "--version", "1",
                              "--registry", str(tmp_path / "ud" / "models")])
    assert res.exit_code == 0, res.output
    assert "v1" in res.output and "0.61" in res.output and "(verified)" in res.output
    empty = runner.invoke(app, ["models", "list", "--registry", str(tmp_path / "none")])
    assert empty.exit_code == 0 and "No models registered" in empty.output


def test_cli_models_show_missing_exits_2(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "atb.cli.main", "models", "show", "nope", "--registry",
                          str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"Error: no model named 'nope' in registry {tmp_path}"]
    assert not Path(tmp_path / "user_data").exists()
