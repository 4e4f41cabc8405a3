"""The OHLCV frame contract shared by every candle producer and consumer.

A candle frame has exactly the columns ``date, open, high, low, close, volume``: ``date`` is the
candle OPEN time as tz-aware UTC ``datetime64``; prices are float64 in quote currency and volume
is float64 in base currency. Rows are sorted by ``date``.
"""

from __future__ import annotations

import pandas as pd

from atb.errors import DataError

__all__ = ["OHLCV_COLUMNS", "ensure_ohlcv_frame"]

OHLCV_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")


def ensure_ohlcv_frame(df: pd.DataFrame, pair: str, timeframe: str) -> pd.DataFrame:
    """Return ``df`` restricted to the OHLCV columns with the contract's dtypes.

    Raises
    ------
    DataError
        If a column is missing or cannot be converted (names pair, timeframe and column).
    """
    missing = [c for c in OHLCV_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{pair} {timeframe}: candle data lacks column(s) {', '.join(missing)}")
    out = df.loc[:, list(OHLCV_COLUMNS)].copy()
    date = out["date"]
    try:
        if pd.api.types.is_numeric_dtype(date):
            out["date"] = pd.to_datetime(date, unit="ms", utc=True)
        elif not isinstance(date.dtype, pd.DatetimeTZDtype):
            out["date"] = pd.to_datetime(date, utc=True)
        else:
            out["date"] = date.dt.tz_convert("UTC")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{pair} {timeframe}: column 'date' is not a date: {exc}") from None
    for col in OHLCV_COLUMNS[1:]:
        try:
            out[col] = out[col].astype("float64")
        except (ValueError, TypeError):
            raise DataError(f"{pair} {timeframe}: column {col!r} is not numeric") from None
    return out.reset_index(drop=True)
