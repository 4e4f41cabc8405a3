"""Price tick size from the candles themselves, per pair and calendar month.

freqtrade 2026.9 backtests round prices to a tick taken from the data, not from the exchange:
for each calendar month, the largest number of decimals of any open/high/low/close value, where a
value's decimals are counted on its 14-significant-digit positional form
(``numpy.format_float_positional(v, precision=14, unique=False, fractional=False)``) up to the
last non-zero digit (``../shared/parity/SPEC.md``, Data preparation, step 3). The tick of a trade
is the one of its entry candle's month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["decimals_14sig", "monthly_tick_decimals", "tick_decimals_for"]


def _decimals_exact(v: float) -> int:
    s = np.format_float_positional(v, precision=14, unique=False, fractional=False, trim="-")
    if "." not in s:
        return 0
    return len(s.split(".", 1)[1].rstrip("0"))


def decimals_14sig(values: np.ndarray) -> np.ndarray:
    """Decimals of each positive value written with 14 significant digits (trailing zeros cut).

    Parameters
    ----------
    values : float64 array, any shape
        Prices in quote currency (> 0; other values give 0).

    Returns
    -------
    int64 array of the same shape.

    Notes
    -----
    Vectorised: ``v * 10**(13 - floor(log10 v))`` is rounded to an integer and its trailing zeros
    are counted. Values whose scaled fraction lies near .5 (where float error could change the
    14th digit) are recomputed with ``numpy.format_float_positional`` exactly.
    """
    v = np.asarray(values, dtype=np.float64)
    flat = v.ravel()
    uniq, inv = np.unique(flat, return_inverse=True)
    res = np.zeros(uniq.shape[0], dtype=np.int64)
    pos = uniq > 0
    u = uniq[pos]
    e = np.floor(np.log10(u)).astype(np.int64)
    dec = 13 - e  # decimals shown with 14 significant digits
    scaled = u * np.power(10.0, dec.astype(np.float64))
    q = np.rint(scaled)
    frac = np.abs(scaled - np.floor(scaled) - 0.5)
    work = q.astype(np.int64)
    # trailing zeros (< 16) by greedy binary lifting: strip 10**8, 10**4, 10**2, 10**1
    tz = np.zeros(u.shape[0], dtype=np.int64)
    nonzero = work != 0
    for k in (8, 4, 2, 1):
        p10 = 10**k
        m = nonzero & (work % p10 == 0)
        tz[m] += k
        work[m] //= p10
    out = np.maximum(dec - tz, 0)
    # ambiguous rounding or log10 edge cases: exact path
    amb = (frac < 1e-3) | (scaled < 1e13) | (scaled >= 1e14 - 0.5)
    for j in np.nonzero(amb)[0]:
        out[j] = _decimals_exact(float(u[j]))
    res[pos] = out
    return res[inv].reshape(v.shape)


def monthly_tick_decimals(df: pd.DataFrame) -> np.ndarray:
    """Tick decimals for every row of an OHLCV frame: the max over the row's calendar month.

    Parameters
    ----------
    df : DataFrame
        OHLCV frame with a tz-aware UTC ``date`` column (candle open time).

    Returns
    -------
    int64 array, shape (len(df),)
        ``d`` such that the row's tick is ``10**-d``.
    """
    if df.empty:
        return np.zeros(0, dtype=np.int64)
    prices = df[["open", "high", "low", "close"]].to_numpy(dtype=np.float64)
    dec_row = decimals_14sig(prices).max(axis=1)
    dates = pd.DatetimeIndex(df["date"])
    month_key = dates.year.to_numpy() * 12 + dates.month.to_numpy()
    keys, inv = np.unique(month_key, return_inverse=True)
    month_max = np.zeros(keys.shape[0], dtype=np.int64)
    np.maximum.at(month_max, inv, dec_row)
    return month_max[inv]


def tick_decimals_for(frame: pd.DataFrame, fallback_step: float | None) -> np.ndarray:
    """Per-row tick decimals of a loaded (pre-trim) frame.

    A month whose prices are all whole numbers yields no tick in freqtrade (its per-month
    precision is NaN) and falls back to the market's ``precision.price``; without one, prices
    are not rounded (decimals ``-1``).
    """
    dec = monthly_tick_decimals(frame)
    fallback = -1 if fallback_step is None else int(round(-np.log10(fallback_step)))
    dec[dec <= 0] = fallback
    return dec
