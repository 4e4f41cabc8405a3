"""freqtrade strategy helper functions: stop conversions and informative-pair merging."""

from __future__ import annotations

import pandas as pd

from atb.core.timeframe import timeframe_to_minutes, timeframe_to_next_date, timeframe_to_prev_date

__all__ = [
    "merge_informative_pair",
    "stoploss_from_absolute",
    "stoploss_from_open",
    "timeframe_to_minutes",
    "timeframe_to_next_date",
    "timeframe_to_prev_date",
]


def stoploss_from_open(open_relative_stop: float, current_profit: float, is_short: bool = False,
                       leverage: float = 1.0) -> float:
    """Stop distance from the current rate that puts the stop at ``open * (1 + stop)``.

    For a long: ``1 - (1 + open_relative_stop / lev) / (1 + current_profit / lev)``, times
    ``leverage``, floored at 0 (a stop above the current rate is impossible). Shorts mirror it.
    Source: freqtrade documentation, "Stoploss relative to open price".
    """
    _current_profit = current_profit / leverage
    if (_current_profit == -1 and not is_short) or (is_short and _current_profit == 1):
        return 1.0
    if is_short:
        stoploss = -1 + ((1 - open_relative_stop / leverage) / (1 - _current_profit))
    else:
        stoploss = 1 - ((1 + open_relative_stop / leverage) / (1 + _current_profit))
    return max(stoploss * leverage, 0.0)


def stoploss_from_absolute(stop_rate: float, current_rate: float, is_short: bool = False,
                           leverage: float = 1.0) -> float:
    """Stop distance (ratio of the current rate) for an absolute stop price.

    ``(1 - stop_rate / current_rate) * leverage`` for longs (``stop_rate / current_rate - 1`` for
    shorts), floored at 0; a non-positive current rate gives 1 (freqtrade documentation).
    """
    if current_rate == 0:
        return 1.0
    stoploss = 1 - (stop_rate / current_rate)
    if is_short:
        stoploss = -stoploss
    return max(min(stoploss, 1.0), 0.0) * leverage


def merge_informative_pair(dataframe: pd.DataFrame, informative: pd.DataFrame, timeframe: str,
                           timeframe_inf: str, ffill: bool = True, *, append_timeframe: bool = True,
                           date_column: str = "date", suffix: str | None = None) -> pd.DataFrame:
    """Merge a longer-timeframe frame into ``dataframe`` without lookahead.

    An informative candle becomes visible at its close: its date is moved to
    ``date + tf_inf - tf`` before the as-of merge, so the row at ``t`` sees only informative
    candles that closed by the end of candle ``t``. Informative columns are renamed
    ``<col>_<timeframe_inf>`` (or ``<col>_<suffix>``).

    Raises
    ------
    ValueError
        If ``timeframe_inf`` is shorter than ``timeframe`` (as freqtrade).
    """
    minutes_inf = timeframe_to_minutes(timeframe_inf)
    minutes = timeframe_to_minutes(timeframe)
    if minutes > minutes_inf:
        raise ValueError("Tried to merge a faster timeframe to a slower timeframe.")
    inf = informative.copy()
    if minutes == minutes_inf:
        inf["date_merge"] = inf[date_column]
    else:
        inf["date_merge"] = (
            inf[date_column] + pd.Timedelta(minutes=minutes_inf) - pd.Timedelta(minutes=minutes)
        )
    tag = suffix if suffix is not None else timeframe_inf
    if append_timeframe or suffix is not None:
        inf.columns = [f"{c}_{tag}" for c in inf.columns]
        date_merge = f"date_merge_{tag}"
    else:
        date_merge = "date_merge"
    merged = pd.merge(dataframe, inf, left_on="date", right_on=date_merge, how="left")
    merged = merged.drop(columns=[date_merge])
    if ffill:
        cols = [c for c in inf.columns if c != date_merge]
        merged[cols] = merged[cols].ffill()
    return merged
