"""Breakout of the Donchian channel with a stop that moves to break-even, then trails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import talib.abstract as ta
from pandas import DataFrame

from atb.strategy.helpers import stoploss_from_open
from atb.strategy.interface import IStrategy
from atb.strategy.params import IntParameter

__all__ = ["AtbDonchianBreakout"]


class AtbDonchianBreakout(IStrategy):
    """Donchian channel breakout with a break-even then trailing stop.

    Long when the close breaks the highest high of the previous ``channel`` candles with ADX
    confirming a trend; exit below the lowest low of the last ``channel // 2`` candles.

    ``custom_stoploss`` keeps the 8 % stop until +3 %, then locks +1 % above the entry
    (``stoploss_from_open``), then trails 3 % below the high after +8 %.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 1.0}
    stoploss = -0.08
    use_custom_stoploss = True
    startup_candle_count = 60

    channel = IntParameter(10, 60, default=24, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        n = self.channel.value
        dataframe["upper"] = dataframe["high"].rolling(n).max().shift(1)
        dataframe["lower"] = dataframe["low"].rolling(max(n // 2, 2)).min().shift(1)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[
            (dataframe["close"] > dataframe["upper"]) & (dataframe["adx"] > 20)
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "breakout")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[dataframe["close"] < dataframe["lower"], "exit_long"] = 1
        return dataframe

    def custom_stoploss(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                        current_profit: float, after_fill: bool, **kwargs: Any) -> float | None:
        if current_profit > 0.08:
            return -0.03
        if current_profit > 0.03:
            return -stoploss_from_open(0.01, current_profit, is_short=trade.is_short,
                                       leverage=trade.leverage)
        return None
