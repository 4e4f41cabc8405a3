"""Walk-forward training and prediction: every prediction comes from a model trained only on the past.

For each :class:`~atb.ml.dataset.WalkForwardWindow`:

1. training rows = :func:`~atb.ml.dataset.purged_train_rows` (label known before the first prediction
   row minus the embargo, complete features, finite label), checked by
   :func:`~atb.ml.dataset.check_no_leakage`;
2. with ``calibration``, the last ``calibration_fraction`` of those rows (chronologically) is held out,
   and the rows left for fitting are purged again against the first calibration row;
3. ``normalise`` (if given) is fitted on the fitting rows only and applied to every row the window uses;
4. a fresh model from ``factory`` is fitted, optionally calibrated, and predicts the window's rows.

Rows whose features contain NaN (or, for sequence models, whose causal window does) get NaN
predictions; rows before the first window get NaN and a missing ``model_version``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atb.errors import DataError
from atb.ml.calibration import Calibrator, calibration_split
from atb.ml.dataset import WalkForwardWindow, check_no_leakage, complete_rows, purged_train_rows
from atb.ml.metrics import classification_metrics, regression_metrics, reliability_table
from atb.ml.ports import Model, ModelFactory

__all__ = ["Normaliser", "WalkForwardResult", "standardise", "walk_forward_predict"]

#: Fitted on the training matrix, returns the transform applied to every matrix of that window.
Normaliser = Callable[[np.ndarray], Callable[[np.ndarray], np.ndarray]]


def standardise(X_train: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """z-score normaliser: ``(X - mean) / std`` with the training rows' column mean and std (ddof 0).

    Columns with zero spread are only centred.
    """
    mean = np.nanmean(X_train, axis=0)
    std = np.nanstd(X_train, axis=0)
    std[~(std > 0)] = 1.0
    return lambda X: (X - mean) / std


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardResult:
    """Out-of-sample predictions and metrics of a walk-forward run.

    Attributes
    ----------
    predictions : pandas.DataFrame
        Index = ``X.index``. Classifiers: ``proba_<class>`` float64 columns; regressors: ``prediction``.
        ``model_version`` (nullable Int64): the window whose model made the row's prediction.
    window_metrics : pandas.DataFrame
        One row per window: row ranges, ``n_train``, ``n_calibration``, ``n_predicted`` and the
        out-of-sample metrics on its prediction rows with known labels.
    oos_metrics : dict
        Over all predicted rows with known labels: ``accuracy``, ``auc``, ``brier``, ``log_loss``, ``n``
        (classifiers) or ``mae``, ``rmse``, ``r2``, ``direction_accuracy``, ``n`` (regressors).
    reliability : pandas.DataFrame
        :func:`~atb.ml.metrics.reliability_table` of those rows (empty for regressors).
    classes : numpy.ndarray
        Class labels of the ``proba_*`` columns (empty for regressors).
    task : str
    """

    predictions: pd.DataFrame
    window_metrics: pd.DataFrame
    oos_metrics: dict[str, float]
    reliability: pd.DataFrame
    classes: np.ndarray
    task: str


def _fit(model: Model, Xs: np.ndarray, y: np.ndarray, rows: np.ndarray, lo: int,
         weight: np.ndarray | None) -> None:
    """Fit on ``rows`` (global indices); ``Xs`` holds rows ``lo..`` of the data."""
    if model.lookback <= 1:
        model.fit(Xs[rows - lo], y[rows], None if weight is None else weight[rows])
        return
    hi = int(rows.max()) + 1  # sequence model: a contiguous block; non-target rows are history
    yb = np.full(hi - lo, np.nan)
    yb[rows - lo] = y[rows]
    wb = None
    if weight is not None:
        wb = np.zeros(hi - lo)
        wb[rows - lo] = weight[rows]
    model.fit(Xs[: hi - lo], yb, wb)


def _infer(model: Model, Xs: np.ndarray, rows: np.ndarray, lo: int, ok: np.ndarray) -> np.ndarray:
    """Probabilities ``(len(rows), c)`` or values ``(len(rows), 1)``; NaN where not predictable."""
    width = len(model.classes_) if model.task == "classification" else 1
    out = np.full((len(rows), width), np.nan)
    if len(rows) == 0:
        return out

    def call(M: np.ndarray) -> np.ndarray:
        res = model.predict_proba(M) if model.task == "classification" else model.predict(M)
        return np.asarray(res, dtype=np.float64).reshape(len(M), width)

    if model.lookback <= 1:
        sel = ok[rows]
        if sel.any():
            out[sel] = call(Xs[rows[sel] - lo])
        return out
    a = max(lo, int(rows.min()) - model.lookback + 1)
    block = call(Xs[a - lo: int(rows.max()) + 1 - lo])
    return block[rows - a]


def _expand(proba: np.ndarray, model_classes: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Columns of a model that saw fewer classes, placed under the global classes (others 0)."""
    if len(model_classes) == len(classes) and (model_classes == classes).all():
        return proba
    out = np.zeros((len(proba), len(classes)))
    out[np.isnan(proba).any(axis=1)] = np.nan
    out[:, np.searchsorted(classes, model_classes)] += np.nan_to_num(proba)
    return out


