"""Causal regime detectors: 200-day SMA trend, realised-volatility quantiles, Gaussian HMM.

Every detector follows :class:`atb.regime.ports.RegimeDetector`: one label per input row, "as of
the close of that candle", computed from that candle and earlier ones only. Labels are the string
values of :class:`~atb.regime.models.Regime` / :class:`~atb.regime.models.VolRegime`, ``None``
during warm-up. :func:`btc_regime_for_pair` and :func:`add_regime_column` bring labels into a
strategy frame. The HMM detector lives in :mod:`atb.regime.hmm` and is re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError
from atb.regime._common import (
    candle_dates,
    candle_seconds,
    check_fraction,
    check_int,
    close_times,
    label_series,
    log_returns,
    positive_closes,
)
from atb.regime.hmm import HmmRegimeDetector
from atb.regime.models import Regime, VolRegime
from atb.regime.ports import RegimeDetector

__all__ = [
    "HmmRegimeDetector",
    "SmaTrendDetector",
    "VolatilityRegimeDetector",
    "add_regime_column",
    "btc_regime_for_pair",
]

_DAY_NS = 86_400 * 1_000_000_000


def _hysteresis(zones: list[str | None], confirm: int) -> list[str | None]:
    """Debounce raw daily zones: switch to zone Z on the ``confirm``-th consecutive day in Z."""
    out: list[str | None] = []
    state: str | None = None
    pending: str | None = None
    count = 0
    for z in zones:
        if z is None:
            out.append(None)
            continue
        if state is None or z == state:
            state, pending, count = z, None, 0
        else:
            count = count + 1 if z == pending else 1
            pending = z
            if count >= confirm:
                state, pending, count = z, None, 0
        out.append(state)
    return out


@dataclass(frozen=True)
class SmaTrendDetector:
    """Bull/bear/range from the daily close against its N-day simple moving average (Faber's rule).

    The classic trend filter (M. Faber, "A Quantitative Approach to Tactical Asset Allocation",
    2007: long above the 10-month / ~200-day SMA), with a neutral band and confirmation:

    1. Daily closes: the input is grouped by UTC calendar day of the candle open time; a day's close
       is the close of its last candle. Days without candles are skipped (the SMA is over the last
       ``sma_days`` daily closes present).
    2. ``sma_D`` = mean of the last ``sma_days`` daily closes up to and including day ``D``.
    3. Raw zone of day ``D``: ``bull`` if ``close_D > sma_D * (1 + band)``, ``bear`` if
       ``close_D < sma_D * (1 - band)``, else ``range`` (boundaries belong to ``range``).
    4. Hysteresis: the first day with an SMA takes its raw zone. After that the state changes to
       zone ``Z`` only on the ``confirm``-th consecutive day whose raw zone is ``Z``; a day in any
       other zone (including the current state) restarts the count. ``confirm=1`` follows the raw
       zone.
    5. Row labels (as of the candle close): row ``t`` with open time ``d_t`` and close time
       ``d_t + timeframe`` uses the state of the last day ``D`` that is complete by then, i.e. with
       ``D + 1 day <= d_t + timeframe``. For daily candles row ``D`` therefore uses day ``D``; for
       intraday candles rows of day ``D`` use day ``D - 1``, except the day's final candle (e.g.
       23:00 for 1h), whose close is day ``D``'s close.

    Parameters
    ----------
    sma_days : int, default 200
        SMA length in daily closes (>= 1).
    band : float, default 0.02
        Half-width of the neutral band as a ratio of the SMA (0.02 = +-2 %), in ``[0, 1)``.
    confirm : int, default 3
        Consecutive days a new zone must hold before the state switches (>= 1).
    timeframe : str or None, default None
        Candle length of the input (``"1h"``, ``"1d"``); ``None`` infers the smallest step between
        dates (needs two rows; with one row the open time is used, which is conservative).
    name : str, default "sma_trend"

    Raises
    ------
    ConfigError
        On construction, for a parameter out of range (the message names it).
    """

    sma_days: int = 200
    band: float = 0.02
    confirm: int = 3
    timeframe: str | None = None
    name: str = "sma_trend"

    def __post_init__(self) -> None:
        check_int("SmaTrendDetector", "sma_days", self.sma_days, 1)
        check_fraction("SmaTrendDetector", "band", self.band)
        check_int("SmaTrendDetector", "confirm", self.confirm, 1)
        if self.timeframe is not None:
            timeframe_to_seconds(self.timeframe)

    def daily_states(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Per-day table behind the labels.

        Parameters
        ----------
        candles : DataFrame
            OHLCV frame (``date`` UTC open time, sorted; ``close`` > 0 in quote currency).

        Returns
        -------
        DataFrame
            Index: UTC midnight of each day with candles (``DatetimeIndex``, name ``day``).
            Columns: ``close`` (float64, quote currency), ``sma`` (float64, NaN in warm-up),
            ``zone`` and ``state`` (object: regime string or ``None``).

        Raises
        ------
        DataError
            If ``date``/``close`` are missing, unsorted, or prices are not finite and positive.
        """
        dates = candle_dates(candles)
        close = positive_closes(candles)
        day_ns = dates.floor("D").asi8
        last = np.flatnonzero(np.r_[day_ns[1:] != day_ns[:-1], True]) if len(day_ns) else np.array([], int)
        daily = pd.Series(close[last], index=pd.DatetimeIndex(day_ns[last], tz="UTC", name="day"))
        sma = daily.rolling(self.sma_days, min_periods=self.sma_days).mean()
        c, s = daily.to_numpy(), sma.to_numpy()
        zones: list[str | None] = []
        for ci, si in zip(c, s, strict=True):
            if np.isnan(si):
                zones.append(None)
            elif ci > si * (1.0 + self.band):
                zones.append(Regime.BULL.value)
            elif ci < si * (1.0 - self.band):
                zones.append(Regime.BEAR.value)
            else:
                zones.append(Regime.RANGE.value)
        states = _hysteresis(zones, self.confirm)
        return pd.DataFrame({"close": daily, "sma": sma,
                             "zone": pd.Series(zones, index=daily.index, dtype=object),
                             "state": pd.Series(states, index=daily.index, dtype=object)})

    def detect(self, candles: pd.DataFrame) -> pd.Series:
        """Regime label per row (see the class rules); ``None`` before ``sma_days`` complete days.

        Returns
        -------
        Series
            dtype object, ``RangeIndex`` aligned with ``candles`` rows, values ``"bull"``,
            ``"bear"``, ``"range"`` or ``None``.

        Raises
        ------
        DataError
            As :meth:`daily_states`.
        """
        table = self.daily_states(candles)
        dates = candle_dates(candles)
        ready = close_times(dates, candle_seconds(dates, self.timeframe)).floor("D").asi8 - _DAY_NS
        pos = np.searchsorted(table.index.asi8, ready, side="right") - 1
        states = table["state"].to_numpy(dtype=object)
        return label_series([states[p] if p >= 0 else None for p in pos], self.name)


