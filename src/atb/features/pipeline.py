"""Feature engineering: config-driven indicator features with explicit availability (no lookahead).

:func:`build_features` computes, for the candles' own pair and every correlated pair, on the base
timeframe and every informative timeframe, each configured indicator for each period, then the
same features shifted by 1..``shifted_candles`` base candles, then time-of-day/day-of-week
features. Every value at row t depends only on

* base candles with index <= t (indicators are causal, shifts look backwards);
* correlated-pair candles with ``date <= date_t`` (aligned on ``date``; a missing row is NaN);
* higher-timeframe candles closed by ``date_t + base_tf`` (see :mod:`atb.features.informative`).

Warm-up rows are NaN and are not filled; :func:`drop_warmup` cuts them for training.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from atb._typing import Float64Array, Int64Array
from atb.errors import MissingDataError
from atb.features.config import FeatureConfig
from atb.features.indicators import INDICATORS, OhlcvArrays
from atb.features.informative import (
    align_on_dates,
    check_candles,
    date_ns,
    informative_keys,
    resample_candles,
)
from atb.features.models import FeatureFrame, FeatureSpec

__all__ = ["build_features", "drop_warmup", "feature_names"]

_DAY_NS = 86_400 * 1_000_000_000


def _name(indicator: str, period: int, shift: int, pair: str | None, tf: str | None) -> str:
    name = f"%{indicator}-period_{period}"
    if shift:
        name += f"_shift-{shift}"
    if pair:
        name += f"_{pair}"
    if tf:
        name += f"_{tf}"
    return name


def _indicator_jobs(config: FeatureConfig) -> list[tuple[str, int]]:
    jobs = [(ind, p) for ind in config.indicators for p in config.periods]
    if config.include_returns:
        jobs.append(("return", 1))
    return jobs


def _compute(candles: pd.DataFrame, jobs: list[tuple[str, int]]) -> Float64Array:
    arrays = OhlcvArrays.from_frame(candles)
    out = np.empty((len(candles), len(jobs)), dtype=np.float64)
    for j, (ind, period) in enumerate(jobs):
        out[:, j] = INDICATORS[ind](arrays, period)
    return out


def _block(source: pd.DataFrame, tf: str | None, base_ns: Int64Array, timeframe: str,
           jobs: list[tuple[str, int]], same_rows: bool) -> Float64Array:
    """Indicator values of one (pair, timeframe) aligned onto the base rows."""
    if tf is None:
        values = _compute(source, jobs)
        if same_rows:
            return values
        return align_on_dates(values, date_ns(source["date"]), base_ns)
    higher = resample_candles(source, tf)
    values = _compute(higher, jobs)
    return align_on_dates(values, date_ns(higher["date"]), informative_keys(base_ns, timeframe, tf))


def _time_features(base_ns: Int64Array, base_secs: int) -> dict[str, Float64Array]:
    close_ns = base_ns + base_secs * 1_000_000_000
    day_frac = (close_ns % _DAY_NS) / _DAY_NS
    # 1970-01-01 was a Thursday (weekday 3, Monday = 0)
    week_frac = (((close_ns // _DAY_NS) + 3) % 7 + day_frac) / 7.0
    return {
        "%hour_sin": np.sin(2 * np.pi * day_frac), "%hour_cos": np.cos(2 * np.pi * day_frac),
        "%dow_sin": np.sin(2 * np.pi * week_frac), "%dow_cos": np.cos(2 * np.pi * week_frac),
    }


def _sources(candles: pd.DataFrame, config: FeatureConfig,
             informative: Mapping[str, pd.DataFrame] | None) -> list[tuple[str | None, pd.DataFrame]]:
    sources: list[tuple[str | None, pd.DataFrame]] = [(None, candles)]
    for pair in config.correlated_pairs:
        if informative is None or pair not in informative:
            raise MissingDataError(f"informative: no candles for correlated pair {pair!r} "
                                   "(features.correlated_pairs)")
        check_candles(informative[pair], f"informative[{pair!r}]")
        sources.append((pair, informative[pair]))
    return sources


def build_features(candles: pd.DataFrame, config: FeatureConfig, *, timeframe: str,
                   informative: Mapping[str, pd.DataFrame] | None = None) -> FeatureFrame:
    """Build the configured features for one pair, row-aligned with its candles.

    Parameters
    ----------
    candles : DataFrame
        Base-timeframe candles, freqtrade layout: ``date`` (UTC, candle OPEN time, strictly
        increasing), ``open, high, low, close`` (quote currency), ``volume`` (base asset).
    config : FeatureConfig
        Which indicators, periods, timeframes, shifts, pairs and extras.
    timeframe : str
        Base timeframe of ``candles`` (``"1h"``).
    informative : Mapping[str, DataFrame], optional
        Correlated pair -> that pair's BASE-timeframe candles (same layout). Every pair in
        ``config.correlated_pairs`` must be present; other keys are ignored. Higher timeframes
        are resampled here from base candles.

    Returns
    -------
    FeatureFrame
        ``values`` float64, shape ``(len(candles), n_features)``, same index as ``candles``.

    Raises
    ------
    ConfigError
        An informative timeframe is not a multiple of ``timeframe`` (``features.informative_timeframes``).
    DataError
        A candle frame breaks the contract (names the frame and column/row).
    MissingDataError
        A correlated pair has no candles in ``informative``.

    Examples
    --------
    >>> dates = pd.date_range("2024-01-01", periods=30, freq="1h", tz="UTC")
    >>> close = np.linspace(100.0, 130.0, 30)
    >>> candles = pd.DataFrame({"date": dates, "open": close, "high": close + 1, "low": close - 1,
    ...                         "close": close, "volume": 10.0})
    >>> cfg = FeatureConfig(indicators=["rsi"], periods=[14], shifted_candles=1,
    ...                     include_time=False, include_returns=False)
    >>> ff = build_features(candles, cfg, timeframe="1h")
    >>> list(ff.values.columns)
    ['%rsi-period_14', '%rsi-period_14_shift-1']
    >>> float(ff.values["%rsi-period_14"].iloc[-1])
    100.0
    """
    base_secs = config.check_timeframe(timeframe)
    check_candles(candles, "candles")
    base_ns = date_ns(candles["date"])
    step = pd.Timedelta(seconds=base_secs)
    jobs = _indicator_jobs(config)
    blocks: list[Float64Array] = []
    specs: list[FeatureSpec] = []
    for pair, source in _sources(candles, config, informative):
        for tf in [None, *config.informative_timeframes]:
            blocks.append(_block(source, tf, base_ns, timeframe, jobs, same_rows=pair is None))
            specs.extend(
                FeatureSpec(name=_name(ind, p, 0, pair, tf), indicator=ind, period=p,
                            timeframe=tf or timeframe, pair=pair, shift=0, available_after=step)
                for ind, p in jobs)
    base = np.hstack(blocks) if blocks else np.empty((len(candles), 0))
    columns = [base]
    n_base = len(specs)
    for k in range(1, config.shifted_candles + 1):
        shifted = np.full_like(base, np.nan)
        if k < len(base):
            shifted[k:] = base[:-k]
        columns.append(shifted)
        for spec in specs[:n_base]:
            specs.append(FeatureSpec(
                name=_name(spec.indicator, spec.period or 0, k, spec.pair,
                           None if spec.timeframe == timeframe else spec.timeframe),
                indicator=spec.indicator, period=spec.period, timeframe=spec.timeframe,
                pair=spec.pair, shift=k, available_after=step * (1 - k)))
    if config.include_time:
        time_cols = _time_features(base_ns, base_secs)
        columns.append(np.column_stack(list(time_cols.values())))
        specs.extend(FeatureSpec(name=name, indicator="time", period=None, timeframe=timeframe,
                                 pair=None, shift=0, available_after=pd.Timedelta(0))
                     for name in time_cols)
    values = pd.DataFrame(np.hstack(columns), index=candles.index, columns=[s.name for s in specs],
                          dtype=np.float64)
    return FeatureFrame(values=values, specs=tuple(specs), dates=candles["date"], timeframe=timeframe)


def feature_names(frame: FeatureFrame) -> list[str]:
    """Return the feature column names of ``frame`` in column order."""
    return [spec.name for spec in frame.specs]


def drop_warmup(frame: FeatureFrame) -> tuple[pd.DataFrame, int]:
    """Cut the warm-up: rows before the first row where every feature is known.

    Later rows with NaN (a correlated pair's missing candle, a gap) are kept; drop or impute
    them explicitly.

    Parameters
    ----------
    frame : FeatureFrame
        Built features.

    Returns
    -------
    values : DataFrame
        ``frame.values.iloc[first_valid_row:]`` (original index kept); empty if no row is complete.
    first_valid_row : int
        Position of the first complete row; ``len(frame.values)`` if there is none.
    """
    complete = np.flatnonzero(frame.values.notna().to_numpy().all(axis=1))
    first = int(complete[0]) if len(complete) else len(frame.values)
    return frame.values.iloc[first:], first
