import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from atb.errors import ConfigError, DataError
from atb.ml import (
    Calibrator,
    calibration_split,
    classification_metrics,
    regression_metrics,
    reliability_table,
)
from atb.ml.calibration import platt_fit


@pytest.fixture
def binary():
    rng = np.random.default_rng(3)
    p1 = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p1 ** 1.5).astype(int)
    p1[:20] = np.round(p1[:20], 1)  # ties
    return y, np.column_stack([1 - p1, p1])


@pytest.fixture
def multi():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(400, 3))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    return np.array([-1.0, 0.0, 1.0])[y], p


def test_binary_metrics_match_sklearn(binary):
    y, p = binary
    m = classification_metrics(y, p, [0, 1])
    assert m["n"] == 500
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(axis=1)), abs=1e-12)
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]), abs=1e-12)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p[:, 1]), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p, labels=[0, 1]), abs=1e-12)


def test_multiclass_metrics_match_sklearn(multi):
    y, p = multi
    classes = np.array([-1.0, 0.0, 1.0])
    m = classification_metrics(y, p, classes)
    codes = np.searchsorted(classes, y)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(codes, p.argmax(axis=1)), abs=1e-12)
    ref_auc = skm.roc_auc_score(codes, p, multi_class="ovr", average="macro")
    assert m["auc"] == pytest.approx(ref_auc, abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(codes, p, labels=[0, 1, 2]), abs=1e-12)
    onehot = np.eye(3)[codes]
    assert m["brier"] == pytest.approx(np.mean(np.sum((p - onehot) ** 2, axis=1)), abs=1e-12)


def test_metric_edge_cases():
    m = classification_metrics([1, 1], [[0.2, 0.8], [0.4, 0.6]], [0, 1])
    assert np.isnan(m["auc"]) and m["accuracy"] == 1.0
    assert classification_metrics([], np.empty((0, 2)), [0, 1])["n"] == 0
    with pytest.raises(DataError, match="outside classes"):
        classification_metrics([2], [[0.5, 0.5]], [0, 1])


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y, f = rng.normal(size=100), rng.normal(size=100)
    m = regression_metrics(y, f)
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, f))
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, f)))
    assert m["r2"] == pytest.approx(skm.r2_score(y, f))


def test_reliability_table_binary_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.05, 0.15, 0.95, 1.0, 0.55])
    t = reliability_table(y, np.column_stack([1 - p1, p1]), bins=10)
    assert list(t.columns) == ["bin", "lower", "upper", "mean_predicted", "observed_frequency", "count"]
    assert t["count"].tolist() == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert t.loc[9, "mean_predicted"] == pytest.approx(0.975)
    assert t.loc[9, "observed_frequency"] == pytest.approx(0.5)
    assert t.loc[1, "observed_frequency"] == 1.0
    assert np.isnan(t.loc[2, "mean_predicted"])


def test_reliability_table_matches_sklearn_calibration_curve(binary):
    from sklearn.calibration import calibration_curve

    y, p = binary
    y, p = y[20:], p[20:]  # no probability exactly on a bin edge (sklearn's bins are right-closed)
    t = reliability_table(y, p, bins=5)
    frac, mean = calibration_curve(y, p[:, 1], n_bins=5, strategy="uniform")
    full = t[t["count"] > 0]
    np.testing.assert_allclose(full["observed_frequency"], frac, atol=1e-12)
    np.testing.assert_allclose(full["mean_predicted"], mean, atol=1e-12)


def test_calibration_split_is_chronological():
    fit, cal = calibration_split(np.array([5, 1, 3, 9, 7]), 0.4)
    assert fit.tolist() == [1, 3, 5] and cal.tolist() == [7, 9]
    with pytest.raises(ConfigError):
        calibration_split(np.arange(3), 1.0)


def test_isotonic_matches_sklearn(binary):
    y, p = binary
    cal = Calibrator("isotonic").fit(p, y)
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(p[:, 1], y)
    q = cal.transform(p)
    np.testing.assert_allclose(q[:, 1], ref.predict(p[:, 1]), atol=1e-12)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)


def test_platt_matches_unpenalised_logistic_regression(binary):
    y, p = binary
    s = np.log(np.clip(p[:, 1], 1e-6, 1 - 1e-6) / (1 - np.clip(p[:, 1], 1e-6, 1 - 1e-6)))
    a, b = platt_fit(s, y == 1, smooth_targets=False)
    ref = LogisticRegression(C=1e10, tol=1e-12, max_iter=10_000).fit(s[:, None], y)
    assert a == pytest.approx(ref.coef_[0, 0], rel=1e-5)
    assert b == pytest.approx(ref.intercept_[0], rel=1e-5, abs=1e-6)
    q = Calibrator("platt", smooth_targets=False).fit(p, y).transform(p)
    np.testing.assert_allclose(q[:, 1], ref.predict_proba(s[:, None])[:, 1], atol=1e-6)


def test_platt_smoothed_targets_stay_finite_on_separable_data():
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    q = Calibrator("platt").fit(p, [0, 0, 1, 1]).transform(p)
    assert np.isfinite(q).all()
    assert (np.diff(q[:, 1]) > 0).all()
    # Platt's targets: positives (2 + 1) / (2 + 2) = 0.75, negatives 1 / (2 + 2) = 0.25
    assert q[3, 1] < 0.99


def test_multiclass_calibration_renormalises(multi):
    y, p = multi
    q = Calibrator("isotonic").fit(p, y, classes=[-1.0, 0.0, 1.0]).transform(p)
    np.testing.assert_allclose(q.sum(axis=1), 1.0)
    assert pd.isna(Calibrator("platt").fit(p, y, [-1.0, 0.0, 1.0]).transform(np.full((1, 3), np.nan))).all()
