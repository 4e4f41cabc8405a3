"""Causal candle features of the RL observation (row ``t`` uses only candles ``<= t``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb.errors import DataError

__all__ = ["DEFAULT_FEATURE_NAMES", "FEATURE_CLIP", "check_candles", "default_features", "first_valid_row"]

#: Names of the columns of :func:`default_features`, in order.
DEFAULT_FEATURE_NAMES: tuple[str, ...] = ("log_return_scaled", "range_z", "volume_z")

#: Default features are clipped to ``[-FEATURE_CLIP, FEATURE_CLIP]``.
FEATURE_CLIP = 5.0

_OHLCV = ("date", "open", "high", "low", "close", "volume")


def check_candles(candles: pd.DataFrame) -> None:
    """Check the OHLCV contract the environment relies on.

    Raises
    ------
    DataError
        A column is missing, prices are not positive and finite, volume is not finite, or dates
        do not increase.
    """
    missing = [c for c in _OHLCV if c not in candles.columns]
    if missing:
        raise DataError(f"RL candles lack column(s) {', '.join(missing)}")
    if not np.isfinite(candles["volume"].to_numpy(dtype=np.float64)).all():
        raise DataError("RL candles: volume has non-finite values")
    prices = candles[["open", "high", "low", "close"]].to_numpy(dtype=np.float64)
    if not (np.isfinite(prices).all() and (prices > 0.0).all()):
        bad = int(np.flatnonzero(~(np.isfinite(prices) & (prices > 0.0)).all(axis=1))[0])
        raise DataError(f"RL candles: row {bad} has a non-positive or non-finite price")
    if not candles["date"].is_monotonic_increasing or candles["date"].duplicated().any():
        raise DataError("RL candles: dates must be strictly increasing (one row per candle)")


def _rolling_z(x: pd.Series, n: int) -> np.ndarray:
    roll = x.rolling(n, min_periods=n)
    std = roll.std(ddof=0).to_numpy()
    z = (x.to_numpy() - roll.mean().to_numpy()) / np.where(std > 0.0, std, np.nan)
    z = np.where(np.isfinite(std) & (std == 0.0), 0.0, z)
    return np.asarray(z, dtype=np.float64)


def default_features(candles: pd.DataFrame, norm_window: int = 96) -> np.ndarray:
    """The default per-candle features, normalised causally.

    With ``r_t = log(close_t / close_{t-1})`` (close-to-close log return), ``g_t =
    log(high_t / low_t)`` (candle range) and ``v_t = log(1 + volume_t)``, and rolling statistics
    over the ``norm_window`` candles ending at ``t`` (population std, ``ddof=0``):

    * ``log_return_scaled = r_t / sqrt(mean(r^2))`` (returns in units of their recent RMS);
    * ``range_z = (g_t - mean(g)) / std(g)``;
    * ``volume_z = (v_t - mean(v)) / std(v)``.

    Each is clipped to ``[-5, 5]``; a zero std gives 0. Row ``t`` uses candles ``<= t`` only.

    Parameters
    ----------
    candles : DataFrame
        ``date`` (UTC candle open), ``open, high, low, close`` (quote currency, > 0), ``volume``.
    norm_window : int
        Candles of the rolling statistics.

    Returns
    -------
    ndarray
        Shape ``(n_candles, 3)``, float64, columns :data:`DEFAULT_FEATURE_NAMES`; NaN in the
        first ``norm_window`` rows (warm-up).
    """
    close = candles["close"].to_numpy(dtype=np.float64)
    r = np.full(len(close), np.nan)
    r[1:] = np.log(close[1:] / close[:-1])
    rms = np.sqrt(pd.Series(r * r).rolling(norm_window, min_periods=norm_window).mean().to_numpy())
    ret = np.where(rms > 0.0, r / np.where(rms > 0.0, rms, 1.0), np.where(np.isnan(rms), np.nan, 0.0))
    rng = pd.Series(np.log(candles["high"].to_numpy(dtype=np.float64)
                           / candles["low"].to_numpy(dtype=np.float64)))
    vol = pd.Series(np.log1p(np.maximum(candles["volume"].to_numpy(dtype=np.float64), 0.0)))
    out = np.column_stack([ret, _rolling_z(rng, norm_window), _rolling_z(vol, norm_window)])
    out[:norm_window] = np.nan  # the return series starts one row late: same warm-up everywhere
    return np.clip(out, -FEATURE_CLIP, FEATURE_CLIP)


def first_valid_row(features: np.ndarray, window: int) -> int:
    """First candle whose observation window holds only finite features.

    Parameters
    ----------
    features : ndarray
        Shape ``(n_candles, n_features)``; NaN marks warm-up rows.
    window : int
        Observation lookback in candles.

    Returns
    -------
    int
        Row index ``t`` such that rows ``t - window + 1 .. t`` and all later rows are finite;
        ``n_candles`` when there is none.

    Raises
    ------
    DataError
        A NaN appears after the warm-up (features must be finite once they start).
    """
    finite = np.isfinite(features).all(axis=1)
    if not finite.any():
        return len(features)
    first = int(np.argmax(finite))
    if not finite[first:].all():
        bad = first + int(np.argmin(finite[first:]))
        raise DataError(f"RL features: row {bad} is not finite after the warm-up (row {first})")
    return first + window - 1
