"""The rest of the qtpylib surface: oscillators, returns, zero-lag averages, sessions.

Re-exported by :mod:`atb.indicators.qtpylib`; see its docstring for the conventions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from atb.indicators._rolling import numpy_rolling_mean, numpy_rolling_std

__all__ = [
    "cci",
    "chopiness",
    "implied_volatility",
    "log_returns",
    "macd",
    "pvt",
    "returns",
    "roc",
    "rsi",
    "session",
    "stoch",
    "tdi",
    "zlema",
    "zlhma",
    "zlma",
    "zlsma",
    "zscore",
]


def _ewm(series: Any, window: float, min_periods: Any = None) -> pd.Series:
    mp = window if min_periods is None else min_periods
    return pd.Series(series).ewm(span=window, min_periods=mp).mean()


def rsi(series: pd.Series, window: int = 14) -> pd.Series:
    """Relative strength index (0..100) in qtpylib's variant of Wilder's smoothing.

    The seed averages are the gains and losses of the first ``window + 1`` price changes divided
    by ``window``; rows ``0..window-1`` all carry the seed value; from row ``window`` on the
    averages are smoothed with the change into that row (``avg = (avg * (window - 1) + x) /
    window``). This differs from TA-Lib's ``RSI`` in the first few hundred rows (the seed counts
    one change twice); use ``talib.RSI`` for TA-Lib's values.

    Returns
    -------
    Series of float64, index of ``series``.
    """
    values = np.asarray(series, dtype="float64")
    deltas = np.diff(values)
    seed = deltas[: window + 1]
    ups = seed[seed > 0].sum() / window
    downs = -seed[seed < 0].sum() / window
    out = np.zeros(len(values))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:window] = 100.0 - 100.0 / (1.0 + ups / downs)
        for i in range(window, len(values)):
            delta = deltas[i - 1]
            up, down = (delta, 0.0) if delta > 0 else (0.0, -delta)
            ups = (ups * (window - 1) + up) / window
            downs = (downs * (window - 1) + down) / window
            out[i] = 100.0 - 100.0 / (1.0 + ups / downs)
    return pd.Series(out, index=series.index)


def macd(series: pd.Series, fast: int = 3, slow: int = 10, smooth: int = 16) -> pd.DataFrame:
    """MACD on exponential means (``ewm(span, min_periods=span)``).

    Returns
    -------
    DataFrame with columns ``macd`` (fast - slow), ``signal`` (its ``smooth`` mean) and
    ``histogram`` (macd - signal), index of ``series``.
    """
    line = _ewm(series, fast) - _ewm(series, slow)
    signal = _ewm(line, smooth)
    return pd.DataFrame({"macd": line.to_numpy(), "signal": signal.to_numpy(),
                         "histogram": (line - signal).to_numpy()}, index=series.index)


def stoch(df: pd.DataFrame, window: int = 14, d: int = 3, k: int = 3,
          fast: bool = False) -> pd.DataFrame:
    """Stochastic oscillator (0..100).

    ``fast_k = 100 * (close - lowest low) / (highest high - lowest low)`` over ``window`` rows,
    ``fast_d`` = its ``d``-row mean; slow: ``slow_k`` = ``k``-row mean of ``fast_k`` and
    ``slow_d`` its ``d``-row mean.

    Returns
    -------
    DataFrame with ``fast_k, fast_d`` if ``fast`` else ``slow_k, slow_d``.
    """
    highest = df["high"].rolling(window).max()
    lowest = df["low"].rolling(window).min()
    fast_k = 100 * (df["close"] - lowest) / (highest - lowest)
    fast_d = fast_k.rolling(d).mean()
    if fast:
        return pd.DataFrame({"fast_k": fast_k, "fast_d": fast_d}, index=df.index)
    slow_k = fast_k.rolling(k).mean()
    return pd.DataFrame({"slow_k": slow_k, "slow_d": slow_k.rolling(d).mean()}, index=df.index)


def zscore(bars: pd.DataFrame, window: int = 20, stds: float = 1, col: str = "close") -> pd.Series:
    """``(x - rolling mean) / (rolling sample std * stds)`` of column ``col`` over ``window`` rows."""
    x = bars[col]
    return (x - numpy_rolling_mean(x, window)) / (numpy_rolling_std(x, window) * stds)


def pvt(bars: pd.DataFrame) -> pd.Series:
    """Price-volume trend: cumulative sum of ``(close / previous close - 1) * volume``."""
    c = bars["close"]
    return ((c - c.shift(1)) / c.shift(1) * bars["volume"]).cumsum()


def chopiness(bars: pd.DataFrame, window: int = 14) -> pd.Series:
    """Choppiness index: ``100 * log10(sum TR / (max high - min low)) / log10(window)``."""
    from atb.indicators.qtpylib import true_range

    tr_sum = true_range(bars).rolling(window).sum()
    span = bars["high"].rolling(window).max() - bars["low"].rolling(window).min()
    return 100 * np.log10(tr_sum / span) / np.log10(window)


def roc(series: pd.Series, window: int = 14) -> pd.Series:
    """Rate of change over ``window`` rows as a ratio (not percent): ``s / s.shift(window) - 1``."""
    prev = series.shift(window)
    return (series - prev) / prev


def returns(series: pd.Series) -> pd.Series:
    """Simple returns ``s / s.shift(1) - 1`` (ratio); infinities become NaN."""
    return (series / series.shift(1) - 1).replace([np.inf, -np.inf], np.nan)


def log_returns(series: pd.Series) -> pd.Series:
    """Log returns ``ln(s / s.shift(1))``; infinities become NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        res = np.log(series / series.shift(1))
    return res.replace([np.inf, -np.inf], np.nan)


