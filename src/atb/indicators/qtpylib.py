"""qtpylib-compatible indicator helpers (the names strategies import as ``qtpylib``).

Same function names, signatures and return shapes as the qtpylib module vendored by freqtrade and
``technical``; written for atb from the documented behaviour. Inputs are pandas Series (prices in
quote currency) or OHLCV DataFrames; outputs keep the input index. Rolling windows use pandas
(``min_periods = window`` unless stated), so the first ``window - 1`` values are NaN.
Use TA-Lib (``talib.abstract``) for everything else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "atr",
    "awesome_oscillator",
    "bollinger_bands",
    "crossed",
    "crossed_above",
    "crossed_below",
    "heikinashi",
    "hma",
    "hull_moving_average",
    "ibs",
    "keltner_channel",
    "log_returns",
    "macd",
    "mid_price",
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
    "sma",
    "stoch",
    "true_range",
    "typical_price",
    "vwap",
    "weighted_bollinger_bands",
    "wma",
    "zscore",
]


def _as_series(x: Any, like: pd.Series | None = None) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, np.ndarray) and like is None:
        return pd.Series(x)
    index = like.index if like is not None else None
    return pd.Series(x, index=index, dtype="float64")


def crossed(series1: Any, series2: Any, direction: str | None = None) -> pd.Series:
    """True where ``series1`` crossed ``series2`` on this row.

    Above: ``s1 > s2`` now and ``s1 <= s2`` on the previous row; below mirrors it;
    ``direction=None`` gives either. ``series2`` may be a number.
    """
    s1 = _as_series(series1)
    s2 = _as_series(series2, like=s1)
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


def typical_price(bars: pd.DataFrame) -> pd.Series:
    """``(high + low + close) / 3``."""
    return (bars["high"] + bars["low"] + bars["close"]) / 3.0


def mid_price(bars: pd.DataFrame) -> pd.Series:
    """``(high + low) / 2``."""
    return (bars["high"] + bars["low"]) / 2.0


def ibs(bars: pd.DataFrame) -> pd.Series:
    """Internal bar strength ``(close - low) / (high - low)``."""
    return (bars["close"] - bars["low"]) / (bars["high"] - bars["low"])


def true_range(bars: pd.DataFrame) -> pd.Series:
    """``max(high - low, |high - prev close|, |low - prev close|)``."""
    prev = bars["close"].shift(1)
    return pd.concat(
        [bars["high"] - bars["low"], (bars["high"] - prev).abs(), (bars["low"] - prev).abs()],
        axis=1,
    ).max(axis=1)


def rolling_mean(series: pd.Series, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Simple moving average."""
    mp = window if min_periods is None else min_periods
    return _as_series(series).rolling(window=window, min_periods=mp).mean()