def _split(rows: np.ndarray, known_at: np.ndarray, calibration: str | None, fraction: float,
           embargo: int) -> tuple[np.ndarray, np.ndarray]:
    if calibration is None or len(rows) < 2:
        return rows, rows[:0]
    fit_rows, cal_rows = calibration_split(rows, fraction)
    fit_rows = fit_rows[known_at[fit_rows] < cal_rows[0] - embargo]
    return fit_rows, cal_rows


def _metrics(task: str, y: np.ndarray, out: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    ok = ~np.isnan(out).any(axis=1) & np.isfinite(y)
    if task == "classification":
        return classification_metrics(y[ok], out[ok], classes)
    return regression_metrics(y[ok], out[ok, 0])


@dataclass(frozen=True, slots=True, kw_only=True)
class _Inputs:
    Xa: np.ndarray
    y: np.ndarray
    known_at: np.ndarray
    ok: np.ndarray
    weight: np.ndarray | None
    classes: np.ndarray
    task: str


def _run_window(w: WalkForwardWindow, inp: _Inputs, factory: ModelFactory, *, embargo: int,
                calibration: str | None, fraction: float, normalise: Normaliser | None
                ) -> tuple[np.ndarray | None, dict[str, Any]]:
    rows = purged_train_rows(w, inp.known_at, embargo=embargo, features=inp.Xa, labels=inp.y)
    check_no_leakage(w, rows, inp.known_at, embargo=embargo)
    fit_rows, cal_rows = _split(rows, inp.known_at, calibration, fraction, embargo)
    info: dict[str, Any] = {"window": w.index, "train_start": w.train_start, "train_end": w.train_end,
                            "predict_start": w.predict_start, "predict_end": w.predict_end,
                            "n_train": len(fit_rows), "n_calibration": len(cal_rows)}
    if len(fit_rows) == 0 or (inp.task == "classification" and len(np.unique(inp.y[fit_rows])) < 2):
        return None, info
    model = factory()
    lo = max(0, w.train_start - (model.lookback - 1))
    Xs = inp.Xa[lo: w.predict_end]
    if normalise is not None:
        Xs = np.asarray(normalise(inp.Xa[fit_rows])(Xs), dtype=np.float64)
    _fit(model, Xs, inp.y, fit_rows, lo, inp.weight)
    pred_rows = np.arange(w.predict_start, w.predict_end)
    out = _infer(model, Xs, pred_rows, lo, inp.ok)
    if len(cal_rows) and inp.task == "classification":
        cal_p = _infer(model, Xs, cal_rows, lo, inp.ok)
        good = ~np.isnan(cal_p).any(axis=1)
        if good.any():
            cal = Calibrator(calibration or "isotonic")
            cal.fit(cal_p[good], inp.y[cal_rows][good], model.classes_)
            out = cal.transform(out)
    if inp.task == "classification":
        out = _expand(out, np.asarray(model.classes_), inp.classes)
    return out, info


def walk_forward_predict(X: pd.DataFrame, y: Any, known_at: Any, *, factory: ModelFactory,
                         windows: list[WalkForwardWindow], embargo: int = 0, calibration: str | None = None,
                         calibration_fraction: float = 0.2, normalise: Normaliser | None = None,
                         sample_weight: Any = None,
                         progress: Callable[[int, int], None] | None = None) -> WalkForwardResult:
    """Train one model per window on past rows only and predict the window's rows.

    Parameters
    ----------
    X : pandas.DataFrame
        Features, shape ``(n_rows, k)``, chronological (index e.g. candle open time, UTC).
    y : array-like
        float64 ``(n_rows,)`` labels (class values) or targets; NaN = unknown.
    known_at : array-like
        int64 ``(n_rows,)``: row at whose close each label becomes known; negative = never.
    factory : ModelFactory
        Builds a fresh model per window (e.g. ``lambda: create_model("lightgbm")``).
    windows : list of WalkForwardWindow
        From :func:`~atb.ml.dataset.walk_forward_windows`.
    embargo : int
        Rows between the last usable label and the first prediction (>= 0).
    calibration : {"isotonic", "platt"} or None
        Calibrate classifiers on the held-out last ``calibration_fraction`` of each window's rows.
    calibration_fraction : float
        Share of the training rows held out for calibration, in (0, 1).
    normalise : Normaliser, optional
        E.g. :func:`standardise`; fitted per window on the fitting rows only.
    sample_weight : array-like, optional
        Non-negative ``(n_rows,)`` training weights.
    progress : callable, optional
        Called as ``progress(done_windows, total_windows)`` after each window.

    Raises
    ------
    DataError
        Shapes disagree, ``known_at`` is not an integer array, or a training row would leak.
    """
    Xa = np.asarray(X, dtype=np.float64)
    yv = np.asarray(y, dtype=np.float64)
    k = np.asarray(known_at)
    if Xa.ndim != 2 or yv.shape != (len(Xa),) or k.shape != (len(Xa),):
        raise DataError(f"X {Xa.shape}, y {yv.shape} and known_at {k.shape} must have the same rows")
    if k.dtype.kind not in "iu":
        raise DataError(f"known_at must be an integer array, got dtype {k.dtype}")
    if windows and windows[-1].predict_end > len(Xa):
        raise DataError(f"windows reach row {windows[-1].predict_end}, X has {len(Xa)} rows")
    task = factory().task
    classes = np.unique(yv[np.isfinite(yv)]) if task == "classification" else np.asarray([])
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    inp = _Inputs(Xa=Xa, y=yv, known_at=k.astype(np.int64), ok=complete_rows(Xa), weight=weight,
                  classes=classes, task=task)
    width = len(classes) if task == "classification" else 1
    out = np.full((len(Xa), width), np.nan)
    version = pd.array([pd.NA] * len(Xa), dtype="Int64")
    infos = []
    for i, w in enumerate(windows):
        res, info = _run_window(w, inp, factory, embargo=embargo, calibration=calibration,
                                fraction=calibration_fraction, normalise=normalise)
        sl = slice(w.predict_start, w.predict_end)
        if res is not None:
            out[sl] = res
            version[sl] = w.index
        info.update(_metrics(task, yv[sl], out[sl], classes))
        infos.append(info)
        if progress is not None:
            progress(i + 1, len(windows))
    return _result(X, out, version, infos, inp)


def _result(X: pd.DataFrame, out: np.ndarray, version: Any, infos: list[dict[str, Any]],
            inp: _Inputs) -> WalkForwardResult:
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(out))
    if inp.task == "classification":
        cols = {f"proba_{c}": out[:, j] for j, c in enumerate(_names(inp.classes))}
    else:
        cols = {"prediction": out[:, 0]}
    predictions = pd.DataFrame(cols, index=index)
    predictions["model_version"] = version
    ok = ~np.isnan(out).any(axis=1) & np.isfinite(inp.y) & (inp.known_at >= 0)
    oos = _metrics(inp.task, np.where(ok, inp.y, np.nan), out, inp.classes)
    if inp.task == "classification":
        reliability = reliability_table(inp.y[ok], out[ok], classes=inp.classes)
    else:
        reliability = pd.DataFrame()
    return WalkForwardResult(predictions=predictions, window_metrics=pd.DataFrame(infos), oos_metrics=oos,
                             reliability=reliability, classes=inp.classes, task=inp.task)


def _names(classes: np.ndarray) -> list[str]:
    """Column suffixes: whole-number labels print without ``.0`` (``proba_1``, ``proba_-1``)."""
    return [str(int(c)) if isinstance(c, float | np.floating) and float(c).is_integer() else str(c)
            for c in classes]