def implied_volatility(series: pd.Series, window: int = 252) -> pd.Series:
    """Rolling sample std of log returns over ``window`` rows times ``sqrt(window)``."""
    return pd.Series(numpy_rolling_std(log_returns(series), window) * np.sqrt(window),
                     index=series.index)


def cci(series: pd.DataFrame, window: int = 14) -> pd.Series:
    """Commodity channel index as qtpylib computes it (takes OHLC bars).

    ``(tp - rolling mean of tp) / (0.015 * std(rolling mean))`` where the std is the population
    std of the *whole* series (as qtpylib). That normaliser uses future rows: prefer
    ``talib.CCI`` in strategies.
    """
    from atb.indicators.qtpylib import rolling_mean, typical_price

    price = typical_price(series)
    mean = pd.Series(rolling_mean(price, window), index=price.index)
    return (price - mean) / (0.015 * mean.std(ddof=0))


def tdi(series: pd.Series, rsi_lookback: int = 13, rsi_smooth_len: int = 2, rsi_signal_len: int = 7,
        bb_lookback: int = 34, bb_std: float = 1.6185) -> pd.DataFrame:
    """Traders dynamic index: :func:`rsi` with its moving averages and Bollinger bands.

    Returns
    -------
    DataFrame with ``rsi, rsi_signal, rsi_smooth, rsi_bb_upper, rsi_bb_lower, rsi_bb_mid``.
    """
    from atb.indicators.qtpylib import bollinger_bands, sma

    r = rsi(series, rsi_lookback)
    bb = bollinger_bands(r, bb_lookback, bb_std)
    return pd.DataFrame({
        "rsi": r, "rsi_signal": sma(r, rsi_signal_len), "rsi_smooth": sma(r, rsi_smooth_len),
        "rsi_bb_upper": bb["upper"], "rsi_bb_lower": bb["lower"], "rsi_bb_mid": bb["mid"],
    }, index=series.index)


def zlma(series: pd.Series, window: int = 20, min_periods: int | None = None,
         kind: str = "ema") -> pd.Series:
    """Zero-lag moving average (Ehlers): an average of ``2 * s - s.shift(lag)``.

    ``lag = (window - 1) // 2`` and, as in qtpylib, the average itself runs over ``lag`` rows
    (``kind`` ``"ema"``/``"ewm"``: exponential, ``"hma"``: Hull, else simple) with
    ``min_periods`` defaulting to ``window``.
    """
    from atb.indicators.qtpylib import hma, sma, wma

    mp = window if min_periods is None else min_periods
    lag = (window - 1) // 2
    shifted = 2 * series - series.shift(lag)
    if kind in ("ewm", "ema"):
        return wma(shifted, lag, mp)
    if kind == "hma":
        return hma(shifted, lag, mp)
    return sma(shifted, lag, mp)


def zlema(series: pd.Series, window: int, min_periods: int | None = None) -> pd.Series:
    """:func:`zlma` with an exponential average."""
    return zlma(series, window, min_periods, kind="ema")


def zlsma(series: pd.Series, window: int, min_periods: int | None = None) -> pd.Series:
    """:func:`zlma` with a simple average."""
    return zlma(series, window, min_periods, kind="sma")


def zlhma(series: pd.Series, window: int, min_periods: int | None = None) -> pd.Series:
    """:func:`zlma` with a Hull average."""
    return zlma(series, window, min_periods, kind="hma")


def session(df: pd.DataFrame, start: str = "17:00", end: str = "16:00") -> pd.DataFrame:
    """Rows of the current trading session of a frame indexed by (UTC) timestamps.

    The session opens daily at ``start`` (``"HH:MM"``); when ``end`` is not later than
    ``start`` it runs over midnight. Returns a copy of the rows from the latest session open at
    or before the last row. An empty frame is returned unchanged.
    """
    if df.empty:
        return df
    last = df.index[-1]
    hour, minute = (int(x) for x in start.split(":"))
    opened = last.normalize() + timedelta(hours=hour, minutes=minute)
    if opened > last:
        opened -= timedelta(days=1)
    return df[df.index >= opened].copy()
