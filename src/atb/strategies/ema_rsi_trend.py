"""EMA trend filter with RSI pullback entries (original atb strategy, MIT)."""

from __future__ import annotations

from typing import Any

import talib.abstract as ta
from pandas import DataFrame

from atb.indicators import qtpylib
from atb.strategy.interface import IStrategy
from atb.strategy.params import IntParameter

__all__ = ["AtbEmaRsiTrend"]


class AtbEmaRsiTrend(IStrategy):
    """Long when price is above a rising EMA-200 and RSI recovers through ``buy_rsi``.

    Exits: RSI above ``sell_rsi`` (exit signal), a decaying ROI table, a 6 % stoploss and a
    trailing stop (2 %) armed after +4 %.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 0.10, "720": 0.05, "1440": 0.02, "2880": 0.0}
    stoploss = -0.06
    trailing_stop = True
    trailing_stop_positive = 0.02
    trailing_stop_positive_offset = 0.04
    trailing_only_offset_is_reached = True
    startup_candle_count = 200

    buy_rsi = IntParameter(25, 50, default=40, space="buy")
    sell_rsi = IntParameter(60, 90, default=75, space="sell")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["ema50"] = ta.EMA(dataframe, timeperiod=50)
        dataframe["ema200"] = ta.EMA(dataframe, timeperiod=200)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        uptrend = (dataframe["close"] > dataframe["ema200"]) & (
            dataframe["ema200"] > dataframe["ema200"].shift(24)
        )
        trigger = qtpylib.crossed_above(dataframe["rsi"], self.buy_rsi.value)
        dataframe.loc[uptrend & trigger & (dataframe["volume"] > 0), ["enter_long", "enter_tag"]] = (
            1, "rsi_pullback")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[qtpylib.crossed_above(dataframe["rsi"], self.sell_rsi.value), "exit_long"] = 1
        return dataframe
