"""Per-pair preparation between the strategy's signals and the simulation kernel.

freqtrade's order (``../shared/parity/SPEC.md`` Data preparation, steps 5-6): indicators and
signals are computed on the frame including the startup candles; then exactly
``startup_candle_count`` rows are cut (by count; with 0, rows before the timerange start are cut),
rows after the timerange end are cut, and the signal/tag columns are shifted down one row with the
first row dropped, so the row processed at candle ``t`` carries candle ``t``'s prices and the
signals of candle ``t-1``, the last closed candle.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["SIGNAL_COLUMNS", "TAG_COLUMNS", "shift_signals", "trim_startup"]

SIGNAL_COLUMNS = ("enter_long", "exit_long", "enter_short", "exit_short", "emergency_exit")
TAG_COLUMNS = ("enter_tag", "exit_tag")


def trim_startup(
    df: pd.DataFrame,
    startup_candles: int,
    start: datetime | None = None,
    stop: datetime | None = None,
) -> pd.DataFrame:
    """Cut startup rows and rows outside the timerange (``stop`` inclusive).

    Parameters
    ----------
    df : DataFrame
        Analysed frame with a UTC ``date`` column, including startup rows.
    startup_candles : int
        Rows to cut from the top (by count). With 0, rows dated before ``start`` are cut.
    start, stop : datetime or None
        Timerange bounds, UTC.
    """
    if startup_candles > 0:
        df = df.iloc[startup_candles:]
    elif start is not None:
        df = df.loc[df["date"] >= pd.Timestamp(start)]
    if stop is not None:
        df = df.loc[df["date"] <= pd.Timestamp(stop)]
    return df


def shift_signals(df: pd.DataFrame) -> pd.DataFrame:
    """Shift signals and tags down one row (NaN -> 0 / None) and drop the first row.

    Returns a new frame with ``date, open, high, low, close`` and the signal/tag columns; its
    ``attrs["start_date"]`` is the date of the first row before the drop (the candle whose
    signals the first processed row carries).
    """
    n = len(df)
    data: dict[str, object] = {"date": df["date"].reset_index(drop=True)}
    for c in ("open", "high", "low", "close"):
        data[c] = df[c].to_numpy(dtype=np.float64)
    for c in SIGNAL_COLUMNS:
        vals = (
            pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
            if c in df.columns else np.zeros(n)
        )
        shifted = np.zeros(n)
        shifted[1:] = vals[:-1]
        data[c] = np.nan_to_num(shifted, nan=0.0)
    for c in TAG_COLUMNS:
        shifted_o = np.full(n, None, dtype=object)
        if c in df.columns and n > 1:
            col = df[c].to_numpy(dtype=object)[:-1]
            keep = pd.notna(col)
            shifted_o[1:][keep] = col[keep]
        data[c] = shifted_o
    out = pd.DataFrame(data)
    if out["date"].dt.tz is None:
        out["date"] = out["date"].dt.tz_localize("UTC")
    start_date = out["date"].iloc[0] if n else None
    out = out.iloc[1:].reset_index(drop=True)
    out.attrs["start_date"] = start_date
    return out
