"""Registry of the indicator features :func:`~atb.features.build_features` can compute.

Every entry has one signature, ``fn(candles: OhlcvArrays, period: int) -> ndarray`` (shape
``(n_candles,)``, float64), and is causal: the value at row t uses rows <= t only; warm-up rows
are NaN. TA-Lib is called directly (``import talib``), so features do not depend on
:mod:`atb.indicators` (same import layer).

==========  ===================================================================  ===============
name        formula                                                              unit
==========  ===================================================================  ===============
rsi         ``talib.RSI(close, period)`` (Wilder, 1978)                          0..100
mfi         ``talib.MFI(high, low, close, volume, period)``                      0..100
adx         ``talib.ADX(high, low, close, period)`` (Wilder, 1978)               0..100
roc         ``talib.ROC(close, period)`` = (close / close[t-p] - 1) * 100        percent
atr_pct     ``talib.ATR(high, low, close, period) / close``                      ratio
bb_width    (upper - lower) / middle of ``talib.BBANDS(close, period, 2, 2,      ratio
            SMA)`` = 4 * population std / SMA
ema_dist    close / ``talib.EMA(close, period)`` - 1                             ratio
volatility  sample std (ddof=1) of log(close[t] / close[t-1]) over ``period``    per candle
            candles (``pandas.Series.rolling(period).std()``)
volume_z    (volume - rolling mean) / rolling sample std over ``period``; 0      z-score
            where the std is 0
return      close[t] / close[t-1] - 1 (``period`` ignored; added by              ratio
            ``include_returns``, not listed in ``indicators``)
==========  ===================================================================  ===============
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
import talib

from atb._typing import Float64Array

__all__ = ["INDICATORS", "INDICATOR_NAMES", "IndicatorFn", "OhlcvArrays"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OhlcvArrays:
    """OHLCV columns as contiguous float64 arrays, each of shape ``(n_candles,)``.

    Attributes
    ----------
    open, high, low, close : ndarray
        Prices in quote currency.
    volume : ndarray
        Traded base-asset amount per candle.
    """

    open: Float64Array
    high: Float64Array
    low: Float64Array
    close: Float64Array
    volume: Float64Array

    @classmethod
    def from_frame(cls, candles: pd.DataFrame) -> OhlcvArrays:
        """Take the ``open, high, low, close, volume`` columns of a candle frame as float64."""
        def col(name: str) -> Float64Array:
            return np.ascontiguousarray(candles[name].to_numpy(dtype=np.float64))
        return cls(open=col("open"), high=col("high"), low=col("low"), close=col("close"),
                   volume=col("volume"))


#: Uniform indicator signature: candles and a period in candles -> float64 array, NaN warm-up.
IndicatorFn = Callable[[OhlcvArrays, int], Float64Array]


def _f64(values: object) -> Float64Array:
    return np.asarray(values, dtype=np.float64)


def _rsi(c: OhlcvArrays, period: int) -> Float64Array:
    return _f64(talib.RSI(c.close, timeperiod=period))


def _mfi(c: OhlcvArrays, period: int) -> Float64Array:
    return _f64(talib.MFI(c.high, c.low, c.close, c.volume, timeperiod=period))


def _adx(c: OhlcvArrays, period: int) -> Float64Array:
    return _f64(talib.ADX(c.high, c.low, c.close, timeperiod=period))


def _roc(c: OhlcvArrays, period: int) -> Float64Array:
    return _f64(talib.ROC(c.close, timeperiod=period))


def _atr_pct(c: OhlcvArrays, period: int) -> Float64Array:
    return _f64(talib.ATR(c.high, c.low, c.close, timeperiod=period)) / c.close


def _bb_width(c: OhlcvArrays, period: int) -> Float64Array:
    upper, middle, lower = talib.BBANDS(c.close, timeperiod=period, nbdevup=2.0, nbdevdn=2.0,
                                        matype=talib.MA_Type.SMA)
    return (_f64(upper) - _f64(lower)) / _f64(middle)


def _ema_dist(c: OhlcvArrays, period: int) -> Float64Array:
    return c.close / _f64(talib.EMA(c.close, timeperiod=period)) - 1.0


def _volatility(c: OhlcvArrays, period: int) -> Float64Array:
    log_ret = pd.Series(np.log(c.close)).diff()
    return log_ret.rolling(period, min_periods=period).std(ddof=1).to_numpy(dtype=np.float64)


def _volume_z(c: OhlcvArrays, period: int) -> Float64Array:
    roll = pd.Series(c.volume).rolling(period, min_periods=period)
    mean = roll.mean().to_numpy(dtype=np.float64)
    std = roll.std(ddof=1).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (c.volume - mean) / std
    return np.where(std == 0.0, 0.0, z)


def _return(c: OhlcvArrays, period: int) -> Float64Array:
    out = np.full(c.close.shape, np.nan)
    out[1:] = c.close[1:] / c.close[:-1] - 1.0
    return out


#: name -> indicator function (read-only). ``return`` is used by ``include_returns`` only.
INDICATORS: Mapping[str, IndicatorFn] = MappingProxyType({
    "rsi": _rsi,
    "mfi": _mfi,
    "adx": _adx,
    "roc": _roc,
    "atr_pct": _atr_pct,
    "bb_width": _bb_width,
    "ema_dist": _ema_dist,
    "volatility": _volatility,
    "volume_z": _volume_z,
    "return": _return,
})

#: Names accepted in ``FeatureConfig.indicators``.
INDICATOR_NAMES: tuple[str, ...] = tuple(name for name in INDICATORS if name != "return")
