"""The ``self.dp`` object of strategies: access to other pairs' and timeframes' candles."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

__all__ = ["DataProvider"]


class DataProvider:
    """Candles for informative pairs during a backtest.

    Parameters
    ----------
    loader : callable
        ``loader(pair, timeframe, candle_type) -> DataFrame`` (OHLCV contract).
    whitelist : sequence of str
    runmode : str
        ``"backtest"``, ``"dry_run"`` or ``"live"``.
    default_timeframe : str
    """

    def __init__(self, loader: Callable[[str, str, str], pd.DataFrame], whitelist: Sequence[str],
                 runmode: str = "backtest", default_timeframe: str = "") -> None:
        self._loader = loader
        self._whitelist = list(whitelist)
        self.runmode = runmode
        self._default_tf = default_timeframe
        self._cache: dict[tuple[str, str, str], pd.DataFrame] = {}

    def current_whitelist(self) -> list[str]:
        """The pairs being traded."""
        return list(self._whitelist)

    def historic_ohlcv(self, pair: str, timeframe: str | None = None,
                       candle_type: str = "") -> pd.DataFrame:
        """All stored candles of ``pair`` (a copy)."""
        key = (pair, timeframe or self._default_tf, candle_type or "spot")
        if key not in self._cache:
            self._cache[key] = self._loader(*key)
        return self._cache[key].copy()

    def get_pair_dataframe(self, pair: str, timeframe: str | None = None,
                           candle_type: str = "") -> pd.DataFrame:
        """Candles of ``pair`` (in a backtest: the stored history)."""
        return self.historic_ohlcv(pair, timeframe, candle_type)

    def ohlcv(self, pair: str, timeframe: str | None = None, copy: bool = True,
              candle_type: str = "") -> pd.DataFrame:
        """Same as :meth:`get_pair_dataframe`."""
        return self.historic_ohlcv(pair, timeframe, candle_type)
