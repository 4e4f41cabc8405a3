import numpy as np
import pytest
import torch

from atb.errors import ConfigError, DataError, ModelError
from atb.ml import MODEL_KINDS, create_model, load_model_dir
from atb.ml.adapters.lightgbm import LightGBMModel
from atb.ml.adapters.sklearn import SklearnModel
from atb.ml.adapters.torch_nets import TorchSequenceModel, sequence_windows


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(btc_dataset):
    X, y, known_at, fwd = btc_dataset
    ok = np.isfinite(X.to_numpy()).all(axis=1) & np.isfinite(y)
    return X.to_numpy()[ok][:1500], y[ok][:1500], fwd[ok][:1500]


def test_create_model_registry():
    assert set(MODEL_KINDS) >= {"lightgbm", "logistic", "random_forest", "extra_trees", "ridge",
                                "gradient_boosting", "lstm", "transformer"}
    with pytest.raises(ConfigError, match="valid kinds: .*lightgbm.*transformer"):
        create_model("LightGBM")
    with pytest.raises(ConfigError, match="task"):
        create_model("lightgbm", "ranking")
    with pytest.raises(ConfigError, match="does not support"):
        create_model("ridge", "classification")
    with pytest.raises(ConfigError, match="bad parameter"):
        create_model("random_forest", "regression", {"no_such": 1})


def test_lightgbm_deterministic_and_round_trip(data, tmp_path):
    X, y, _ = data
    m1, m2 = create_model("lightgbm", "classification", {"n_estimators": 30}), LightGBMModel(
        "classification", {"n_estimators": 30})
    m1.fit(X[:1000], y[:1000])
    m2.fit(X[:1000], y[:1000])
    p = m1.predict_proba(X[1000:])
    np.testing.assert_array_equal(p, m2.predict_proba(X[1000:]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert m1.classes_.tolist() == [0.0, 1.0]
    files = m1.save(tmp_path / "gbm")
    assert [f.name for f in files] == ["meta.json", "model.txt"]
    loaded = load_model_dir(tmp_path / "gbm")
    np.testing.assert_array_equal(loaded.predict_proba(X[1000:]), p)
    np.testing.assert_array_equal(loaded.predict(X[1000:]), m1.predict(X[1000:]))


def test_lightgbm_multiclass_labels_and_regression(data):
    X, _, fwd = data
    y3 = np.sign(np.round(fwd * 200))  # -1, 0, 1
    m = LightGBMModel("classification", {"n_estimators": 10})
    m.fit(X, y3)
    assert m.classes_.tolist() == [-1.0, 0.0, 1.0]
    assert m.predict_proba(X[:5]).shape == (5, 3)
    assert set(np.unique(m.predict(X))) <= {-1.0, 0.0, 1.0}
    r = LightGBMModel("regression", {"n_estimators": 10})
    r.fit(X, fwd)
    assert r.predict(X).shape == (len(X),)
    with pytest.raises(ModelError, match="regressor"):
        r.predict_proba(X)


def test_unfitted_and_bad_input():
    with pytest.raises(ModelError, match="not fitted"):
        LightGBMModel().predict_proba(np.zeros((1, 2)))
    with pytest.raises(DataError, match="two classes"):
        LightGBMModel().fit(np.zeros((5, 2)), np.ones(5))
    with pytest.raises(DataError, match="NaN"):
        LightGBMModel().fit(np.zeros((2, 2)), np.array([0.0, np.nan]))
    with pytest.raises(ModelError, match="not found"):
        LightGBMModel.load(__import__("pathlib").Path("/nonexistent"))


@pytest.mark.parametrize("kind", ["logistic", "random_forest", "extra_trees", "gradient_boosting",
                                  "hist_gradient_boosting"])
def test_sklearn_kinds_classify_and_round_trip(kind, data, tmp_path):
    X, y, _ = data
    params = {"n_estimators": 10} if kind in ("random_forest", "extra_trees", "gradient_boosting") else {}
    m = create_model(kind, "classification", params)
    w = np.linspace(0.5, 1.5, 1000)
    m.fit(X[:1000], y[:1000], sample_weight=w)
    p = m.predict_proba(X[1000:])
    assert p.shape == (len(X) - 1000, 2)
    m.save(tmp_path / kind)
    np.testing.assert_array_equal(load_model_dir(tmp_path / kind).predict_proba(X[1000:]), p)


def test_sklearn_wraps_any_estimator(data):
    from sklearn.neighbors import KNeighborsRegressor

    X, _, fwd = data
    m = SklearnModel(KNeighborsRegressor(n_neighbors=3), "regression")
    m.fit(X, fwd)
    assert m.kind == "sklearn" and m.predict(X[:3]).shape == (3,)
    with pytest.raises(ConfigError, match="predict_proba"):
        SklearnModel(KNeighborsRegressor(), "classification")


def test_sequence_windows_are_causal():
    X = np.arange(12.0).reshape(6, 2)
    w = sequence_windows(X, 3)
    assert w.shape == (4, 3, 2)
    np.testing.assert_array_equal(w[0], X[0:3])    # window of row 2 = rows 0, 1, 2
    np.testing.assert_array_equal(w[-1], X[3:6])   # window of row 5 = rows 3, 4, 5


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_torch_sequence_model_causal_and_round_trip(kind, data, tmp_path):
    X, y, _ = data
    params = {"seq_len": 8, "epochs": 2, "hidden": 8, "d_model": 8, "heads": 2, "ff": 16, "batch_size": 128}
    m = create_model(kind, "classification", params)
    y_ctx = y[:800].copy()
    y_ctx[::7] = np.nan  # history-only rows
    m.fit(X[:800], y_ctx)
    p = m.predict_proba(X[800:1000])
    assert np.isnan(p[:7]).all() and not np.isnan(p[7:]).any()   # seq_len - 1 rows lack history
    np.testing.assert_allclose(p[7:].sum(axis=1), 1.0, atol=1e-6)
    # causal: changing later rows does not change earlier predictions
    X2 = X[800:1000].copy()
    X2[150:] = 1e3
    np.testing.assert_array_equal(m.predict_proba(X2)[:150], p[:150])
    # a NaN in row 20 blanks rows 20..27 only
    X3 = X[800:1000].copy()
    X3[20, 0] = np.nan
    p3 = m.predict_proba(X3)
    assert np.isnan(p3[20:28]).all() and not np.isnan(p3[28:]).any()
    # deterministic
    m2 = create_model(kind, "classification", params)
    m2.fit(X[:800], y_ctx)
    np.testing.assert_array_equal(m2.predict_proba(X[800:1000]), p)
    m.save(tmp_path / kind)
    np.testing.assert_array_equal(load_model_dir(tmp_path / kind).predict_proba(X[800:1000]), p)


def test_torch_regressor_and_param_check(data):
    X, _, fwd = data
    m = TorchSequenceModel("lstm", "regression", {"seq_len": 4, "epochs": 1, "hidden": 4})
    m.fit(X[:500], fwd[:500])
    out = m.predict(X[:50])
    assert np.isnan(out[:3]).all() and np.isfinite(out[3:]).all()
    with pytest.raises(ConfigError, match="unknown parameter"):
        TorchSequenceModel("lstm", "regression", {"n_estimators": 3})
