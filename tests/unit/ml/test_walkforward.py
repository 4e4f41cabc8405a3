import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics as skm

from atb.errors import DataError
from atb.ml import create_model, purged_train_rows, standardise, walk_forward_predict, walk_forward_windows

GBM = {"n_estimators": 40, "num_leaves": 7}


def gbm():
    return create_model("lightgbm", "classification", GBM)


@pytest.fixture(scope="module")
def run(btc_dataset):
    X, y, known_at, _ = btc_dataset
    windows = walk_forward_windows(len(X), train_size=1500, retrain_every=500)
    return windows, walk_forward_predict(X, y, known_at, factory=gbm, windows=windows)


def test_predictions_frame(run, btc_dataset):
    X, y, known_at, _ = btc_dataset
    windows, res = run
    pred = res.predictions
    assert list(pred.columns) == ["proba_0", "proba_1", "model_version"]
    assert pred.index.equals(X.index)
    assert pred.iloc[:1500, :2].isna().all().all()
    assert pred["model_version"].iloc[:1500].isna().all()
    assert pred["model_version"].iloc[1500:2000].eq(0).all() and pred["model_version"].iloc[-1] == 4
    assert len(windows) == 5 and windows[-1].predict_end == len(X)
    np.testing.assert_allclose(pred.iloc[1500:, :2].sum(axis=1), 1.0)


def test_window_rows_are_purged(run, btc_dataset):
    X, y, known_at, _ = btc_dataset
    windows, res = run
    wm = res.window_metrics
    complete = np.isfinite(X.to_numpy()).all(axis=1)
    for w, row in zip(windows, wm.itertuples(), strict=True):
        rows = np.arange(w.train_start, w.train_end)
        expected = rows[(known_at[rows] >= 0) & (known_at[rows] <= w.predict_start - 1) & complete[rows]]
        assert row.n_train == len(expected)
    # window 0: rows 72 (first complete feature row) .. 1495 (label known at 1499)
    assert wm.loc[0, "n_train"] == 1495 - 72 + 1


def test_oos_metrics_match_sklearn(run, btc_dataset):
    _, y, known_at, _ = btc_dataset
    _, res = run
    p = res.predictions[["proba_0", "proba_1"]].to_numpy()
    ok = ~np.isnan(p).any(axis=1) & np.isfinite(y)
    m = res.oos_metrics
    assert m["n"] == ok.sum() == 4000 - 1500 - 4
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y[ok], p[ok].argmax(axis=1)))
    assert m["auc"] == pytest.approx(skm.roc_auc_score(y[ok], p[ok, 1]))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y[ok], p[ok, 1]))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y[ok], p[ok]))
    assert res.reliability["count"].sum() == m["n"]
    w1 = slice(2000, 2500)
    assert res.window_metrics.loc[1, "auc"] == pytest.approx(skm.roc_auc_score(y[w1], p[w1, 1]))


def test_no_lookahead_truncation(run, btc_dataset):
    """Predictions up to row T are the same when the data ends at T (labels known by then only)."""
    X, y, known_at, _ = btc_dataset
    _, full = run
    T = 2700
    k = known_at[:T].copy()
    yt = y[:T].copy()
    unknown = (k < 0) | (k > T - 1)
    k[unknown], yt[unknown] = -1, np.nan
    windows = walk_forward_windows(T, train_size=1500, retrain_every=500)
    cut = walk_forward_predict(X.iloc[:T], yt, k, factory=gbm, windows=windows)
    pd.testing.assert_frame_equal(cut.predictions, full.predictions.iloc[:T])


def test_calibration_on_last_slice(btc_dataset):
    X, y, known_at, _ = btc_dataset
    windows = walk_forward_windows(len(X), train_size=1500, retrain_every=1250)[:2]
    res = walk_forward_predict(X, y, known_at, factory=gbm, windows=windows, calibration="isotonic",
                               calibration_fraction=0.25)
    w0 = windows[0]
    rows = purged_train_rows(w0, known_at, features=X.to_numpy(), labels=y)
    n_cal = math.ceil(0.25 * len(rows))
    fit_rows = rows[: len(rows) - n_cal]
    cal_start = rows[len(rows) - n_cal]
    assert res.window_metrics.loc[0, "n_calibration"] == n_cal
    assert res.window_metrics.loc[0, "n_train"] == (known_at[fit_rows] < cal_start).sum()
    p = res.predictions[["proba_0", "proba_1"]].to_numpy()[1500:2750]
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    platt = walk_forward_predict(X, y, known_at, factory=gbm, windows=windows, calibration="platt")
    assert not np.allclose(platt.predictions["proba_1"].iloc[1500:2750], p[:, 1])


def test_normaliser_sees_training_rows_only(btc_dataset):
    X, y, known_at, _ = btc_dataset
    seen = []

    def spy(X_train):
        seen.append(X_train.copy())
        return standardise(X_train)

    windows = walk_forward_windows(len(X), train_size=1000, retrain_every=1000)[:1]
    res = walk_forward_predict(X, y, known_at, factory=lambda: create_model("logistic"), windows=windows,
                               normalise=spy)
    rows = purged_train_rows(windows[0], known_at, features=X.to_numpy(), labels=y)
    np.testing.assert_array_equal(seen[0], X.to_numpy()[rows])
    assert res.predictions["proba_1"].iloc[1000:2000].notna().all()


def test_nan_features_give_nan_predictions_and_regression(btc_dataset):
    X, _, known_at, fwd = btc_dataset
    X2 = X.copy()
    X2.iloc[2100, 3] = np.nan
    windows = walk_forward_windows(len(X), train_size=1500, retrain_every=1000)[:1]
    res = walk_forward_predict(X2, fwd, known_at, windows=windows,
                               factory=lambda: create_model("ridge", "regression"))
    pred = res.predictions["prediction"]
    assert np.isnan(pred.iloc[2100]) and pred.iloc[[2099, 2101]].notna().all()
    ok = pred.notna().to_numpy() & np.isfinite(fwd)
    assert res.oos_metrics["mae"] == pytest.approx(skm.mean_absolute_error(fwd[ok], pred[ok]))
    assert res.reliability.empty


def test_sequence_model_gets_history_across_the_window_edge(btc_dataset):
    torch.set_num_threads(1)
    X, y, known_at, _ = btc_dataset
    windows = walk_forward_windows(len(X), train_size=600, retrain_every=200, start=2000)[:2]
    params = {"seq_len": 6, "epochs": 1, "hidden": 8, "batch_size": 128}
    res = walk_forward_predict(X, y, known_at, windows=windows, normalise=standardise,
                               factory=lambda: create_model("lstm", "classification", params))
    p = res.predictions["proba_1"]
    assert p.iloc[2600:3000].notna().all()   # first prediction row already has seq_len rows of history
    assert p.iloc[:2600].isna().all()


def test_input_validation(btc_dataset):
    X, y, known_at, _ = btc_dataset
    windows = walk_forward_windows(len(X), train_size=1500, retrain_every=500)
    with pytest.raises(DataError, match="integer"):
        walk_forward_predict(X, y, known_at.astype(float), factory=gbm, windows=windows)
    with pytest.raises(DataError, match="same rows"):
        walk_forward_predict(X, y[:-1], known_at, factory=gbm, windows=windows)
