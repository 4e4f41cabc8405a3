"""Out-of-sample metrics of probabilistic classifiers and regressors (numpy only).

Formulas
--------
* accuracy: share of rows whose most probable class is the true one.
* AUC: area under the ROC curve via the Mann-Whitney U statistic with mid-ranks for ties
  (Hanley & McNeil 1982); multi-class: unweighted mean of one-vs-rest AUCs (macro, as
  ``sklearn.metrics.roc_auc_score(multi_class="ovr", average="macro")``). NaN when a class
  has no positive or no negative row.
* Brier score: binary ``mean((p_1 - y)^2)``; multi-class ``mean(sum_c (p_c - [y = c])^2)``
  (Brier 1950, the original multi-category form).
* log-loss: ``mean(-ln p_y)`` with ``p`` clipped to ``[1e-15, 1]`` and each row renormalised,
  like ``sklearn.metrics.log_loss``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from atb.errors import DataError

__all__ = ["classification_metrics", "regression_metrics", "reliability_table", "roc_auc"]

_EPS = 1e-15


def _codes(y_true: Any, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    cls = np.asarray(classes)
    codes = np.searchsorted(cls, y)
    clipped = np.minimum(codes, len(cls) - 1)
    if len(cls) == 0 or (codes >= len(cls)).any() or (cls[clipped] != y).any():
        raise DataError(f"y_true holds labels outside classes {cls.tolist()}")
    return codes.astype(np.int64), cls


def _rank(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their mean rank."""
    order = np.argsort(x, kind="mergesort")
    sx = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(sx)) + 1]
    ends = np.r_[starts[1:], len(x)]
    for s, e in zip(starts, ends, strict=True):
        ranks[order[s:e]] = (s + 1 + e) / 2.0
    return ranks


def roc_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Binary ROC AUC of ``score`` for boolean ``positive`` (NaN if one side is empty)."""
    pos = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _rank(np.asarray(score, dtype=np.float64))
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification_metrics(y_true: Any, proba: Any, classes: Any) -> dict[str, float]:
    """Accuracy, AUC, Brier score, log-loss and row count of predicted probabilities.

    Parameters
    ----------
    y_true : array-like
        True labels, shape ``(n,)``, each one of ``classes``.
    proba : array-like
        Probabilities, shape ``(n, n_classes)``, columns in the order of ``classes``.
    classes : array-like
        Sorted class labels, shape ``(n_classes,)``.

    Returns
    -------
    dict
        ``accuracy``, ``auc``, ``brier``, ``log_loss`` (floats; NaN when ``n == 0``) and ``n``.

    Examples
    --------
    >>> m = classification_metrics([0, 1, 1], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]], [0, 1])
    >>> round(m["accuracy"], 4), m["auc"], m["n"]
    (0.6667, 1.0, 3)
    """
    p = np.asarray(proba, dtype=np.float64)
    codes, cls = _codes(y_true, classes)
    if p.ndim != 2 or p.shape != (len(codes), len(cls)):
        raise DataError(f"proba must have shape ({len(codes)}, {len(cls)}), got {p.shape}")
    n = len(codes)
    if n == 0:
        return {"accuracy": float("nan"), "auc": float("nan"), "brier": float("nan"),
                "log_loss": float("nan"), "n": 0}
    onehot = np.eye(len(cls))[codes]
    if len(cls) == 2:
        auc = roc_auc(codes == 1, p[:, 1])
        brier = float(np.mean((p[:, 1] - onehot[:, 1]) ** 2))
    else:
        aucs = [roc_auc(codes == c, p[:, c]) for c in range(len(cls))]
        auc = float(np.mean(aucs))
        brier = float(np.mean(np.sum((p - onehot) ** 2, axis=1)))
    clipped = np.clip(p, _EPS, 1.0)
    clipped /= clipped.sum(axis=1, keepdims=True)
    return {
        "accuracy": float(np.mean(np.argmax(p, axis=1) == codes)),
        "auc": auc,
        "brier": brier,
        "log_loss": float(np.mean(-np.log(clipped[np.arange(n), codes]))),
        "n": n,
    }


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MAE, RMSE, R² (``1 - SSE/SST``), directional accuracy (sign agreement) and ``n``."""
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(y_pred, dtype=np.float64)
    if y.shape != f.shape or y.ndim != 1:
        raise DataError(f"y_true and y_pred must have equal 1-D shapes, got {y.shape} and {f.shape}")
    n = len(y)
    if n == 0:
        return {"mae": float("nan"), "rmse": float("nan"), "r2": float("nan"),
                "direction_accuracy": float("nan"), "n": 0}
    err = f - y
    sst = float(np.sum((y - y.mean()) ** 2))
    return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err ** 2))),
            "r2": 1.0 - float(np.sum(err ** 2)) / sst if sst > 0 else float("nan"),
            "direction_accuracy": float(np.mean(np.sign(f) == np.sign(y))), "n": n}


def reliability_table(y_true: Any, proba: Any, bins: int = 10, classes: Any = None) -> pd.DataFrame:
    """Reliability (calibration) table over equal-width probability bins.

    Binary: the predicted probability of the second class against its observed frequency.
    Multi-class: the top-label confidence ``max_c p_c`` against the share of rows where the top
    class is right (Guo et al. 2017). Bin ``b`` holds ``[b/bins, (b+1)/bins)``, the last one also 1.0.

    Parameters
    ----------
    y_true : array-like
        Labels ``(n,)``: values of ``classes``, or column indices when ``classes`` is None.
    proba : array-like
        Probabilities ``(n, n_classes)``.
    bins : int
        Number of bins (>= 1).
    classes : array-like, optional
        Sorted labels matching the columns.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin``, ``lower``, ``upper``, ``mean_predicted``, ``observed_frequency``
        (NaN for empty bins) and ``count``.
    """
    if bins < 1:
        raise DataError(f"bins must be >= 1, got {bins}")
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise DataError(f"proba must be 2-D (rows, classes), got shape {p.shape}")
    cls = np.arange(p.shape[1]) if classes is None else np.asarray(classes)
    codes, _ = _codes(y_true, cls)
    if len(codes) != len(p):
        raise DataError(f"y_true has {len(codes)} rows, proba {len(p)}")
    if p.shape[1] == 2:
        score, hit = p[:, 1], (codes == 1).astype(np.float64)
    else:
        score = p.max(axis=1) if len(p) else np.empty(0)
        hit = (np.argmax(p, axis=1) == codes).astype(np.float64) if len(p) else np.empty(0)
    idx = np.clip((score * bins).astype(np.int64), 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pred = np.bincount(idx, weights=score, minlength=bins) / count
        observed = np.bincount(idx, weights=hit, minlength=bins) / count
    edges = np.arange(bins + 1) / bins
    return pd.DataFrame({"bin": np.arange(bins), "lower": edges[:-1], "upper": edges[1:],
                         "mean_predicted": mean_pred, "observed_frequency": observed,
                         "count": count.astype(np.int64)})