@dataclass(frozen=True)
class VolatilityRegimeDetector:
    """Low/normal/high volatility: realised volatility against quantiles of its own expanding past.

    * ``r_t = ln(close_t / close_{t-1})`` (consecutive rows; a gap in the data is one step).
    * ``vol_t`` = sample standard deviation (``ddof=1``) of ``r`` over the last ``window`` rows
      ending at ``t`` (log-return per candle, not annualised); defined from row ``window``.
    * ``q_lo_t``, ``q_hi_t`` = ``low_q`` / ``high_q`` quantiles (linear interpolation, numpy's
      default method) of all defined ``vol_s`` with ``s <= t`` (expanding window, current value
      included).
    * Label: ``low`` if ``vol_t < q_lo_t``, ``high`` if ``vol_t > q_hi_t``, else ``normal``;
      ``None`` until ``min_history`` volatility values exist.

    Parameters
    ----------
    window : int, default 24
        Rows in the volatility window (>= 2); 24 = one day of 1h candles.
    low_q, high_q : float, default 0.33, 0.67
        Quantile levels, ``0 < low_q < high_q < 1``.
    min_history : int, default 720
        Volatility values needed before the first label (>= 1); 720 = 30 days of 1h candles.
    name : str, default "volatility"

    Raises
    ------
    ConfigError
        On construction, for a parameter out of range (the message names it).
    """

    window: int = 24
    low_q: float = 0.33
    high_q: float = 0.67
    min_history: int = 720
    name: str = "volatility"

    def __post_init__(self) -> None:
        check_int("VolatilityRegimeDetector", "window", self.window, 2)
        check_fraction("VolatilityRegimeDetector", "low_q", self.low_q)
        check_fraction("VolatilityRegimeDetector", "high_q", self.high_q)
        if not 0.0 < self.low_q < self.high_q:
            raise ConfigError(f"VolatilityRegimeDetector.low_q/high_q: need 0 < low_q < high_q < 1, "
                              f"got {self.low_q!r}, {self.high_q!r}")
        check_int("VolatilityRegimeDetector", "min_history", self.min_history, 1)

    def volatility(self, candles: pd.DataFrame) -> pd.Series:
        """Realised volatility ``vol_t`` per row: float64, ``RangeIndex``, NaN before row ``window``.

        Raises
        ------
        DataError
            If ``date``/``close`` are missing, unsorted, or prices are not finite and positive.
        """
        candle_dates(candles)
        r = pd.Series(log_returns(positive_closes(candles)))
        return r.rolling(self.window, min_periods=self.window).std(ddof=1).rename("volatility")

    def detect(self, candles: pd.DataFrame) -> pd.Series:
        """Volatility regime per row: ``"low"``, ``"normal"``, ``"high"`` or ``None`` (warm-up).

        Returns
        -------
        Series
            dtype object, ``RangeIndex`` aligned with ``candles`` rows.

        Raises
        ------
        DataError
            As :meth:`volatility`.
        """
        vol = self.volatility(candles)
        expanding = vol.expanding(min_periods=self.min_history)
        lo = expanding.quantile(self.low_q).to_numpy()
        hi = expanding.quantile(self.high_q).to_numpy()
        v = vol.to_numpy()
        out: list[str | None] = [None] * len(v)
        for i in np.flatnonzero(~np.isnan(lo) & ~np.isnan(v)):
            if v[i] < lo[i]:
                out[i] = VolRegime.LOW.value
            elif v[i] > hi[i]:
                out[i] = VolRegime.HIGH.value
            else:
                out[i] = VolRegime.NORMAL.value
        return label_series(out, self.name)