def rolling_std(series: pd.Series, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Rolling sample standard deviation (ddof = 1, pandas default)."""
    mp = window if min_periods is None else min_periods
    return _as_series(series).rolling(window=window, min_periods=mp).std()


def rolling_min(series: pd.Series, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Rolling minimum."""
    mp = window if min_periods is None else min_periods
    return _as_series(series).rolling(window=window, min_periods=mp).min()


def rolling_max(series: pd.Series, window: int = 14, min_periods: int | None = None) -> pd.Series:
    """Rolling maximum."""
    mp = window if min_periods is None else min_periods
    return _as_series(series).rolling(window=window, min_periods=mp).max()


def rolling_weighted_mean(series: pd.Series, window: float = 200,
                          min_periods: int | None = None) -> pd.Series:
    """Exponentially weighted mean with ``span = window`` (pandas ``ewm(span=...)``)."""
    mp = 0 if min_periods is None else min_periods
    return _as_series(series).ewm(span=window, min_periods=mp).mean()


def sma(series: pd.Series, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`rolling_mean`."""
    return rolling_mean(series, window, min_periods)


def wma(series: pd.Series, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`rolling_weighted_mean`."""
    return rolling_weighted_mean(series, window, min_periods)


def hull_moving_average(series: pd.Series, window: int = 200,
                        min_periods: int | None = None) -> pd.Series:
    """Hull moving average: ``wma(2 * wma(s, n/2) - wma(s, n), sqrt(n))`` (EWM-based)."""
    inner = 2 * rolling_weighted_mean(series, window / 2, min_periods) - rolling_weighted_mean(
        series, window, min_periods)
    return rolling_weighted_mean(inner, np.sqrt(window), min_periods)


def hma(series: pd.Series, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Alias of :func:`hull_moving_average`."""
    return hull_moving_average(series, window, min_periods)


def bollinger_bands(series: pd.Series, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Bollinger bands: ``mid`` = rolling mean, ``upper/lower`` = mid +- stds * rolling std.

    Both use ``min_periods=1`` (values from the first row), as qtpylib does.

    Returns
    -------
    DataFrame with columns ``upper``, ``mid``, ``lower``.
    """
    ma = rolling_mean(series, window=window, min_periods=1)
    std = rolling_std(series, window=window, min_periods=1)
    return pd.DataFrame({"upper": ma + std * stds, "mid": ma, "lower": ma - std * stds})


def weighted_bollinger_bands(series: pd.Series, window: int = 20, stds: float = 2) -> pd.DataFrame:
    """Bollinger bands around an exponentially weighted mean (columns upper, mid, lower)."""
    ema = rolling_weighted_mean(series, window=window)
    std = rolling_std(series, window=window)
    return pd.DataFrame({"upper": ema + std * stds, "mid": ema, "lower": ema - std * stds})


def atr(bars: pd.DataFrame, window: int = 14, exp: bool = False) -> pd.Series:
    """Average true range: rolling mean of :func:`true_range` (EWM with ``exp=True``)."""
    tr = true_range(bars)
    return rolling_weighted_mean(tr, window) if exp else rolling_mean(tr, window)


def keltner_channel(bars: pd.DataFrame, window: int = 14, atrs: float = 2) -> pd.DataFrame:
    """Keltner channel around the rolling mean of the typical price (upper, mid, lower)."""
    mid = rolling_mean(typical_price(bars), window)
    band = atr(bars, window) * atrs
    return pd.DataFrame({"upper": mid + band, "mid": mid, "lower": mid - band})


def heikinashi(bars: pd.DataFrame) -> pd.DataFrame:
    """Heikin-Ashi candles (columns open, high, low, close, volume).

    ``close = (o + h + l + c) / 4``; ``open[0] = (o0 + c0) / 2``, then the mean of the previous
    Heikin-Ashi open and close; high/low extend the real ones to include them.
    """
    o, h, lo, c = (bars[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close"))
    ha_close = (o + h + lo + c) / 4.0
    ha_open = np.empty_like(ha_close)
    if len(ha_open):
        ha_open[0] = (o[0] + c[0]) / 2.0
        for i in range(1, len(ha_open)):
            ha_open[i] = (ha_open[i - 1] + ha_close[i - 1]) / 2.0
    out = pd.DataFrame(index=bars.index)
    out["open"] = ha_open
    out["high"] = np.maximum.reduce([h, ha_open, ha_close])
    out["low"] = np.minimum.reduce([lo, ha_open, ha_close])
    out["close"] = ha_close
    if "volume" in bars:
        out["volume"] = bars["volume"]
    return out


def awesome_oscillator(df: pd.DataFrame, weighted: bool = False, fast: int = 5,
                       slow: int = 34) -> pd.Series:
    """Awesome oscillator: fast minus slow moving average of the mid price."""
    mid = mid_price(df)
    if weighted:
        return rolling_weighted_mean(mid, fast) - rolling_weighted_mean(mid, slow)
    return rolling_mean(mid, fast) - rolling_mean(mid, slow)


def zscore(bars: pd.DataFrame, window: int = 20, stds: float = 1, col: str = "close") -> pd.Series:
    """``(x - rolling mean) / (rolling std * stds)`` of column ``col``."""
    x = bars[col]
    return (x - rolling_mean(x, window)) / (rolling_std(x, window) * stds)


def pvt(bars: pd.DataFrame) -> pd.Series:
    """Price-volume trend: cumulative sum of ``close change ratio * volume``."""
    c = bars["close"]
    return ((c - c.shift(1)) / c.shift(1) * bars["volume"]).cumsum()


def roc(series: pd.Series, window: int = 14) -> pd.Series:
    """Rate of change over ``window`` rows as a ratio: ``s / s.shift(window) - 1``."""
    s = _as_series(series)
    return (s - s.shift(window)) / s.shift(window)


def returns(series: pd.Series) -> pd.Series:
    """Simple returns ``s / s.shift(1) - 1``."""
    s = _as_series(series)
    return s / s.shift(1) - 1


def log_returns(series: pd.Series) -> pd.Series:
    """Log returns ``ln(s / s.shift(1))``."""
    s = _as_series(series)
    return np.log(s / s.shift(1))


def rsi(series: pd.Series, window: int = 14) -> pd.Series:
    """Wilder's RSI (0..100), the TA-Lib ``RSI`` convention.

    Gains and losses are smoothed with ``alpha = 1/window``, seeded by the simple mean of the
    first ``window`` changes.
    """
    s = _as_series(series).astype(float)
    delta = s.diff().to_numpy()
    out = np.full(len(s), np.nan)
    if len(s) > window:
        gains = np.where(delta > 0, delta, 0.0)
        losses = np.where(delta < 0, -delta, 0.0)
        avg_g = gains[1:window + 1].mean()
        avg_l = losses[1:window + 1].mean()
        for i in range(window, len(s)):
            if i > window:
                avg_g = (avg_g * (window - 1) + gains[i]) / window
                avg_l = (avg_l * (window - 1) + losses[i]) / window
            out[i] = 100.0 if avg_l == 0 else 100.0 - 100.0 / (1.0 + avg_g / avg_l)
    return pd.Series(out, index=s.index)


def macd(series: pd.Series, fast: int = 3, slow: int = 10, smooth: int = 16) -> pd.DataFrame:
    """MACD from exponentially weighted means (columns macd, signal, histogram)."""
    line = rolling_weighted_mean(series, fast) - rolling_weighted_mean(series, slow)
    signal = rolling_weighted_mean(line, smooth)
    return pd.DataFrame({"macd": line, "signal": signal, "histogram": line - signal})


def stoch(df: pd.DataFrame, window: int = 14, d: int = 3, k: int = 3,
          fast: bool = False) -> pd.DataFrame:
    """Stochastic oscillator (columns slow_k, slow_d; fast_k, fast_d with ``fast=True``).

    ``fast_k = 100 * (close - min low) / (max high - min low)`` over ``window``;
    ``slow_k`` is its ``k``-row mean and the ``d`` values their ``d``-row means.
    """
    lowest = df["low"].rolling(window).min()
    highest = df["high"].rolling(window).max()
    fast_k = 100 * (df["close"] - lowest) / (highest - lowest)
    fast_d = fast_k.rolling(d).mean()
    if fast:
        return pd.DataFrame({"fast_k": fast_k, "fast_d": fast_d})
    slow_k = fast_k.rolling(k).mean()
    return pd.DataFrame({"slow_k": slow_k, "slow_d": slow_k.rolling(d).mean()})


def vwap(bars: pd.DataFrame) -> pd.Series:
    """Cumulative VWAP over the whole frame: it uses future candles in a backtest.

    Raises
    ------
    ValueError
        Always, as in freqtrade's qtpylib: use :func:`rolling_vwap` instead.
    """
    raise ValueError("using qtpylib.vwap causes lookahead bias in backtests; use rolling_vwap")


def rolling_vwap(bars: pd.DataFrame, window: int = 200, min_periods: int | None = None) -> pd.Series:
    """Volume-weighted typical price over the last ``window`` rows."""
    mp = window if min_periods is None else min_periods
    tp = typical_price(bars)
    num = (tp * bars["volume"]).rolling(window, min_periods=mp).sum()
    return num / bars["volume"].rolling(window, min_periods=mp).sum()
