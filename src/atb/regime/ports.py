"""The port every regime detector implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pandas as pd

__all__ = ["RegimeDetector"]


@runtime_checkable
class RegimeDetector(Protocol):
    """Turns an OHLCV frame into one causal regime label per row.

    Contract
    --------
    * Input: an OHLCV frame (``date`` = candle OPEN time, tz-aware UTC, sorted ascending, one row
      per candle; ``open, high, low, close, volume`` float64; see :mod:`atb.data.models`).
    * Output: a ``pd.Series`` of the same length with a ``RangeIndex`` ``0..n-1`` (row positions of
      the input), dtype ``object``, holding regime strings (values of :class:`~atb.regime.models.Regime`
      or :class:`~atb.regime.models.VolRegime`) or ``None`` where the label is not yet determinable
      (warm-up).
    * Causality: the label at row ``t`` is "as of the close of candle ``t``" and is computed from
      candles ``0..t`` only. Equivalently, ``detect(candles.iloc[:t + 1])`` equals
      ``detect(candles).iloc[:t + 1]`` for every ``t``.
    """

    @property
    def name(self) -> str:
        """Short identifier of the detector (used as a default column/series name)."""
        ...

    def detect(self, candles: pd.DataFrame) -> pd.Series:
        """Return the causal regime label of every row of ``candles`` (see the class contract)."""
        ...