def btc_regime_for_pair(pair_candles: pd.DataFrame, btc_candles: pd.DataFrame,
                        detector: RegimeDetector, *, pair_timeframe: str | None = None,
                        btc_timeframe: str | None = None) -> pd.Series:
    """Labels of a reference market (e.g. BTC/USDT) aligned causally to another pair's rows.

    ``detector`` runs on ``btc_candles``; each label is available at its reference candle's CLOSE
    time. Each pair row (as of its own close time) takes the last reference label whose close time
    is at or before the row's close time (backward as-of join on close times, like freqtrade's
    ``merge_informative_pair`` with its shift). Equal timeframes therefore join on equal dates; a
    5m pair row at 10:00 sees the 1h reference label of 09:00 until the 10:55 row.

    Parameters
    ----------
    pair_candles : DataFrame
        Frame whose rows receive labels (only ``date`` is read: UTC open time, sorted).
    btc_candles : DataFrame
        Reference OHLCV frame passed to ``detector``.
    detector : RegimeDetector
    pair_timeframe, btc_timeframe : str or None
        Candle lengths; ``None`` infers the smallest step between dates. If the reference length
        cannot be known (fewer than two rows and no ``btc_timeframe``) every label is ``None``.

    Returns
    -------
    Series
        dtype object, ``RangeIndex`` aligned with ``pair_candles`` rows, named ``detector.name``;
        ``None`` before the first available reference label.

    Raises
    ------
    DataError
        If either frame lacks ``date`` or is unsorted, or as raised by ``detector``.
    ConfigError
        For an invalid timeframe string.
    """
    pair_dates = candle_dates(pair_candles, "pair_candles")
    btc_dates = candle_dates(btc_candles, "btc_candles")
    btc_secs = candle_seconds(btc_dates, btc_timeframe)
    if btc_secs is None or len(pair_dates) == 0:
        return label_series([None] * len(pair_dates), detector.name)
    labels = detector.detect(btc_candles).to_numpy(dtype=object)
    available = close_times(btc_dates, btc_secs).asi8
    wanted = close_times(pair_dates, candle_seconds(pair_dates, pair_timeframe)).asi8
    pos = np.searchsorted(available, wanted, side="right") - 1
    return label_series([labels[p] if p >= 0 else None for p in pos], detector.name)


def add_regime_column(dataframe: pd.DataFrame, detector: RegimeDetector, column: str = "regime", *,
                      reference: pd.DataFrame | None = None, timeframe: str | None = None,
                      reference_timeframe: str | None = None) -> pd.DataFrame:
    """Return a copy of ``dataframe`` with a causal regime label column (for ``populate_indicators``).

    Parameters
    ----------
    dataframe : DataFrame
        Strategy frame with a UTC ``date`` column (any index; row order is kept).
    detector : RegimeDetector
    column : str, default "regime"
        Name of the added (or replaced) column; dtype object (not pandas' ``str`` dtype), ``None``
        in warm-up.
    reference : DataFrame or None
        If given, labels come from this market (e.g. BTC/USDT candles from the data provider) via
        :func:`btc_regime_for_pair`; otherwise ``detector`` runs on ``dataframe`` itself.
    timeframe, reference_timeframe : str or None
        Candle lengths for the reference alignment (inferred when ``None``).

    Returns
    -------
    DataFrame
        A copy with ``column`` added; the input is not modified.

    Raises
    ------
    DataError
        As raised by the detector or the alignment.
    """
    if reference is None:
        labels = detector.detect(dataframe)
    else:
        labels = btc_regime_for_pair(dataframe, reference, detector, pair_timeframe=timeframe,
                                     btc_timeframe=reference_timeframe)
    out = dataframe.copy()
    out[column] = pd.Series(labels.to_numpy(dtype=object), index=out.index, dtype=object)
    return out
