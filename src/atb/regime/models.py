"""Regime labels: the string values every detector emits and every policy keys on."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REGIME_ORDER", "UNKNOWN", "Regime", "VolRegime"]


class Regime(StrEnum):
    """Trend regime of a market.

    The values are the strings detectors write into their label series (``"bull"``, ``"bear"``,
    ``"range"``); members compare equal to those strings (``Regime.BULL == "bull"``).
    """

    BULL = "bull"
    BEAR = "bear"
    RANGE = "range"


class VolRegime(StrEnum):
    """Volatility regime of a market (realised volatility against its own history)."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


#: Label given to rows/trades whose regime was not yet determinable (warm-up, before the first label).
UNKNOWN = "unknown"

#: Display order of regime names in reports; names not listed here follow, sorted, then ``UNKNOWN``.
REGIME_ORDER: tuple[str, ...] = (
    Regime.BULL.value, Regime.BEAR.value, Regime.RANGE.value,
    VolRegime.LOW.value, VolRegime.NORMAL.value, VolRegime.HIGH.value,
)
