"""Numba kernel for triple-barrier labels (training only; see :mod:`atb.features.labels`).

Pure function over float64 arrays; no pandas, no objects, no globals. Reference: M. López de
Prado, *Advances in Financial Machine Learning* (Wiley, 2018), ch. 3.4 ("The Triple-Barrier
Method"); the plain-Python loop in ``tests/unit/features/test_labels.py`` states the same rule.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["triple_barrier_nb"]


@njit(cache=True)
def triple_barrier_nb(close, high, low, scale, horizon, take_profit, stop_loss, vertical_sign):
    """Label each row by the first barrier its following candles touch.

    For row t with ``c = close[t]`` and ``s = scale[t]``: upper barrier ``c * (1 + take_profit * s)``,
    lower barrier ``c * (1 - stop_loss * s)``. Candles j = t+1 .. t+horizon are walked in order;
    the first j with ``low[j] <= lower`` (label -1, realised ``-stop_loss * s``) or
    ``high[j] >= upper`` (label +1, realised ``take_profit * s``) decides; when both are touched
    in the same candle the stop counts (pessimistic: the intra-candle order is unknown). With no
    touch, the vertical barrier at ``t + horizon`` gives label 0 (or the sign of the return when
    ``vertical_sign``) and realised ``close[t+horizon] / c - 1``. Rows whose window runs past the
    data without a touch, or with non-finite/non-positive ``c`` or ``s``, are unknown.

    Parameters
    ----------
    close, high, low, scale : ndarray
        float64, shape ``(n,)``; prices in quote currency, ``scale`` multiplies the barrier widths.
    horizon : int
        Vertical barrier in candles, >= 1.
    take_profit, stop_loss : float
        Barrier widths, ratios (> 0).
    vertical_sign : bool
        Vertical-barrier label: sign of the return (True) or 0 (False).

    Returns
    -------
    values : ndarray
        float64 labels in {-1, 0, 1}, NaN where unknown.
    known_at : ndarray
        int64 row of the deciding candle (touch or ``t + horizon``), -1 where unknown.
    realised : ndarray
        float64 return (ratio) at the deciding candle, NaN where unknown.
    """
    n = close.shape[0]
    values = np.full(n, np.nan)
    known_at = np.full(n, -1, dtype=np.int64)
    realised = np.full(n, np.nan)
    for t in range(n):
        c = close[t]
        s = scale[t]
        if not (math.isfinite(c) and c > 0.0 and math.isfinite(s) and s > 0.0):
            continue
        upper = c * (1.0 + take_profit * s)
        lower = c * (1.0 - stop_loss * s)
        last = t + horizon
        stop = min(last, n - 1)
        decided = False
        for j in range(t + 1, stop + 1):
            if low[j] <= lower:
                values[t] = -1.0
                known_at[t] = j
                realised[t] = -stop_loss * s
                decided = True
                break
            if high[j] >= upper:
                values[t] = 1.0
                known_at[t] = j
                realised[t] = take_profit * s
                decided = True
                break
        if not decided and last <= n - 1:
            ret = close[last] / c - 1.0
            if not math.isfinite(ret):
                continue
            label = 0.0
            if vertical_sign:
                label = 1.0 if ret > 0.0 else (-1.0 if ret < 0.0 else 0.0)
            values[t] = label
            known_at[t] = last
            realised[t] = ret
    return values, known_at, realised
