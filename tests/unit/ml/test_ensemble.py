import math

import numpy as np
import pytest

from atb.errors import ConfigError, DataError
from atb.ml import AdaptiveEnsemble, create_model, load_model_dir


class Fixed:
    """A stub classifier returning fixed probabilities (no fitting)."""

    task, lookback, kind, params = "classification", 1, "fixed", {}

    def __init__(self, p1):
        self.p1 = p1
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X):
        return np.tile([1 - self.p1, self.p1], (len(X), 1))


def test_weights_follow_recent_out_of_sample_log_loss():
    ens = AdaptiveEnsemble({"a": Fixed(0.9), "b": Fixed(0.2)}, eta=1.0, window=2)
    assert ens.weights == {"a": 0.5, "b": 0.5}
    pa, pb = np.array([[0.1, 0.9]]), np.array([[0.8, 0.2]])
    # update 1: truth 1. losses a = -ln 0.9, b = -ln 0.2 -> weights 0.9 : 0.2
    ens.update({"a": pa, "b": pb}, np.array([1]))
    assert ens.weights["a"] == pytest.approx(0.9 / 1.1, abs=1e-12)
    assert ens.weights["b"] == pytest.approx(0.2 / 1.1, abs=1e-12)
    # combined forecast: 0.8182 * 0.9 + 0.1818 * 0.2 = 0.77273
    np.testing.assert_allclose(ens.predict_proba(np.zeros((1, 1)))[0, 1], (0.81 + 0.04) / 1.1)
    # update 2: truth 0 -> member a is now wrong. mean losses over the window of 2:
    #   a: (-ln 0.9 - ln 0.1) / 2, b: (-ln 0.2 - ln 0.8) / 2
    ens.update({"a": pa, "b": pb}, np.array([0]))
    la, lb = (-math.log(0.9) - math.log(0.1)) / 2, (-math.log(0.2) - math.log(0.8)) / 2
    wa = math.exp(-la) / (math.exp(-la) + math.exp(-lb))
    assert ens.weights["a"] == pytest.approx(wa, abs=1e-12)          # = sqrt(.09) / (sqrt(.09) + sqrt(.16))
    assert ens.weights["a"] == pytest.approx(0.3 / 0.7, abs=1e-12)
    # update 3: truth 0 again; the first update leaves the window (size 2)
    ens.update({"a": pa, "b": pb}, np.array([0]))
    assert ens.weights["a"] == pytest.approx(0.1 / 0.9, abs=1e-12)   # exp(-(-ln .1)) : exp(-(-ln .8))
    assert ens.weights["b"] == pytest.approx(0.8 / 0.9, abs=1e-12)
    assert ens.weights["b"] > 0.5 > ens.weights["a"]


def test_brier_loss_and_eta():
    ens = AdaptiveEnsemble({"a": Fixed(0.9), "b": Fixed(0.2)}, eta=2.0, window=10, loss="brier")
    ens.update({"a": np.array([[0.1, 0.9]]), "b": np.array([[0.8, 0.2]])}, np.array([1]))
    # multi-class Brier: a = 0.1^2 + 0.1^2 = 0.02, b = 0.8^2 + 0.8^2 = 1.28
    wa = 1 / (1 + math.exp(-2.0 * (1.28 - 0.02)))
    assert ens.weights["a"] == pytest.approx(wa, abs=1e-12)
    assert ens.mean_losses == pytest.approx({"a": 0.02, "b": 1.28})


def test_update_validation():
    ens = AdaptiveEnsemble({"a": Fixed(0.9)})
    with pytest.raises(DataError, match="member 'a'"):
        ens.update({}, np.array([1]))
    with pytest.raises(DataError, match="labels"):
        ens.update({"a": np.array([[0.5, 0.5]])}, np.array([3]))
    with pytest.raises(ConfigError):
        AdaptiveEnsemble({"a": Fixed(0.9)}, eta=0.0)


def test_fit_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(float)
    ens = AdaptiveEnsemble({"gbm": create_model("lightgbm", "classification", {"n_estimators": 20}),
                            "lr": create_model("logistic", "classification")}, eta=3.0, window=5)
    ens.fit(X[:200], y[:200])
    by_member = ens.predict_proba_by_member(X[200:])
    ens.update(by_member, y[200:])
    files = ens.save(tmp_path / "ens")
    assert (tmp_path / "ens" / "meta.json") in files
    loaded = load_model_dir(tmp_path / "ens")
    assert loaded.weights == pytest.approx(ens.weights)
    np.testing.assert_allclose(loaded.predict_proba(X[200:]), ens.predict_proba(X[200:]), atol=1e-12)
