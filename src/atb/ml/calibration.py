"""Probability calibration fitted on a held-out, chronologically last slice of the training rows.

Methods
-------
* ``"platt"``: logistic regression on the logit of the score, ``q = 1 / (1 + exp(-(a s + b)))``
  with ``s = ln(p / (1 - p))`` (``p`` clipped to ``[1e-6, 1 - 1e-6]``), fitted by Newton's method
  with backtracking on the (weighted) log-likelihood. By default the targets are Platt's smoothed
  ``(N_+ + 1) / (N_+ + 2)`` and ``1 / (N_- + 2)`` (Platt 1999, "Probabilistic outputs for support
  vector machines", section 2.2), which keeps ``a, b`` finite on separable data.
* ``"isotonic"``: ``sklearn.isotonic.IsotonicRegression`` (non-decreasing step function,
  Zadrozny & Elkan 2002), clipped to ``[0, 1]`` and to the fitted range.

Binary models calibrate the probability of the second class (the first is ``1 - q``); multi-class
models calibrate each class one-vs-rest and renormalise each row to sum to 1 (Zadrozny & Elkan 2002).
The calibration rows must not be training rows of the model: see :func:`calibration_split`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, DataError, ModelError

__all__ = ["CALIBRATION_METHODS", "Calibrator", "calibration_split", "platt_fit"]

CALIBRATION_METHODS = ("isotonic", "platt")


def calibration_split(rows: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split chronologically ordered training rows into (fit rows, last ``fraction`` for calibration).

    Never shuffled: the calibration slice is the most recent ``ceil(fraction * n)`` rows.

    Examples
    --------
    >>> calibration_split(np.arange(10), 0.2)
    (array([0, 1, 2, 3, 4, 5, 6, 7]), array([8, 9]))
    """
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"calibration_fraction must be in (0, 1), got {fraction}")
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    n_cal = math.ceil(fraction * len(rows))
    return rows[: len(rows) - n_cal], rows[len(rows) - n_cal:]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1.0 - 1e-6)
    return np.log(q / (1.0 - q))


def _nll(a: float, b: float, s: np.ndarray, t: np.ndarray, w: np.ndarray) -> float:
    z = a * s + b
    # -[t ln q + (1-t) ln(1-q)] = log(1 + e^z) - t z, computed stably
    return float(np.sum(w * (np.logaddexp(0.0, z) - t * z)))


