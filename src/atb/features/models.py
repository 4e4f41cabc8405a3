"""Feature records: what each feature column is (:class:`FeatureSpec`) and the built frame."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import DataError

__all__ = ["FeatureFrame", "FeatureSpec"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """Description of one feature column.

    Attributes
    ----------
    name : str
        Column name, ``%<indicator>-period_<p>[_shift-<k>][_<pair>][_<timeframe>]``, e.g.
        ``%rsi-period_14``, ``%rsi-period_14_shift-1``, ``%rsi-period_14_ETH/USDT``,
        ``%rsi-period_14_4h``; time features are ``%hour_sin`` etc.
    indicator : str
        Registry name (:data:`atb.features.indicators.INDICATORS`) or ``"time"``.
    period : int or None
        Look-back in candles of ``timeframe``; None for time features.
    timeframe : str
        Timeframe the indicator ran on (the base timeframe or an informative one).
    pair : str or None
        Correlated pair the feature comes from; None for the candles' own pair.
    shift : int
        Base candles the value is shifted by (value at row t is the unshifted value at t - shift).
    available_after : pandas.Timedelta
        Offset from the base candle's ``date`` at which the value is known for certain:
        ``base_tf`` for base, informative and correlated features (informative candles used at
        row t have closed by ``date_t + base_tf``), ``base_tf * (1 - shift)`` for shifted
        features, 0 for time features (known in advance).
    """

    name: str
    indicator: str
    period: int | None
    timeframe: str
    pair: str | None
    shift: int
    available_after: pd.Timedelta


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FeatureFrame:
    """Features of one pair, row-aligned with its base candles.

    Attributes
    ----------
    values : pandas.DataFrame
        Shape ``(n_candles, n_features)``, float64, same index as the input candles, columns in
        ``specs`` order; warm-up and missing rows are NaN (never filled).
    specs : tuple of FeatureSpec
        One per column.
    dates : pandas.Series
        The base candles' ``date`` (open time, UTC), same index as ``values``.
    timeframe : str
        Base timeframe.
    """

    values: pd.DataFrame
    specs: tuple[FeatureSpec, ...]
    dates: pd.Series
    timeframe: str

    def __post_init__(self) -> None:
        if [s.name for s in self.specs] != list(self.values.columns):
            raise DataError("FeatureFrame: specs do not match the columns of values")
        if len(self.dates) != len(self.values):
            raise DataError(f"FeatureFrame: {len(self.dates)} dates for {len(self.values)} rows")

    def available_at(self) -> pd.Series:
        """Return per row the UTC time at which the whole row is known: ``date + timeframe``.

        Returns
        -------
        pandas.Series
            datetime64 UTC, same index as ``values``.
        """
        return self.dates + pd.Timedelta(seconds=timeframe_to_seconds(self.timeframe))
