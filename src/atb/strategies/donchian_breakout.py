"""Donchian channel breakout with an ATR chandelier stop (original atb strategy, MIT).

Idea: a close above the highest high of the previous ``buy_channel`` candles, in a trending
market (ADX above ``buy_adx``), starts a long. The trade is protected by a chandelier stop that
trails ``sell_atr_mult`` ATRs below the highest price reached, set through ``custom_stoploss``
with :func:`stoploss_from_absolute`; it also exits when the close breaks the lowest low of the
previous ``buy_channel // 2`` candles. No ROI target: winners run until the stop or the exit.
Defaults are illustrative, not tuned (BTC/ETH/SOL/XRP 1h 2024-2025: about 100 trades per pair).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import talib.abstract as ta
from pandas import DataFrame

from atb.core.timeframe import timeframe_to_seconds
from atb.strategy.helpers import stoploss_from_absolute
from atb.strategy.interface import IStrategy
from atb.strategy.params import DecimalParameter, IntParameter

__all__ = ["AtbDonchianBreakout"]


class AtbDonchianBreakout(IStrategy):
    """Donchian breakout (long only) with an ATR chandelier stop.

    Entry: ``close > max(high[-buy_channel:-1])`` and ``ADX(14) > buy_adx``.
    Exit signal: ``close < min(low[-buy_channel // 2:-1])``.
    Stop: ``max_rate - sell_atr_mult * ATR(14)`` of the last closed candle (never looser than the
    fixed 10 % ``stoploss``, which applies until the first callback).
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 10.0}  # effectively disabled
    stoploss = -0.10
    use_custom_stoploss = True
    startup_candle_count = 100

    buy_channel = IntParameter(10, 96, default=48, space="buy")
    buy_adx = IntParameter(10, 40, default=20, space="buy")
    sell_atr_mult = DecimalParameter(1.0, 8.0, default=6.0, decimals=1, space="sell")

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        #: ATR (quote currency) per pair, indexed by candle open date, for custom_stoploss.
        self._atr: dict[str, pd.Series] = {}

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        n = self.buy_channel.value
        dataframe["dc_upper"] = dataframe["high"].rolling(n).max().shift(1)
        dataframe["dc_lower"] = dataframe["low"].rolling(max(n // 2, 2)).min().shift(1)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        self._atr[metadata["pair"]] = pd.Series(dataframe["atr"].to_numpy(),
                                                index=pd.DatetimeIndex(dataframe["date"]))
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        breakout = (dataframe["close"] > dataframe["dc_upper"]) & (
            dataframe["close"].shift(1) <= dataframe["dc_upper"].shift(1))
        dataframe.loc[breakout & (dataframe["adx"] > self.buy_adx.value) & (dataframe["volume"] > 0),
                      ["enter_long", "enter_tag"]] = (1, "donchian_breakout")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["dc_lower"], ["exit_long", "exit_tag"]] = (
            1, "channel_low")
        return dataframe

    def _closed_atr(self, pair: str, current_time: datetime) -> float | None:
        """ATR of the last candle closed at ``current_time`` (no lookahead)."""
        series = self._atr.get(pair)
        if series is None or series.empty:
            return None
        last_open = pd.Timestamp(current_time) - timedelta(seconds=timeframe_to_seconds(self.timeframe))
        value = series.asof(last_open) if last_open >= series.index[0] else float("nan")
        return None if pd.isna(value) else float(value)

    def custom_stoploss(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                        current_profit: float, after_fill: bool, **kwargs: Any) -> float | None:
        atr = self._closed_atr(pair, current_time)
        if atr is None:
            return None
        high = max(trade.max_rate or trade.open_rate, current_rate)
        stop_rate = high - self.sell_atr_mult.value * atr
        return stoploss_from_absolute(stop_rate, current_rate, is_short=trade.is_short,
                                      leverage=trade.leverage)
