"""OHLCV contract checks with errors that name pair, timeframe and row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import DataError

__all__ = ["ValidationReport", "validate_ohlcv"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationReport:
    """Counts from :func:`validate_ohlcv` (duplicates and gaps are reported, not errors)."""

    rows: int
    duplicates: int
    gaps: int
    missing_candles: int


def _fail(df: pd.DataFrame, mask: np.ndarray, pair: str, timeframe: str, what: str) -> None:
    idx = int(np.nonzero(mask)[0][0])
    raise DataError(f"{pair} {timeframe}: row {idx} ({df['date'].iloc[idx]}): {what}")


def validate_ohlcv(df: pd.DataFrame, pair: str, timeframe: str) -> ValidationReport:
    """Check an OHLCV frame.

    Raises
    ------
    DataError
        On unsorted dates, NaN values, ``high < max(open, close)``, ``low > min(open, close)``,
        prices <= 0 or negative volume, naming the first offending row.
    """
    dates = df["date"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    if len(dates) > 1 and (np.diff(dates) < 0).any():
        _fail(df, np.r_[False, np.diff(dates) < 0], pair, timeframe, "dates are not sorted")
    values = df[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        _fail(df, np.isnan(values).any(axis=1), pair, timeframe, "NaN value")
    o, h, lo, c, v = values.T
    if (np.minimum.reduce([o, h, lo, c]) <= 0).any():
        _fail(df, np.minimum.reduce([o, h, lo, c]) <= 0, pair, timeframe, "price <= 0")
    if (h < np.maximum(o, c)).any():
        _fail(df, h < np.maximum(o, c), pair, timeframe, "high below open/close")
    if (lo > np.minimum(o, c)).any():
        _fail(df, lo > np.minimum(o, c), pair, timeframe, "low above open/close")
    if (v < 0).any():
        _fail(df, v < 0, pair, timeframe, "negative volume")
    step = timeframe_to_seconds(timeframe) * 1_000_000_000
    diffs = np.diff(dates)
    gap_mask = diffs > step
    return ValidationReport(
        rows=len(df),
        duplicates=int((diffs == 0).sum()),
        gaps=int(gap_mask.sum()),
        missing_candles=int(((diffs[gap_mask] // step) - 1).sum()),
    )
