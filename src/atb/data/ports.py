"""Port for candle storage (one adapter per on-disk format)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pandas as pd

__all__ = ["CandleStore"]


class CandleStore(Protocol):
    """Read and write OHLCV frames in freqtrade's data layout under one ``datadir``."""

    @property
    def datadir(self) -> Path:
        """Root folder of the layout."""
        ...

    @property
    def extension(self) -> str:
        """File extension of the format."""
        ...

    def path(self, pair: str, timeframe: str, candle_type: str = "spot") -> Path:
        """File of ``pair``/``timeframe``/``candle_type``."""
        ...

    def load(self, pair: str, timeframe: str, candle_type: str = "spot") -> pd.DataFrame:
        """The stored candles (raw: not cleaned, not filled); DataError if absent/corrupt."""
        ...

    def store(self, pair: str, timeframe: str, df: pd.DataFrame, candle_type: str = "spot") -> None:
        """Replace the stored candles."""
        ...

    def append(self, pair: str, timeframe: str, df: pd.DataFrame, candle_type: str = "spot") -> None:
        """Merge new candles into the stored ones (newer rows win on equal dates)."""
        ...
