"""Exact-window rolling mean / sample std over numpy arrays (qtpylib's fast path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["numpy_rolling_mean", "numpy_rolling_std"]


def _rolling(data: Any, window: int, as_source: bool, reduce: Any) -> Any:
    values = np.asarray(data.to_numpy() if isinstance(data, pd.Series) else data, dtype="float64")
    out = np.full(len(values), np.nan)
    if 0 < window <= len(values):
        out[window - 1:] = reduce(sliding_window_view(values, window))
    if as_source and isinstance(data, pd.Series):
        return pd.Series(out, index=data.index)
    return out


def numpy_rolling_mean(data: Any, window: int, as_source: bool = False) -> Any:
    """Mean of each ``window``-row window, computed as ``np.mean`` over the window.

    Parameters
    ----------
    data : Series or ndarray, shape (n,)
    window : int
        Rows per window (>= 1).
    as_source : bool
        Return a Series with ``data``'s index when ``data`` is a Series; else an ndarray.

    Returns
    -------
    float64 values, shape (n,); the first ``window - 1`` are NaN (all NaN when ``n < window``).
    Equals ``pd.Series(data).rolling(window).mean()`` up to floating-point rounding.
    """
    return _rolling(data, window, as_source, lambda w: np.mean(w, axis=-1))


def numpy_rolling_std(data: Any, window: int, as_source: bool = False) -> Any:
    """Sample standard deviation (``ddof = 1``) of each ``window``-row window (``np.std``).

    Same shapes and NaN warm-up as :func:`numpy_rolling_mean`; equals
    ``pd.Series(data).rolling(window).std()`` up to floating-point rounding.
    """
    if window < 2:  # one value has no sample deviation
        return _rolling(data, window, as_source, lambda w: np.full(len(w), np.nan))
    return _rolling(data, window, as_source, lambda w: np.std(w, axis=-1, ddof=1))
