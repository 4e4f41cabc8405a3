"""Causal calibration of the fused score into a probability that the signal's side is right.

At row ``t`` the calibrator may only use outcomes already known at ``t``'s close: the outcome of
row ``i`` (did the price move to the side of ``sign(score_i)`` over ``horizon`` candles?) is
known at row ``i + horizon``. Every ``refit_every`` rows an isotonic regression of hit (0/1) on
``|score|`` is refitted on the rows ``i <= t - horizon`` with a non-zero score (Zadrozny & Elkan,
"Transforming classifier scores into accurate multiclass probability estimates", KDD 2002), and
applied to the following rows. Before ``min_samples`` outcomes exist the confidence is NaN.
"""

from __future__ import annotations

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, DataError

__all__ = ["calibrated_confidence", "direction_hits"]


def direction_hits(score: np.ndarray, close: np.ndarray, horizon: int) -> np.ndarray:
    """Outcome of each row: 1.0 if ``close[t+h]/close[t]-1`` has the sign of ``score[t]``.

    Returns float64 ``(n,)``: 1/0, NaN where the score is 0/NaN or the outcome is not known
    within the data (the last ``horizon`` rows).
    """
    score = np.asarray(score, dtype=np.float64)
    close = np.asarray(close, dtype=np.float64)
    if score.shape != close.shape:
        raise DataError(f"direction_hits: score {score.shape} and close {close.shape} differ")
    n = len(close)
    out = np.full(n, np.nan)
    if n <= horizon:
        return out
    ret = close[horizon:] / close[:-horizon] - 1.0
    side = np.sign(score[:-horizon])
    hit = (np.sign(ret) == side).astype(np.float64)
    hit[(side == 0) | np.isnan(side) | np.isnan(ret)] = np.nan
    out[:-horizon] = hit
    return out


def calibrated_confidence(score: np.ndarray, close: np.ndarray, *, horizon: int,
                          refit_every: int = 168, min_samples: int = 200) -> np.ndarray:
    """Per-row probability that ``sign(score)`` is the side of the next ``horizon`` candles.

    Parameters
    ----------
    score : float64 (n,)
        Fused scores (``fuse_frame``'s ``fusion_score``).
    close : float64 (n,)
        Close prices (quote currency) of the same rows.
    horizon : int
        Outcome horizon in candles (>= 1).
    refit_every : int, default 168
        Rows between refits (>= 1).
    min_samples : int, default 200
        Known outcomes needed before the first fit (>= 10).

    Returns
    -------
    ndarray float64 (n,)
        Calibrated probability in ``[0, 1]``; NaN before the first fit and where score is 0.

    Raises
    ------
    ConfigError
        A parameter out of range (named).
    MissingExtraError
        scikit-learn is not installed (``atb[ml]``).
    """
    if horizon < 1:
        raise ConfigError(f"calibrated_confidence.horizon: must be >= 1, got {horizon}")
    if refit_every < 1:
        raise ConfigError(f"calibrated_confidence.refit_every: must be >= 1, got {refit_every}")
    if min_samples < 10:
        raise ConfigError(f"calibrated_confidence.min_samples: must be >= 10, got {min_samples}")
    isotonic = require("sklearn.isotonic", "ml", "calibrated_confidence")
    score = np.asarray(score, dtype=np.float64)
    hits = direction_hits(score, close, horizon)
    mag = np.abs(score)
    n = len(score)
    out = np.full(n, np.nan)
    for start in range(0, n, refit_every):
        last_known = start - horizon  # rows i <= start - horizon have a known outcome at start
        if last_known < 0:
            continue
        rows = np.flatnonzero(~np.isnan(hits[: last_known + 1]))
        if len(rows) < min_samples:
            continue
        model = isotonic.IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(mag[rows], hits[rows])
        stop = min(start + refit_every, n)
        seg = mag[start:stop]
        valid = ~np.isnan(seg) & (seg > 0)
        if valid.any():
            pred = np.full(len(seg), np.nan)
            pred[valid] = model.predict(seg[valid])
            out[start:stop] = pred
    return out
