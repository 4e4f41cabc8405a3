"""Higher-timeframe resampling and lookahead-free alignment onto base-timeframe rows.

Timing convention (freqtrade): a candle's ``date`` is its OPEN time (UTC); a base candle is
complete at ``date + base_tf``, and a decision "at row t" is made at that close.

A higher-timeframe candle opened at ``D`` with length ``T`` is complete at ``D + T``. Base row t
(close ``c_t = date_t + base_tf``) may use it only if ``D + T <= c_t``; :func:`informative_keys`
gives the newest such candle, ``D = floor_T(c_t) - T``. Rows whose candle is missing (gaps) get
NaN: nothing is forward-filled, from the past or the future.

Buckets are aligned to the UTC epoch (minutes/hours/days: 1d starts at 00:00 UTC) and weeks start
on Monday 00:00 UTC, as exchanges label them. A bucket with missing base candles (a data gap) is
built from the candles present; the last, still-open bucket of the data is never used by any row
(its close lies after the last row's close).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb._typing import Int64Array
from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError, DataError

__all__ = [
    "align_on_dates", "bucket_open_ns", "check_candles", "date_ns", "informative_keys", "resample_candles",
]

_NS = 1_000_000_000
_MONDAY_OFFSET_NS = 4 * 86_400 * _NS  # 1970-01-01 was a Thursday; 1970-01-05 a Monday


def date_ns(dates: pd.Series | pd.DatetimeIndex) -> Int64Array:
    """Return UTC dates as int64 nanoseconds since the epoch, shape ``(n,)``."""
    return np.asarray(pd.DatetimeIndex(dates).as_unit("ns").asi8, dtype=np.int64)


def _period(timeframe: str) -> tuple[int, int]:
    if timeframe[-1] in ("M", "y"):
        raise ConfigError(f"features.informative_timeframes: {timeframe!r} has no fixed length")
    period = timeframe_to_seconds(timeframe) * _NS
    offset = _MONDAY_OFFSET_NS if timeframe.endswith("w") else 0
    return period, offset


def bucket_open_ns(ts_ns: Int64Array, timeframe: str) -> Int64Array:
    """Open time (UTC ns) of the ``timeframe`` candle containing each timestamp.

    Parameters
    ----------
    ts_ns : ndarray
        Timestamps, int64 UTC nanoseconds, shape ``(n,)``.
    timeframe : str
        Fixed-length timeframe (units s/m/h/d/w).

    Returns
    -------
    ndarray
        int64 UTC nanoseconds, ``floor((ts - offset) / T) * T + offset`` (offset: Monday for weeks).
    """
    period, offset = _period(timeframe)
    return np.asarray((ts_ns - offset) // period * period + offset, dtype=np.int64)


def resample_candles(candles: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """Resample base candles to a higher ``timeframe``.

    Open is the first open, high the max, low the min, close the last close, volume the sum;
    each bucket is labelled by its open time (``date``, UTC). Buckets without candles are absent.

    Parameters
    ----------
    candles : DataFrame
        Columns ``date`` (UTC, open time, strictly increasing), ``open, high, low, close, volume``.
    timeframe : str
        Target timeframe, fixed length (s/m/h/d/w).

    Returns
    -------
    DataFrame
        Same columns, one row per non-empty bucket, float64 prices, ``date`` UTC ns.

    Examples
    --------
    >>> dates = pd.date_range("2024-01-01", periods=5, freq="1h", tz="UTC")
    >>> df = pd.DataFrame({"date": dates, "open": [1., 2, 3, 4, 5], "high": [2., 3, 9, 5, 6],
    ...                    "low": [0., 1, 2, 3, 4], "close": [2., 3, 4, 5, 6], "volume": 1.0})
    >>> resample_candles(df, "4h")[["open", "high", "low", "close", "volume"]].to_numpy().tolist()
    [[1.0, 9.0, 0.0, 5.0, 4.0], [5.0, 6.0, 4.0, 6.0, 1.0]]
    """
    keys = bucket_open_ns(date_ns(candles["date"]), timeframe)
    if len(keys) == 0:
        return pd.DataFrame({"date": pd.DatetimeIndex([], tz="UTC"), "open": [], "high": [], "low": [],
                             "close": [], "volume": []})
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1

    def col(name: str) -> np.ndarray:
        return candles[name].to_numpy(dtype=np.float64)

    return pd.DataFrame({
        "date": pd.to_datetime(keys[starts], utc=True),
        "open": col("open")[starts],
        "high": np.maximum.reduceat(col("high"), starts),
        "low": np.minimum.reduceat(col("low"), starts),
        "close": col("close")[ends],
        "volume": np.add.reduceat(col("volume"), starts),
    })


def informative_keys(base_dates_ns: Int64Array, base_timeframe: str, timeframe: str) -> Int64Array:
    """Open time (UTC ns) of the newest ``timeframe`` candle complete at each base row's close.

    ``D_t = floor_T(date_t + base_tf) - T``, so that ``D_t + T <= date_t + base_tf``.

    Parameters
    ----------
    base_dates_ns : ndarray
        Base candle open times, int64 UTC ns, shape ``(n,)``.
    base_timeframe, timeframe : str
        Base and higher timeframe.

    Returns
    -------
    ndarray
        int64 UTC ns, shape ``(n,)``.
    """
    close = base_dates_ns + timeframe_to_seconds(base_timeframe) * _NS
    period, _ = _period(timeframe)
    return bucket_open_ns(close, timeframe) - period


def align_on_dates(values: np.ndarray, source_ns: Int64Array, target_ns: Int64Array) -> np.ndarray:
    """Pick, for each target timestamp, the row of ``values`` with exactly that source timestamp.

    Parameters
    ----------
    values : ndarray
        Shape ``(n_source,)`` or ``(n_source, k)``, float64.
    source_ns : ndarray
        Unique int64 UTC ns key of each ``values`` row.
    target_ns : ndarray
        Keys wanted, shape ``(n_target,)``.

    Returns
    -------
    ndarray
        Shape ``(n_target, ...)``, float64; NaN where the key is absent (never filled).
    """
    idx = pd.Index(source_ns).get_indexer(target_ns)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape[0] == 0:
        return np.full((len(target_ns), *arr.shape[1:]), np.nan)
    out = arr[np.where(idx < 0, 0, idx)]  # fancy indexing copies
    out[idx < 0] = np.nan
    return out


def check_candles(candles: pd.DataFrame, name: str) -> None:
    """Check the candle frame contract; raise :class:`DataError` naming the column or row.

    ``date`` must be tz-aware UTC and strictly increasing; ``open, high, low, close, volume``
    must be present and numeric.
    """
    missing = [c for c in ("date", "open", "high", "low", "close", "volume") if c not in candles.columns]
    if missing:
        raise DataError(f"{name}: missing column {missing[0]!r}")
    dates = candles["date"]
    if not isinstance(dates.dtype, pd.DatetimeTZDtype) or str(dates.dt.tz) != "UTC":
        raise DataError(f"{name}: column 'date' must be tz-aware UTC datetimes, got {dates.dtype}")
    for col in ("open", "high", "low", "close", "volume"):
        if not pd.api.types.is_numeric_dtype(candles[col]):
            raise DataError(f"{name}: column {col!r} is not numeric ({candles[col].dtype})")
    ns = date_ns(dates)
    bad = np.flatnonzero(np.diff(ns) <= 0)
    if len(bad):
        row = int(bad[0]) + 1
        raise DataError(f"{name}: column 'date' is not strictly increasing at row {row} "
                        f"({dates.iloc[row]})")
