"""The ``features`` configuration section: which features :func:`~atb.features.build_features` makes.

FreqAI-style: every indicator is computed for every period, on the base timeframe and on every
informative timeframe, for the candles' own pair and every correlated pair, and then repeated
shifted by 1..``shifted_candles`` candles. Unknown keys are rejected and every error names the
field, e.g. ``features.periods: period 1 is below 2``.

==========================  ==================================================  =====================
field                       default                                             meaning
==========================  ==================================================  =====================
indicators                  ["rsi", "mfi", "adx", "roc", "atr_pct",             registry names, see
                            "bb_width", "ema_dist", "volatility", "volume_z"]   :data:`INDICATORS`
periods                     [10, 20, 50]                                        look-back, candles
informative_timeframes      []                                                  e.g. ["4h"]; multiples
                                                                                of the base timeframe
shifted_candles             2                                                   also shifted 1..n
correlated_pairs            []                                                  e.g. ["ETH/USDT"]
include_returns             True                                                1-candle close return
include_time                True                                                hour/day-of-week
                                                                                sin/cos of close time
==========================  ==================================================  =====================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError
from atb.features.indicators import INDICATOR_NAMES

__all__ = ["FIXED_UNITS", "FeatureConfig", "load_feature_config"]

#: Timeframe units of fixed length that informative timeframes may use (months/years vary in length).
FIXED_UNITS: tuple[str, ...] = ("s", "m", "h", "d", "w")

_DEFAULT_INDICATORS = ["rsi", "mfi", "adx", "roc", "atr_pct", "bb_width", "ema_dist", "volatility",
                       "volume_z"]
_PAIR_RE = re.compile(r"^[^\s_]+$")


def _no_duplicates(field: str, values: list[Any]) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"features.{field}: {value!r} is listed twice")
        seen.add(value)


class FeatureConfig(BaseModel):
    """Feature set definition (frozen; unknown keys rejected).

    Attributes
    ----------
    indicators : list of str
        Indicator names from :data:`atb.features.indicators.INDICATOR_NAMES`; default all nine:
        ``rsi, mfi, adx, roc, atr_pct, bb_width, ema_dist, volatility, volume_z``.
    periods : list of int
        Look-back lengths in candles of the timeframe the indicator runs on, each >= 2;
        default ``[10, 20, 50]``.
    informative_timeframes : list of str
        Higher timeframes (``"4h"``, ``"1d"``), each a whole multiple (>= 2x) of the base
        timeframe and of fixed length (units s/m/h/d/w); default ``[]``. Checked against the
        base timeframe by :meth:`check_timeframe`.
    shifted_candles : int
        Also include every indicator feature shifted by 1..n base candles (``_shift-k``); >= 0,
        default 2.
    correlated_pairs : list of str
        Other pairs whose features are added (``_ETH/USDT`` suffix), aligned on ``date``;
        default ``[]``.
    include_returns : bool
        Add ``%return-period_1`` = close[t] / close[t-1] - 1 (ratio) per pair and timeframe;
        default True.
    include_time : bool
        Add ``%hour_sin``, ``%hour_cos``, ``%dow_sin``, ``%dow_cos`` of the candle close time
        (UTC); default True.

    Raises
    ------
    ConfigError
        Unknown indicator, period below 2, malformed or non-fixed timeframe, negative shift,
        duplicates; the message names the field (``features.<field>``).

    Examples
    --------
    >>> FeatureConfig(periods=[14], informative_timeframes=["4h"]).shifted_candles
    2
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    indicators: list[str] = Field(default_factory=lambda: list(_DEFAULT_INDICATORS))
    periods: list[int] = Field(default_factory=lambda: [10, 20, 50])
    informative_timeframes: list[str] = Field(default_factory=list)
    shifted_candles: int = 2
    correlated_pairs: list[str] = Field(default_factory=list)
    include_returns: bool = True
    include_time: bool = True

    @field_validator("indicators")
    @classmethod
    def _check_indicators(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in INDICATOR_NAMES:
                raise ConfigError(f"features.indicators: unknown indicator {name!r}; valid names: "
                                  f"{', '.join(INDICATOR_NAMES)}")
        _no_duplicates("indicators", value)
        return value

    @field_validator("periods")
    @classmethod
    def _check_periods(cls, value: list[int]) -> list[int]:
        for period in value:
            if period < 2:
                raise ConfigError(f"features.periods: period {period} is below 2")
        _no_duplicates("periods", value)
        return value

    @field_validator("informative_timeframes")
    @classmethod
    def _check_timeframes(cls, value: list[str]) -> list[str]:
        for tf in value:
            try:
                timeframe_to_seconds(tf)
            except ConfigError as exc:
                raise ConfigError(f"features.informative_timeframes: {exc}") from exc
            if tf[-1] not in FIXED_UNITS:
                raise ConfigError(f"features.informative_timeframes: {tf!r} has no fixed length; "
                                  f"use units {'/'.join(FIXED_UNITS)}")
        _no_duplicates("informative_timeframes", value)
        return value

    @field_validator("shifted_candles")
    @classmethod
    def _check_shift(cls, value: int) -> int:
        if value < 0:
            raise ConfigError(f"features.shifted_candles: {value} is negative")
        return value

    @field_validator("correlated_pairs")
    @classmethod
    def _check_pairs(cls, value: list[str]) -> list[str]:
        for pair in value:
            if not _PAIR_RE.match(pair):
                raise ConfigError(f"features.correlated_pairs: {pair!r} is not a pair name "
                                  "(no spaces or underscores, e.g. 'ETH/USDT')")
        _no_duplicates("correlated_pairs", value)
        return value

    def check_timeframe(self, timeframe: str) -> int:
        """Check the informative timeframes against the base ``timeframe``.

        Parameters
        ----------
        timeframe : str
            Base timeframe of the candles (``"1h"``).

        Returns
        -------
        int
            Base candle length in seconds.

        Raises
        ------
        ConfigError
            An informative timeframe is not a whole multiple >= 2 of the base timeframe
            (names ``features.informative_timeframes``), or ``timeframe`` is invalid.
        """
        base = timeframe_to_seconds(timeframe)
        for tf in self.informative_timeframes:
            secs = timeframe_to_seconds(tf)
            if secs % base or secs // base < 2:
                raise ConfigError(f"features.informative_timeframes: {tf!r} is not a multiple "
                                  f"(>= 2x) of the base timeframe {timeframe!r}")
        return base


def load_feature_config(raw: Mapping[str, Any] | None) -> FeatureConfig:
    """Validate a ``features`` section given as a mapping (``None``: all defaults).

    Raises
    ------
    ConfigError
        Unknown key, wrong type or invalid value; the message names ``features.<field>``.

    Examples
    --------
    >>> load_feature_config({"periods": [14]}).periods
    [14]
    """
    try:
        return FeatureConfig.model_validate(dict(raw or {}))
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            parts.append(f"features.{loc}: {err['msg']}")
        raise ConfigError("; ".join(parts)) from exc
