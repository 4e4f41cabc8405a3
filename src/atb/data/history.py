"""Load candles for a backtest with freqtrade's semantics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.data.converter import clean_ohlcv_dataframe
from atb.data.storage.base import store_for
from atb.errors import MissingDataError

__all__ = ["load_data", "load_pair_history"]


def load_pair_history(
    datadir: Path,
    pair: str,
    timeframe: str,
    *,
    timerange: Any = None,
    startup_candles: int = 0,
    candle_type: str = "spot",
    data_format: str | None = None,
    fill_missing: bool = True,
) -> pd.DataFrame:
    """Candles of one pair, cleaned, gap-filled and cut to the timerange.

    With a timerange start, loading begins ``startup_candles`` candles earlier so indicators
    can warm up (the backtest later cuts exactly that many rows). Duplicates are merged and
    missing candles filled (freqtrade's fill) over the file's range before the cut; the stop is
    inclusive.

    Parameters
    ----------
    datadir : Path
    pair : str
        ``"BASE/QUOTE"`` (futures: ``"BASE/QUOTE:SETTLE"``).
    timeframe : str
    timerange : TimeRange or None
    startup_candles : int
    candle_type : str
        ``spot`` or ``futures`` (also ``mark``, ``funding_rate``).
    data_format : str or None
        ``feather``, ``parquet``, ``json``, ``jsongz``; None detects.
    fill_missing : bool

    Returns
    -------
    DataFrame
        OHLCV contract (``atb.data.models``).

    Raises
    ------
    DataError
        File missing or unreadable, or no candle inside the timerange (names pair, timeframe
        and the file or timerange).
    """
    store = store_for(Path(datadir), data_format, pair, timeframe, candle_type)
    df = store.load(pair, timeframe, candle_type)
    df = clean_ohlcv_dataframe(df, timeframe, pair, fill_missing=fill_missing)
    start = getattr(timerange, "startdt", None)
    stop = getattr(timerange, "stopdt", None)
    if start is not None:
        first = pd.Timestamp(start) - timedelta(seconds=startup_candles * timeframe_to_seconds(timeframe))
        df = df.loc[df["date"] >= first]
    if stop is not None:
        df = df.loc[df["date"] <= pd.Timestamp(stop)]
    if df.empty:
        raise MissingDataError(
            f"no {timeframe} candles for {pair} in timerange {timerange} "
            f"({store.path(pair, timeframe, candle_type)})"
        )
    return df.reset_index(drop=True)


def load_data(
    datadir: Path,
    pairs: list[str],
    timeframe: str,
    *,
    timerange: Any = None,
    startup_candles: int = 0,
    candle_type: str = "spot",
    data_format: str | None = None,
    fill_missing: bool = True,
    skip_missing: bool = False,
) -> dict[str, pd.DataFrame]:
    """:func:`load_pair_history` for each pair, in order.

    With ``skip_missing``, pairs without candles (no file, or none in the timerange) are left
    out, as freqtrade does; :class:`MissingDataError` is raised only when no pair has data.
    Corrupt or invalid files always raise.
    """
    out: dict[str, pd.DataFrame] = {}
    first_error: MissingDataError | None = None
    for pair in pairs:
        try:
            out[pair] = load_pair_history(
                datadir, pair, timeframe, timerange=timerange, startup_candles=startup_candles,
                candle_type=candle_type, data_format=data_format, fill_missing=fill_missing,
            )
        except MissingDataError as exc:
            if not skip_missing:
                raise
            first_error = first_error or exc
    if not out and first_error is not None:
        raise first_error
    return out