def platt_fit(score: np.ndarray, positive: np.ndarray, sample_weight: np.ndarray | None = None,
              *, smooth_targets: bool = True, max_iter: int = 100) -> tuple[float, float]:
    """Fit Platt's ``(a, b)`` for ``P(positive | s) = 1 / (1 + exp(-(a s + b)))``.

    Parameters
    ----------
    score : numpy.ndarray
        The raw scores ``s`` (already on the logit scale), shape ``(n,)``.
    positive : numpy.ndarray
        bool, shape ``(n,)``.
    sample_weight : numpy.ndarray, optional
        Non-negative weights ``(n,)``.
    smooth_targets : bool
        Use Platt's smoothed targets (default) or plain 0/1.
    max_iter : int
        Newton iterations.
    """
    s = np.asarray(score, dtype=np.float64)
    pos = np.asarray(positive, dtype=bool)
    w = np.ones_like(s) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    n_pos, n_neg = float(w[pos].sum()), float(w[~pos].sum())
    if smooth_targets:
        t = np.where(pos, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    else:
        t = pos.astype(np.float64)
    X = np.column_stack([s, np.ones_like(s)])
    theta = np.array([1.0, 0.0])
    f = _nll(theta[0], theta[1], s, t, w)
    for _ in range(max_iter):
        q = 1.0 / (1.0 + np.exp(-(X @ theta)))
        grad = X.T @ (w * (q - t))
        hess = (X * (w * q * (1.0 - q))[:, None]).T @ X + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        lam = 1.0
        while lam > 1e-10:
            cand = theta - lam * step
            fc = _nll(cand[0], cand[1], s, t, w)
            if fc <= f + 1e-4 * lam * float(grad @ -step):
                break
            lam /= 2.0
        else:
            break
        theta, f_old, f = cand, f, fc
        if abs(f_old - f) <= 1e-12 * max(1.0, abs(f)) or np.max(np.abs(lam * step)) < 1e-10:
            break
    return float(theta[0]), float(theta[1])


class Calibrator:
    """Maps a classifier's probabilities to calibrated ones (``"isotonic"`` or ``"platt"``).

    Parameters
    ----------
    method : {"isotonic", "platt"}
    smooth_targets : bool
        Platt only: use Platt's smoothed targets (default True).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.2, 0.8]])
    >>> cal = Calibrator("isotonic").fit(p, np.array([0, 1, 1, 1]))
    >>> cal.transform(p)[:, 1].round(3).tolist()
    [0.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, method: str = "isotonic", *, smooth_targets: bool = True) -> None:
        if method not in CALIBRATION_METHODS:
            raise ConfigError(f"calibration method must be one of {', '.join(CALIBRATION_METHODS)}, "
                              f"got {method!r}")
        self.method = method
        self.smooth_targets = smooth_targets
        self._maps: list[Any] | None = None

    def _fit_one(self, p: np.ndarray, positive: np.ndarray, w: np.ndarray | None) -> Any:
        if self.method == "platt":
            return platt_fit(_logit(p), positive, w, smooth_targets=self.smooth_targets)
        iso = require("sklearn.isotonic", "ml", "isotonic calibration")
        return iso.IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            p, positive.astype(np.float64), sample_weight=w)

    def _apply_one(self, mapping: Any, p: np.ndarray) -> np.ndarray:
        if self.method == "platt":
            a, b = mapping
            return np.asarray(1.0 / (1.0 + np.exp(-(a * _logit(p) + b))))
        return np.asarray(mapping.predict(p), dtype=np.float64)

    def fit(self, proba: Any, y_true: Any, classes: Any = None,
            sample_weight: np.ndarray | None = None) -> Calibrator:
        """Fit on held-out probabilities ``(n, n_classes)`` and their labels ``(n,)``.

        ``y_true`` holds values of ``classes`` (column indices when ``classes`` is None).
        """
        p = np.asarray(proba, dtype=np.float64)
        cls = np.arange(p.shape[1]) if classes is None else np.asarray(classes)
        y = np.asarray(y_true)
        if p.ndim != 2 or p.shape[0] != len(y) or p.shape[1] != len(cls) or len(y) == 0:
            raise DataError(f"calibration needs proba (n, {len(cls)}) and labels (n,), "
                            f"got {p.shape}, {y.shape}")
        if np.isnan(p).any():
            raise DataError("calibration probabilities contain NaN")
        cols = [1] if p.shape[1] == 2 else list(range(p.shape[1]))
        self._maps = [self._fit_one(p[:, c], y == cls[c], sample_weight) for c in cols]
        self._n_classes = p.shape[1]
        return self

    def transform(self, proba: Any) -> np.ndarray:
        """Calibrated probabilities, same shape as ``proba``; rows sum to 1; NaN rows stay NaN."""
        if self._maps is None:
            raise ModelError("Calibrator is not fitted: call fit() first")
        p = np.asarray(proba, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self._n_classes:
            raise DataError(f"proba must have {self._n_classes} columns, got shape {p.shape}")
        out = np.full_like(p, np.nan)
        ok = ~np.isnan(p).any(axis=1)
        if p.shape[1] == 2:
            q = self._apply_one(self._maps[0], p[ok, 1])
            out[ok] = np.column_stack([1.0 - q, q])
            return out
        q = np.column_stack([self._apply_one(m, p[ok, c]) for c, m in enumerate(self._maps)])
        total = q.sum(axis=1, keepdims=True)
        uniform = np.full_like(q, 1.0 / q.shape[1])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[ok] = np.where(total > 0, q / total, uniform)
        return out
