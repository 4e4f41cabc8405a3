"""freqtrade's strategy helper functions: stop conversions and informative-pair merging.

Behaviour follows freqtrade's documentation ("Strategy customization", "Stoploss relative to
open price", "Stoploss from absolute price", "Informative pairs"); the timeframe helpers are
re-exported from :mod:`atb.core.timeframe`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb.core.timeframe import (
    timeframe_to_minutes,
    timeframe_to_msecs,
    timeframe_to_next_date,
    timeframe_to_prev_date,
    timeframe_to_seconds,
)

__all__ = [
    "merge_informative_pair",
    "stoploss_from_absolute",
    "stoploss_from_open",
    "timeframe_to_minutes",
    "timeframe_to_msecs",
    "timeframe_to_next_date",
    "timeframe_to_prev_date",
    "timeframe_to_seconds",
]


def stoploss_from_open(open_relative_stop: float, current_profit: float, is_short: bool = False,
                       leverage: float = 1.0) -> float:
    """Stop distance below the current rate that puts the stop at ``open * (1 + open_relative_stop)``.

    For a long, ``1 - (1 + stop / lev) / (1 + profit / lev)``; for a short
    ``(1 - stop / lev) / (1 - profit / lev) - 1``; the result is multiplied by ``leverage`` and
    floored at 0 (a stop on the wrong side of the current rate cannot be set). A trade at -100 %
    (+100 % for a short) gives 1.

    Parameters
    ----------
    open_relative_stop : float
        Wanted stop as a ratio of the open rate (0.05 = 5 % above open for a long).
    current_profit : float
        Current profit ratio of the trade (leveraged, as freqtrade passes it).
    is_short : bool
    leverage : float

    Returns
    -------
    float
        Positive ratio of the current rate, as ``custom_stoploss`` returns (the sign is ignored
        by the engine).

    Examples
    --------
    >>> round(stoploss_from_open(0.05, 0.10), 6)  # open 100, now 110: stop 105 is 4.5454 % below
    0.045455
    """
    profit = current_profit / leverage
    if (profit == -1 and not is_short) or (is_short and profit == 1):
        return 1.0
    if is_short:
        stop = -1 + (1 - open_relative_stop / leverage) / (1 - profit)
    else:
        stop = 1 - (1 + open_relative_stop / leverage) / (1 + profit)
    return max(stop * leverage, 0.0)


def stoploss_from_absolute(stop_rate: float, current_rate: float, is_short: bool = False,
                           leverage: float = 1.0) -> float:
    """Stop distance (ratio of the current rate) for an absolute stop price.

    ``1 - stop_rate / current_rate`` for longs, negated for shorts, clipped to ``[0, 1]`` and
    multiplied by ``leverage``. A current rate of 0 gives 1 (the formula is undefined).

    Examples
    --------
    >>> round(stoploss_from_absolute(95.0, 100.0), 10)  # 95 is 5 % below 100
    0.05
    """
    if current_rate == 0:
        return 1.0
    stop = 1 - stop_rate / current_rate
    if is_short:
        stop = -stop
    return max(min(stop, 1.0), 0.0) * leverage


def _merge_dates(informative: pd.DataFrame, date_column: str, timeframe: str,
                 timeframe_inf: str) -> pd.Series:
    minutes, minutes_inf = timeframe_to_minutes(timeframe), timeframe_to_minutes(timeframe_inf)
    dates = informative[date_column]
    if minutes == minutes_inf or informative.empty:
        return dates
    if minutes > minutes_inf:
        raise ValueError(f"cannot merge informative timeframe {timeframe_inf} into the faster "
                         f"{timeframe} frame: it must be equal or longer")
    step = pd.Timedelta(minutes=minutes)
    if timeframe_inf == "1M":  # months differ in length: the candle closes at the next month
        return dates + pd.offsets.MonthBegin(1) - step
    return dates + pd.Timedelta(minutes=minutes_inf) - step


def merge_informative_pair(dataframe: pd.DataFrame, informative: pd.DataFrame, timeframe: str,
                           timeframe_inf: str, ffill: bool = True, append_timeframe: bool = True,
                           date_column: str = "date", suffix: str | None = None) -> pd.DataFrame:
    """Merge a same-or-longer timeframe frame into ``dataframe`` without lookahead.

    An informative candle is visible only once it has closed: its merge date is
    ``date + timeframe_inf - timeframe`` (the open of the last base candle inside it), so the
    base row at ``t`` sees the informative candles closed by the end of candle ``t``. Columns are
    renamed ``<col>_<timeframe_inf>`` (``append_timeframe``) or ``<col>_<suffix>``; the
    informative ``date`` column is kept (e.g. ``date_1h``).

    With ``ffill`` a base row that no informative candle maps to exactly carries the values of
    the last row that one did map to (as whole rows: NaNs in that candle stay NaN); rows before
    the first mapped one take the last informative candle merged before it. Informative candles
    whose merge date is not a base date are skipped. Without ``ffill`` only exact rows get values.

    Parameters
    ----------
    dataframe : DataFrame
        Base candles with a ``date`` column (UTC candle open).
    informative : DataFrame
        Candles of ``timeframe_inf`` with ``date_column``.
    timeframe, timeframe_inf : str
        e.g. ``"5m"`` and ``"1h"``.

    Returns
    -------
    DataFrame
        The base rows in order, plus the informative columns.

    Raises
    ------
    ValueError
        If ``timeframe_inf`` is shorter than ``timeframe``, or both ``suffix`` and
        ``append_timeframe`` are given (freqtrade's errors).
    """
    if suffix and append_timeframe:
        raise ValueError("give either append_timeframe=True or a suffix, not both")
    inf = informative.copy()
    inf["date_merge"] = _merge_dates(inf, date_column, timeframe, timeframe_inf)
    tag = timeframe_inf if append_timeframe else suffix
    if tag:
        inf.columns = [f"{c}_{tag}" for c in inf.columns]
    merge_col = f"date_merge_{tag}" if tag else "date_merge"
    merged = pd.merge(dataframe, inf, left_on="date", right_on=merge_col, how="left")
    if ffill and len(merged) and len(inf):
        _fill_rows(merged, inf, merge_col)
    return merged.drop(columns=[merge_col])


def _fill_rows(merged: pd.DataFrame, inf: pd.DataFrame, merge_col: str) -> None:
    """Carry the last mapped informative row forward (in place), and fill the leading rows."""
    cols = [c for c in inf.columns if c in merged.columns]
    matched = merged[merge_col].notna().to_numpy()
    if not matched.any():
        return
    src = np.where(matched, np.arange(len(merged)), -1)
    src = np.maximum.accumulate(src)
    first = int(np.argmax(matched))
    rows = np.nonzero(src >= 0)[0]
    block = merged[cols]
    filled = block.iloc[src[rows]].set_axis(merged.index[rows])
    merged.loc[merged.index[rows], cols] = filled
    if first > 0:
        before = inf[inf[merge_col] < merged[merge_col].iloc[first]]
        if len(before):
            head = merged.index[:first]
            merged.loc[head, cols] = merged.loc[head, cols].fillna(before.iloc[-1][cols])
