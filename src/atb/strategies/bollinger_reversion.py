"""Mean reversion below the lower Bollinger band with an oversold RSI (original atb strategy, MIT)."""

from __future__ import annotations

from typing import Any

import talib.abstract as ta
from pandas import DataFrame

from atb.indicators import qtpylib
from atb.strategy.interface import IStrategy
from atb.strategy.params import DecimalParameter, IntParameter

__all__ = ["AtbBollingerReversion"]


class AtbBollingerReversion(IStrategy):
    """Buy oversold closes below the lower Bollinger band.

    Long below the lower band (typical price, 20 rows, ``bb_std`` deviations) when RSI is under
    ``buy_rsi``; exit when the close returns above the middle band.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.06, "240": 0.03, "720": 0.01}
    stoploss = -0.08
    startup_candle_count = 40

    buy_rsi = IntParameter(15, 40, default=30, space="buy")
    bb_std = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        bands = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20,
                                        stds=self.bb_std.value)
        dataframe["bb_lower"] = bands["lower"]
        dataframe["bb_mid"] = bands["mid"]
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[
            (dataframe["close"] < dataframe["bb_lower"]) & (dataframe["rsi"] < self.buy_rsi.value)
            & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "bb_oversold")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[qtpylib.crossed_above(dataframe["close"], dataframe["bb_mid"]),
                      ["exit_long", "exit_tag"]] = (1, "back_to_mean")
        return dataframe
