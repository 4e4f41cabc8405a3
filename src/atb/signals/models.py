"""Records of the fusion engine: the direction of a signal and the fused :class:`TradingSignal`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from types import MappingProxyType

from atb.errors import DataError

__all__ = ["COMPONENTS", "Direction", "TradingSignal"]

#: The signal components the fusion engine combines, in report order.
COMPONENTS: tuple[str, ...] = ("technical", "model", "sentiment", "regime")


class Direction(IntEnum):
    """Side a signal points to: ``-1`` short, ``0`` flat (no trade), ``1`` long."""

    SHORT = -1
    FLAT = 0
    LONG = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TradingSignal:
    """One fused decision for a pair at a candle close.

    Attributes
    ----------
    pair : str
        ``BASE/QUOTE``.
    time : datetime
        UTC time the signal became available: the close of the candle it was computed on
        (candle open ``date`` + timeframe). Nothing known after this time went into it.
    direction : Direction
    score : float
        Fused score in ``[-1, 1]``: weighted mean of the available components.
    confidence : float
        ``|score|`` or, when calibrated, the estimated probability (``[0, 1]``) that the
        direction is right, from past outcomes only (see :mod:`atb.signals.calibration`).
    components : Mapping[str, float]
        Each component's value in ``[-1, 1]`` (NaN when missing), keys :data:`COMPONENTS`.
    contributions : Mapping[str, float]
        Each component's share of ``score`` (``weight * value / sum of available weights``);
        they add up to ``score``.
    veto : str or None
        Why an entry was blocked (``"event"``, ``"regime"``, ``"components"``), else None.
    emergency_exit : bool
        A CRITICAL event asks to close open positions now.

    Raises
    ------
    DataError
        Naive ``time``, ``score`` outside ``[-1, 1]`` or ``confidence`` outside ``[0, 1]``.
    """

    pair: str
    time: datetime
    direction: Direction
    score: float
    confidence: float
    components: Mapping[str, float] = field(default_factory=dict)
    contributions: Mapping[str, float] = field(default_factory=dict)
    veto: str | None = None
    emergency_exit: bool = False

    def __post_init__(self) -> None:
        if self.time.tzinfo is None:
            raise DataError(f"TradingSignal.time: must be timezone-aware UTC, got {self.time!r}")
        if not -1.0 - 1e-12 <= self.score <= 1.0 + 1e-12:
            raise DataError(f"TradingSignal.score: {self.score} is outside [-1, 1]")
        if not 0.0 <= self.confidence <= 1.0 + 1e-12:
            raise DataError(f"TradingSignal.confidence: {self.confidence} is outside [0, 1]")
        object.__setattr__(self, "direction", Direction(int(self.direction)))
        object.__setattr__(self, "components", MappingProxyType(dict(self.components)))
        object.__setattr__(self, "contributions", MappingProxyType(dict(self.contributions)))
