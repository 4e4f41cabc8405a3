"""Aggregate scored news onto candles without lookahead.

A candle's ``date`` is its OPEN time (freqtrade); the decision for row ``t`` is taken at its close,
``close_t = date_t + timeframe``. Row ``t`` sees exactly the items with ``available_at <= close_t``;
the aggregation window is ``(close_t - window, close_t]``. Removing every item available after a time
``T`` and every candle closing after ``T`` therefore leaves all rows with ``close_t <= T`` unchanged
(tested on real news).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError, DataError
from atb.sentiment.models import ScoredItem

__all__ = ["SENTIMENT_COLUMNS", "sentiment_series"]

#: Columns of :func:`sentiment_series`, in order.
SENTIMENT_COLUMNS = ("sentiment_mean", "sentiment_count", "sentiment_decayed", "sentiment_last_at")


def _close_times_ns(candle_dates: pd.Series, timeframe: str) -> np.ndarray:
    """Candle close times as int64 UTC ns; open times must be tz-aware UTC datetimes."""
    if not isinstance(candle_dates.dtype, pd.DatetimeTZDtype) or str(candle_dates.dt.tz) != "UTC":
        raise DataError(f"candle_dates: expected tz-aware UTC datetimes, got dtype {candle_dates.dtype}")
    if candle_dates.isna().any():
        raise DataError("candle_dates: contains NaT")
    opens = candle_dates.dt.as_unit("ns").astype("int64").to_numpy()
    return opens + timeframe_to_seconds(timeframe) * 1_000_000_000


def select_for_asset(scored: Sequence[ScoredItem], asset: str | None,
                     include_market_wide: bool) -> list[ScoredItem]:
    """Items about ``asset`` (and market-wide ones if asked); ``asset=None`` keeps every item."""
    if asset is None:
        return list(scored)
    return [s for s in scored if asset in s.item.assets or (include_market_wide and not s.item.assets)]


def sentiment_series(scored: Sequence[ScoredItem], candle_dates: pd.Series, timeframe: str, *,
                     asset: str | None, half_life: timedelta = timedelta(hours=6),
                     window: timedelta = timedelta(hours=24),
                     include_market_wide: bool = True) -> pd.DataFrame:
    """Sentiment features aligned to candles, using only items available by each candle's close.

    Parameters
    ----------
    scored : Sequence[ScoredItem]
        Scored news items (any order).
    candle_dates : pandas.Series
        Candle OPEN times, ``datetime64[ns|ms, UTC]``, shape (n_candles,).
    timeframe : str
        Candle length (``"1h"``); ``close_t = date_t + timeframe``.
    asset : str or None
        Base asset (``"BTC"``): items tagged with it count; ``None`` counts every item.
    half_life : timedelta
        Half-life of the exponential decay weight ``w = 0.5 ** ((close_t - available_at) / half_life)``.
    window : timedelta
        Look-back window; row ``t`` aggregates items with ``available_at`` in ``(close_t - window, close_t]``.
    include_market_wide : bool
        Whether items without asset tags count for ``asset``.

    Returns
    -------
    pandas.DataFrame
        Index of ``candle_dates``; columns ``sentiment_mean`` (float64, mean score in the window, 0 when
        empty), ``sentiment_count`` (int64, items in the window), ``sentiment_decayed`` (float64,
        ``sum(w * score) / sum(w)`` over the window, 0 when empty), ``sentiment_last_at``
        (``datetime64[ns, UTC]``, ``available_at`` of the newest item available by ``close_t``, any age;
        NaT when none).

    Raises
    ------
    ConfigError
        Non-positive ``half_life`` or ``window``, or a bad timeframe.
    DataError
        ``candle_dates`` is not tz-aware UTC or contains NaT.

    Examples
    --------
    >>> df = sentiment_series([], pd.Series(pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")),
    ...                       "1h", asset="BTC")
    >>> df["sentiment_count"].tolist(), df["sentiment_mean"].tolist()
    ([0, 0], [0.0, 0.0])
    """
    if half_life <= timedelta(0) or window <= timedelta(0):
        raise ConfigError(f"half_life/window: must be > 0, got {half_life} and {window}")
    close = _close_times_ns(candle_dates, timeframe)
    items = select_for_asset(scored, asset, include_market_wide)
    avail = np.array([int(pd.Timestamp(s.item.available_at).as_unit("ns").value) for s in items],
                     dtype=np.int64)
    scores = np.array([s.score for s in items], dtype=np.float64)
    order = np.argsort(avail, kind="stable")
    avail, scores = avail[order], scores[order]
    win_ns = int(window / timedelta(microseconds=1)) * 1000
    hl_ns = float(half_life / timedelta(microseconds=1)) * 1000.0
    hi = np.searchsorted(avail, close, side="right")
    lo = np.searchsorted(avail, close - win_ns, side="right")
    n = len(close)
    mean = np.zeros(n, dtype=np.float64)
    decayed = np.zeros(n, dtype=np.float64)
    for row in np.flatnonzero(hi > lo):
        s = scores[lo[row]:hi[row]]
        w = np.exp2(-(close[row] - avail[lo[row]:hi[row]]).astype(np.float64) / hl_ns)
        mean[row] = s.mean()
        decayed[row] = np.dot(w, s) / w.sum()
    last_ns = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)  # int64 min is NaT
    has_any = hi > 0
    last_ns[has_any] = avail[hi[has_any] - 1]
    last_at = pd.DatetimeIndex(last_ns.view("datetime64[ns]")).tz_localize("UTC")
    return pd.DataFrame({
        "sentiment_mean": mean,
        "sentiment_count": (hi - lo).astype(np.int64),
        "sentiment_decayed": decayed,
        "sentiment_last_at": last_at.array,
    }, index=candle_dates.index)
