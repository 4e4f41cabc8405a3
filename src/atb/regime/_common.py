"""Shared input checks and helpers of the regime detectors (private)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError, DataError

__all__ = [
    "candle_dates",
    "candle_seconds",
    "check_fraction",
    "check_int",
    "close_times",
    "label_series",
    "log_returns",
    "positive_closes",
]


def check_int(owner: str, name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as int, or raise ``ConfigError`` naming ``owner.name`` if < ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{owner}.{name}: must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_fraction(owner: str, name: str, value: Any, *, low: float = 0.0, high: float = 1.0,
                   closed_high: bool = False) -> float:
    """Return ``value`` as float in ``[low, high)`` (``[low, high]`` if ``closed_high``) or raise."""
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    v = float(value) if ok else float("nan")
    if not (low <= v < high or (closed_high and v == high)):
        bound = "]" if closed_high else ")"
        raise ConfigError(f"{owner}.{name}: must be a number in [{low}, {high}{bound}, got {value!r}")
    return v


def candle_dates(candles: pd.DataFrame, who: str = "candles") -> pd.DatetimeIndex:
    """Return the ``date`` column as a UTC ``DatetimeIndex`` (ns), checked strictly increasing.

    Raises
    ------
    DataError
        If ``candles`` is not a DataFrame, lacks ``date``, or dates are not sorted/unique.
    """
    if not isinstance(candles, pd.DataFrame):
        raise DataError(f"{who}: expected a pandas DataFrame, got {type(candles).__name__}")
    if "date" not in candles.columns:
        raise DataError(f"{who}: candle frame lacks the 'date' column")
    try:
        dates = pd.DatetimeIndex(pd.to_datetime(candles["date"], utc=True)).as_unit("ns")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{who}: column 'date' is not a date: {exc}") from None
    if len(dates) > 1 and not bool((np.diff(dates.asi8) > 0).all()):
        raise DataError(f"{who}: 'date' must be strictly increasing (sorted, no duplicates)")
    return dates


def positive_closes(candles: pd.DataFrame, who: str = "candles") -> np.ndarray:
    """Return ``close`` as a float64 array, shape (n,), checked finite and > 0.

    Raises
    ------
    DataError
        If the column is missing, not numeric, or holds a non-finite or non-positive price.
    """
    if "close" not in candles.columns:
        raise DataError(f"{who}: candle frame lacks the 'close' column")
    try:
        close = candles["close"].to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError):
        raise DataError(f"{who}: column 'close' is not numeric") from None
    bad = ~(np.isfinite(close) & (close > 0.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"{who}: close at row {row} is {close[row]!r}; prices must be finite and > 0")
    return close


def log_returns(close: np.ndarray) -> np.ndarray:
    """``r[t] = ln(close[t] / close[t-1])``, ``r[0] = NaN``; float64, shape (n,), unit: log-return."""
    r = np.full(close.shape, np.nan)
    if close.size > 1:
        r[1:] = np.diff(np.log(close))
    return r


def candle_seconds(dates: pd.DatetimeIndex, timeframe: str | None) -> int | None:
    """Candle length in seconds: from ``timeframe`` if given, else the smallest step between dates.

    Returns ``None`` when ``timeframe`` is None and there are fewer than two rows. Inference from
    the smallest step only looks at the rows passed, so it is causal; pass ``timeframe`` to make it
    explicit (e.g. for frames that begin with a gap).
    """
    if timeframe is not None:
        return timeframe_to_seconds(timeframe)
    if len(dates) < 2:
        return None
    return int(np.diff(dates.asi8).min() // 1_000_000_000)


def close_times(dates: pd.DatetimeIndex, seconds: int | None) -> pd.DatetimeIndex:
    """Candle CLOSE times (``date + timeframe``, UTC); ``seconds=None`` uses the open time itself.

    Using the open time when the length is unknown is the conservative choice for the consuming
    side of an as-of join (a row then sees only older information).
    """
    return dates if seconds is None else dates + pd.Timedelta(seconds=seconds)


def label_series(values: Sequence[str | None] | np.ndarray, name: str) -> pd.Series:
    """Wrap labels in an object Series with a ``RangeIndex`` (``None`` = not determinable)."""
    arr = np.empty(len(values), dtype=object)
    arr[:] = list(values)
    return pd.Series(arr, index=pd.RangeIndex(len(arr)), name=name, dtype=object)
