"""Candle cleaning, freqtrade's missing-candle fill, and timeframe resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_resample_freq, timeframe_to_seconds

__all__ = ["clean_ohlcv_dataframe", "fill_missing_candles", "resample_ohlcv"]

_AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def clean_ohlcv_dataframe(
    df: pd.DataFrame, timeframe: str, pair: str, *, fill_missing: bool = True
) -> pd.DataFrame:
    """Sort, merge duplicate dates and optionally fill missing candles.

    Duplicates are merged as freqtrade does: first open, max high, min low, last close, summed
    volume.

    Parameters
    ----------
    df : DataFrame
        OHLCV frame (``atb.data.models`` contract).
    timeframe, pair : str
        Used for the fill and in messages.
    fill_missing : bool
        Apply :func:`fill_missing_candles`.
    """
    out = df.sort_values("date", kind="stable")
    if out["date"].duplicated().any():
        out = out.groupby("date", as_index=False, sort=True).agg(_AGG)
    out = out.reset_index(drop=True)
    if fill_missing:
        out = fill_missing_candles(out, timeframe, pair)
    return out


def fill_missing_candles(df: pd.DataFrame, timeframe: str, pair: str = "") -> pd.DataFrame:
    """Insert the candles missing between the first and last date (freqtrade's fill).

    A filled candle has open = high = low = close = the previous close and volume 0; indicators
    and the backtest loop see these rows, as in freqtrade.

    Returns
    -------
    DataFrame
        Contiguous frame, one row per timeframe step.
    """
    if len(df) < 2:
        return df.reset_index(drop=True)
    step = pd.Timedelta(seconds=timeframe_to_seconds(timeframe))
    full = pd.date_range(df["date"].iloc[0], df["date"].iloc[-1], freq=step)
    if len(full) == len(df):
        return df.reset_index(drop=True)
    out = df.set_index("date").reindex(full)
    out.index.name = "date"
    close = out["close"].ffill()
    missing = out["open"].isna()
    out["close"] = close
    for col in ("open", "high", "low"):
        out[col] = out[col].where(~missing, close)
    out["volume"] = out["volume"].fillna(0.0)
    return out.reset_index()


def resample_ohlcv(df: pd.DataFrame, timeframe: str, *, drop_incomplete: bool = True) -> pd.DataFrame:
    """Resample candles to a longer timeframe (label = bucket open time, UTC).

    Open is the first open, high the max, low the min, close the last close, volume the sum.
    With ``drop_incomplete``, a last bucket with fewer source candles than a full one is dropped.
    """
    if df.empty:
        return df.copy()
    src = df.set_index("date")
    freq = timeframe_to_resample_freq(timeframe)
    res = src.resample(freq, label="left", closed="left").agg(_AGG)
    counts = src["close"].resample(freq, label="left", closed="left").count()
    res = res[counts > 0]
    if drop_incomplete and len(res):
        src_step = np.median(np.diff(src.index.asi8)) if len(src) > 1 else 0
        if src_step > 0:
            full = timeframe_to_seconds(timeframe) * 1e9 / src_step
            if counts.iloc[-1] < full:
                res = res.iloc[:-1]
    return res.reset_index()
