import numpy as np
import pytest
import torch

from atb.errors import ConfigError, ModelError
from atb.ml import AdaptiveEnsemble, create_model, export_onnx
from atb.ml.adapters.onnx import OnnxModel


@pytest.fixture(scope="module")
def data(btc_dataset):
    X, y, _, fwd = btc_dataset
    ok = np.isfinite(X.to_numpy()).all(axis=1) & np.isfinite(y)
    return X.to_numpy()[ok], y[ok], fwd[ok]


def _check(model, X_probe, tmp_path, name):
    exp = export_onnx(model, X_probe.shape[1], tmp_path / name / "model.onnx", probe=X_probe)
    assert exp.path.is_file() and exp.max_abs_diff <= 1e-5
    onnx_model = OnnxModel(exp.path)
    X32 = X_probe.astype(np.float32).astype(np.float64)
    native = model.predict_proba(X32) if model.task == "classification" else model.predict(X32)
    got = onnx_model.predict_proba(X_probe) if model.task == "classification" else onnx_model.predict(X_probe)
    ok = ~np.isnan(np.asarray(native).reshape(len(X32), -1)).any(axis=1)
    assert np.max(np.abs(got[ok] - native[ok])) <= 1e-5
    return exp, onnx_model


def test_lightgbm_classifier_parity(data, tmp_path):
    X, y, _ = data
    m = create_model("lightgbm", "classification", {"n_estimators": 100})
    m.fit(X[:2500], y[:2500])
    exp, om = _check(m, X[2500:], tmp_path, "gbm")
    assert exp.source_kind == "lightgbm" and exp.n_probe == len(X) - 2500 and exp.seq_len == 1
    assert om.classes_.tolist() == [0.0, 1.0] and om.task == "classification"
    np.testing.assert_array_equal(om.predict(X[2500:2600]), m.predict(X[2500:2600].astype(np.float32)))


def test_lightgbm_regressor_parity(data, tmp_path):
    X, _, fwd = data
    m = create_model("lightgbm", "regression", {"n_estimators": 50})
    m.fit(X[:2500], fwd[:2500])
    _check(m, X[2500:], tmp_path, "gbm_reg")


@pytest.mark.parametrize("kind", ["logistic", "random_forest"])
def test_sklearn_parity(kind, data, tmp_path):
    X, y, _ = data
    m = create_model(kind, "classification", {"n_estimators": 20} if kind == "random_forest" else {})
    m.fit(X[:2500], y[:2500])
    _check(m, X[2500:], tmp_path, kind)


def test_torch_lstm_parity_and_causal_windows(data, tmp_path):
    torch.set_num_threads(1)
    X, y, _ = data
    m = create_model("lstm", "classification", {"seq_len": 12, "epochs": 2, "hidden": 16})
    m.fit(X[:1500], y[:1500])
    exp, om = _check(m, X[1500:2500], tmp_path, "lstm")
    assert exp.seq_len == 12 and om.lookback == 12 and exp.n_probe == 1000 - 11
    p = om.predict_proba(X[1500:1600])
    assert np.isnan(p[:11]).all() and np.isfinite(p[11:]).all()


def test_torch_transformer_regressor_parity(data, tmp_path):
    torch.set_num_threads(1)
    X, _, fwd = data
    m = create_model("transformer", "regression", {"seq_len": 8, "epochs": 1, "d_model": 8, "heads": 2,
                                                   "ff": 16})
    m.fit(X[:800], fwd[:800])
    _check(m, X[800:1200], tmp_path, "transformer")


def test_parity_failure_removes_file(data, tmp_path):
    X, y, _ = data
    m = create_model("lightgbm", "classification", {"n_estimators": 30})
    m.fit(X[:1000], y[:1000])
    path = tmp_path / "bad.onnx"
    with pytest.raises(ModelError, match="differs from the native lightgbm model"):
        export_onnx(m, X.shape[1], path, probe=X[1000:], atol=-1.0)  # any difference fails
    assert not path.exists()


def test_unsupported_and_inference_only(data, tmp_path):
    X, y, _ = data
    m = create_model("lightgbm", "classification", {"n_estimators": 5})
    m.fit(X[:500], y[:500])
    with pytest.raises(ConfigError, match="cannot export"):
        export_onnx(AdaptiveEnsemble({"a": m}), X.shape[1], tmp_path / "e.onnx")
    exp = export_onnx(m, X.shape[1], tmp_path / "m.onnx")  # default probe
    with pytest.raises(ModelError, match="inference-only"):
        OnnxModel(exp.path).fit(X, y)
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="cannot be loaded"):
        OnnxModel(tmp_path / "junk.onnx")
