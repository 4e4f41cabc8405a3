"""qtpylib-compatible indicator helpers (the module strategies import as ``qtpylib``).

Same function names, signatures, defaults and return shapes as the qtpylib module that freqtrade
vendors (``freqtrade.vendor.qtpylib.indicators``) and ``technical`` re-exports, written for atb
from that module's documented behaviour. Inputs are pandas Series (prices in quote currency) or
OHLCV DataFrames with ``open, high, low, close, volume`` columns; outputs keep the input index.

Behaviour worth knowing (it decides signal parity with freqtrade):

* Standard deviations are *sample* deviations (``ddof = 1``) everywhere.
* :func:`rolling_mean` / :func:`rolling_std` with the default ``min_periods`` (= ``window``) on a
  series longer than ``window`` are computed over explicit windows with numpy (``np.mean`` /
  ``np.std(ddof=1)``), as qtpylib does, so values match it to the last bit; other cases use pandas
  ``rolling``.
* :func:`bollinger_bands` uses ``min_periods = 1``: the middle band starts on the first row, the
  bands on the second.
* :func:`rolling_weighted_mean` (``wma``/``ema``) is ``ewm(span=window, min_periods=window)``.
* :func:`vwap` raises (it would look ahead); use :func:`rolling_vwap`.

Everything else: use TA-Lib (``import talib.abstract as ta``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from atb.indicators._qtpylib_extra import (
    cci,
    chopiness,
    implied_volatility,
    log_returns,
    macd,
    pvt,
    returns,
    roc,
    rsi,
    session,
    stoch,
    tdi,
    zlema,
    zlhma,
    zlma,
    zlsma,
    zscore,
)
from atb.indicators._rolling import numpy_rolling_mean, numpy_rolling_std

__all__ = [
    "atr",
    "awesome_oscillator",
    "bollinger_bands",
    "cci",
    "chopiness",
    "crossed",
    "crossed_above",
    "crossed_below",
    "ema",
    "heikinashi",
    "hma",
    "hull_moving_average",
    "ibs",
    "implied_volatility",
    "keltner_channel",
    "log_returns",
    "macd",
    "mid_price",
    "nans",
    "numpy_rolling_mean",
    "numpy_rolling_std",
    "pvt",
    "returns",
    "roc",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_vwap",
    "rolling_weighted_mean",
    "rsi",
    "session",
    "sma",
    "stoch",
    "tdi",
    "true_range",
    "typical_price",
    "vwap",
    "weighted_bollinger_bands",
    "wma",
    "zlema",
    "zlhma",
    "zlma",
    "zlsma",
    "zscore",
]


def nans(length: int = 1) -> np.ndarray:
    """Array of ``length`` NaN values, dtype float64."""
    return np.full(length, np.nan)


# -- crossings ------------------------------------------------------------------------------------
def crossed(series1: Any, series2: Any, direction: str | None = None) -> pd.Series:
    """Rows where ``series1`` crossed ``series2``.

    Above: ``s1 > s2`` on this row and ``s1 <= s2`` on the previous row; below mirrors it;
    ``direction=None`` gives either. ``series2`` may be a number or an array (aligned to
    ``series1``'s index). The first row is always False (no previous row).

    Returns
    -------
    Series of bool, index of ``series1``.
    """
    s1 = pd.Series(series1) if isinstance(series1, np.ndarray) else series1
    if isinstance(series2, (int, float, np.integer, np.floating, np.ndarray)):
        s2 = pd.Series(series2, index=s1.index)
    else:
        s2 = series2
    above = (s1 > s2) & (s1.shift(1) <= s2.shift(1))
    below = (s1 < s2) & (s1.shift(1) >= s2.shift(1))
    if direction == "above":
        return above
    if direction == "below":
        return below
    return above | below


def crossed_above(series1: Any, series2: Any) -> pd.Series:
    """:func:`crossed` upwards."""
    return crossed(series1, series2, "above")


def crossed_below(series1: Any, series2: Any) -> pd.Series:
    """:func:`crossed` downwards."""
    return crossed(series1, series2, "below")


# -- prices ---------------------------------------------------------------------------------------
def typical_price(bars: pd.DataFrame) -> pd.Series:
    """Typical price ``(high + low + close) / 3`` per candle (quote currency)."""
    return (bars["high"] + bars["low"] + bars["close"]) / 3.0


def mid_price(bars: pd.DataFrame) -> pd.Series:
    """Mid price ``(high + low) / 2`` per candle (quote currency)."""
    return (bars["high"] + bars["low"]) / 2.0


def ibs(bars: pd.DataFrame) -> pd.Series:
    """Internal bar strength ``(close - low) / (high - low)``, rounded to 2 decimals (ratio 0..1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.round((bars["close"] - bars["low"]) / (bars["high"] - bars["low"]), 2)


def true_range(bars: pd.DataFrame) -> pd.Series:
    """True range ``max(high - low, |high - prev close|, |low - prev close|)``.

    The first row is ``high - low`` (the missing previous close is skipped).
    """
    prev = bars["close"].shift(1)
    return pd.DataFrame(
        {"hl": bars["high"] - bars["low"], "hc": (bars["high"] - prev).abs(),
         "lc": (bars["low"] - prev).abs()}
    ).max(axis=1)


# -- rolling statistics ---------------------------------------------------------------------------
def _mp(window: Any, min_periods: int | None) -> Any:
    return window if min_periods is None else min_periods


def rolling_mean(series: Any, window: int = 200, min_periods: int | None = None) -> Any:
    """Simple moving average over ``window`` rows (``min_periods`` defaults to ``window``).

    With the default ``min_periods`` and more than ``window`` rows the result comes from
    :func:`numpy_rolling_mean` (exact window means), otherwise from pandas ``rolling().mean()``.
    """
    mp = _mp(window, min_periods)
    if mp == window and len(series) > window:
        return numpy_rolling_mean(series, window, True)
    return pd.Series(series).rolling(window=window, min_periods=mp).mean()


def rolling_std(series: Any, window: int = 200, min_periods: int | None = None) -> Any:
    """Rolling *sample* standard deviation (``ddof = 1``); same path rules as :func:`rolling_mean`."""
    mp = _mp(window, min_periods)
    if mp == window and len(series) > window:
        return numpy_rolling_std(series, window, True)
    return pd.Series(series).rolling(window=window, min_periods=mp).std()


def rolling_min(series: Any, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Rolling minimum (pandas, ``min_periods`` defaults to ``window``)."""
    return pd.Series(series).rolling(window=window, min_periods=_mp(window, min_periods)).min()


def rolling_max(series: Any, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Rolling maximum (pandas, ``min_periods`` defaults to ``window``)."""
    return pd.Series(series).rolling(window=window, min_periods=_mp(window, min_periods)).max()


def rolling_weighted_mean(series: Any, window: float = 200, min_periods: Any = None) -> pd.Series:
    """Exponential moving average ``ewm(span=window, min_periods=window)`` (adjusted weights).

    Note: qtpylib's "weighted" mean is exponential, not linearly weighted.
    """
    return pd.Series(series).ewm(span=window, min_periods=_mp(window, min_periods)).mean()


def hull_moving_average(series: Any, window: int = 200, min_periods: Any = None) -> pd.Series:
    """Hull-style average on exponential means.

    ``ewm(2 * ewm(s, window/2) - ewm(s, window), sqrt(window))``, each step with
    ``min_periods`` (default ``window``) as in :func:`rolling_weighted_mean`.
    """
    mp = _mp(window, min_periods)
    ma = 2 * rolling_weighted_mean(series, window / 2, mp) - rolling_weighted_mean(series, window, mp)
    return rolling_weighted_mean(ma, np.sqrt(window), mp)


def sma(series: Any, window: int = 200, min_periods: int | None = None) -> Any:
    """Alias of :func:`rolling_mean`."""
    return rolling_mean(series, window=window, min_periods=min_periods)


def wma(series: Any, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`rolling_weighted_mean` (exponential)."""
    return rolling_weighted_mean(series, window=window, min_periods=min_periods)


ema = wma


def hma(series: Any, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`hull_moving_average`."""
    return hull_moving_average(series, window=window, min_periods=min_periods)


# -- bands and channels ---------------------------------------------------------------------------
def bollinger_bands(series: pd.Series, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Bollinger bands on ``series``.

    ``mid`` = rolling mean, ``upper``/``lower`` = ``mid +- stds * rolling sample std``, both with
    ``min_periods = 1`` (so ``mid`` exists from row 0 and the bands from row 1).

    Returns
    -------
    DataFrame with columns ``upper``, ``mid``, ``lower`` (index of ``series``).
    """
    ma = rolling_mean(series, window=window, min_periods=1)
    std = rolling_std(series, window=window, min_periods=1)
    return pd.DataFrame({"upper": ma + std * stds, "mid": ma, "lower": ma - std * stds},
                        index=series.index)


def weighted_bollinger_bands(series: pd.Series, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Bands around :func:`rolling_weighted_mean` with :func:`rolling_std` (columns upper, mid, lower)."""
    mid = rolling_weighted_mean(series, window=window)
    std = rolling_std(series, window=window)
    return pd.DataFrame({"upper": (mid + std * stds).to_numpy(), "mid": mid.to_numpy(),
                         "lower": (mid - std * stds).to_numpy()}, index=series.index)


def atr(bars: pd.DataFrame, window: int = 14, exp: bool = False) -> pd.Series:
    """Average true range: :func:`rolling_mean` of :func:`true_range` (exponential if ``exp``)."""
    tr = true_range(bars)
    return pd.Series(rolling_weighted_mean(tr, window) if exp else rolling_mean(tr, window))


def keltner_channel(bars: pd.DataFrame, window: int = 14, atrs: float = 2) -> pd.DataFrame:
    """Keltner channel: rolling mean of the typical price +- ``atrs`` * :func:`atr` (upper, mid, lower)."""
    mid = pd.Series(rolling_mean(typical_price(bars), window))
    band = atr(bars, window) * atrs
    return pd.DataFrame({"upper": (mid + band).to_numpy(), "mid": mid.to_numpy(),
                         "lower": (mid - band).to_numpy()}, index=bars.index)


# -- candles and oscillators ----------------------------------------------------------------------
def heikinashi(bars: pd.DataFrame) -> pd.DataFrame:
    """Heikin-Ashi candles (columns ``open, high, low, close``; index of ``bars``).

    ``close = (o + h + l + c) / 4``; ``open[0] = (o0 + c0) / 2``, then the mean of the previous
    Heikin-Ashi open and close; ``high``/``low`` are the max/min of the real high/low and the
    Heikin-Ashi open and close.
    """
    o, h, lo, c = (bars[k].to_numpy(dtype="float64") for k in ("open", "high", "low", "close"))
    ha_close = (o + h + lo + c) / 4
    ha_open = np.empty_like(ha_close)
    if len(ha_open):
        ha_open[0] = (o[0] + c[0]) / 2
        for i in range(1, len(ha_open)):
            ha_open[i] = (ha_open[i - 1] + ha_close[i - 1]) / 2
    return pd.DataFrame({
        "open": ha_open,
        "high": np.fmax(np.fmax(h, ha_open), ha_close),
        "low": np.fmin(np.fmin(lo, ha_open), ha_close),
        "close": ha_close,
    }, index=bars.index)


def awesome_oscillator(df: pd.DataFrame, weighted: bool = False, fast: int = 5,
                       slow: int = 34) -> pd.Series:
    """Awesome oscillator: fast minus slow average of the mid price.

    Simple means over ``fast``/``slow`` rows (NaN until ``slow`` rows exist); with ``weighted``
    exponential means with centre of mass ``fast``/``slow`` (``ewm(com=...)``, as qtpylib).
    """
    mid = mid_price(df)
    if weighted:
        ao = (mid.ewm(com=fast).mean() - mid.ewm(com=slow).mean()).to_numpy()
    else:
        ao = numpy_rolling_mean(mid, fast) - numpy_rolling_mean(mid, slow)
    return pd.Series(ao, index=df.index)


def vwap(bars: pd.DataFrame) -> pd.Series:
    """Cumulative VWAP over the whole frame: it would use future candles in a backtest.

    Raises
    ------
    ValueError
        Always, as freqtrade's qtpylib does: use :func:`rolling_vwap` instead.
    """
    raise ValueError("qtpylib.vwap causes lookahead bias in backtests; use qtpylib.rolling_vwap")


def rolling_vwap(bars: pd.DataFrame, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Volume-weighted typical price over the last ``window`` rows.

    ``sum(tp * volume) / sum(volume)``; a zero volume sum (inf/NaN) takes the previous value
    (forward fill), as qtpylib.
    """
    mp = _mp(window, min_periods)
    tp = typical_price(bars)
    left = (bars["volume"] * tp).rolling(window=window, min_periods=mp).sum()
    right = bars["volume"].rolling(window=window, min_periods=mp).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        res = left / right
    return res.replace([np.inf, -np.inf], np.nan).ffill()
