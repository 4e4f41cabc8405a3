"""``self.dp`` of strategies: other pairs' and timeframes' candles, and the analysed frames.

The engine builds one :class:`DataProvider` per run with a ``loader`` callable (the provider does
no file I/O of its own) and attaches it with ``strategy.atb_set_dataprovider(dp)``. Method names
and signatures follow freqtrade's ``DataProvider`` where strategies use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from atb.core.enums import RunMode
from atb.core.timeframe import timeframe_to_seconds
from atb.errors import StrategyError

__all__ = ["CandleLoader", "DataProvider"]

#: ``loader(pair, timeframe, candle_type) -> DataFrame`` (OHLCV frame with a UTC ``date`` column).
CandleLoader = Callable[[str, str, str], pd.DataFrame]


class DataProvider:
    """Candles for informative pairs and analysed frames for callbacks.

    Parameters
    ----------
    loader : callable
        ``loader(pair, timeframe, candle_type) -> DataFrame``; ``candle_type`` is ``""`` for the
        trading mode's default candles. Results are cached per (pair, timeframe, candle_type).
    whitelist : sequence of str
        Pairs being traded.
    runmode : str or RunMode
        ``"backtest"``, ``"dry_run"``, ``"live"``, ...
    default_timeframe : str
        Timeframe used when a call gives none (the strategy's).
    markets : mapping, optional
        ``pair -> market dict`` (ccxt shape); without it :meth:`market` derives base/quote from
        the pair name.

    Raises
    ------
    StrategyError
        For an unknown ``runmode``.
    """

    def __init__(self, loader: CandleLoader, whitelist: Sequence[str], runmode: str | RunMode = "backtest",
                 default_timeframe: str = "", markets: Mapping[str, dict[str, Any]] | None = None) -> None:
        try:
            self.runmode = RunMode(str(runmode))
        except ValueError:
            raise StrategyError(f"DataProvider: unknown runmode {runmode!r}") from None
        self._loader = loader
        self._whitelist = list(whitelist)
        self._default_tf = default_timeframe
        self._markets = dict(markets or {})
        self._cache: dict[tuple[str, str, str], pd.DataFrame] = {}
        self._analyzed: dict[tuple[str, str], pd.DataFrame] = {}
        self._now: datetime | None = None

    # -- candles -------------------------------------------------------------------------------
    def current_whitelist(self) -> list[str]:
        """The pairs being traded (a copy)."""
        return list(self._whitelist)

    def historic_ohlcv(self, pair: str, timeframe: str | None = None, candle_type: str = "") -> pd.DataFrame:
        """All candles of ``pair`` the loader provides (a copy; cached per key)."""
        key = (pair, timeframe or self._default_tf, str(candle_type or ""))
        if key not in self._cache:
            frame = self._loader(*key)
            if not isinstance(frame, pd.DataFrame):
                raise StrategyError(f"DataProvider: no candles for {pair} {key[1]}")
            self._cache[key] = frame
        return self._cache[key].copy()

    def get_pair_dataframe(self, pair: str, timeframe: str | None = None,
                           candle_type: str = "") -> pd.DataFrame:
        """Candles of ``pair`` (in a backtest: the stored history for the run)."""
        return self.historic_ohlcv(pair, timeframe, candle_type)

    def ohlcv(self, pair: str, timeframe: str | None = None, copy: bool = True,
              candle_type: str = "") -> pd.DataFrame:
        """Same as :meth:`get_pair_dataframe` (freqtrade's live-data accessor)."""
        return self.historic_ohlcv(pair, timeframe, candle_type)

    def available_pairs(self) -> list[tuple[str, str]]:
        """``(pair, timeframe)`` of the whitelist at the default timeframe."""
        return [(p, self._default_tf) for p in self._whitelist]

    # -- analysed frames (for callbacks) -------------------------------------------------------
    def atb_set_analyzed(self, pair: str, timeframe: str, dataframe: pd.DataFrame) -> None:
        """Store the analysed frame of ``pair`` (engine side)."""
        self._analyzed[(pair, timeframe)] = dataframe

    def atb_set_current_time(self, now: datetime | None) -> None:
        """Limit :meth:`get_analyzed_dataframe` to candles closed by ``now`` (None: no limit)."""
        self._now = now

    def get_analyzed_dataframe(self, pair: str,
                               timeframe: str | None = None) -> tuple[pd.DataFrame, datetime]:
        """The analysed frame of ``pair`` up to the last candle closed by the current time.

        Returns
        -------
        (DataFrame, datetime)
            The rows (empty if none stored) and the date of the last one (or the epoch, UTC).
        """
        tf = timeframe or self._default_tf
        df = self._analyzed.get((pair, tf))
        epoch = pd.Timestamp(0, tz="UTC").to_pydatetime()
        if df is None:
            return pd.DataFrame(), epoch
        if self._now is not None and len(df):
            closed = df["date"] + pd.Timedelta(seconds=timeframe_to_seconds(tf)) <= pd.Timestamp(self._now)
            df = df.loc[closed.to_numpy()]
        last = df["date"].iloc[-1].to_pydatetime() if len(df) else epoch
        return df, last

    # -- markets and live-only features --------------------------------------------------------
    def market(self, pair: str) -> dict[str, Any] | None:
        """The market dict of ``pair`` (``base``, ``quote``, ``symbol`` at least)."""
        if pair in self._markets:
            return self._markets[pair]
        base, _, rest = pair.partition("/")
        quote, _, settle = rest.partition(":")
        return {"symbol": pair, "base": base, "quote": quote, "settle": settle or None,
                "active": True}

    def ticker(self, pair: str) -> dict[str, Any]:
        """No live ticker outside live trading: an empty dict (as freqtrade in backtests)."""
        return {}

    def orderbook(self, pair: str, maximum: int) -> dict[str, Any]:
        """Order books exist only in live trading.

        Raises
        ------
        StrategyError
            Always in backtests.
        """
        raise StrategyError(f"dp.orderbook({pair!r}) is not available in {self.runmode.value} mode")

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        """Notifications are not sent from backtests (no effect)."""
