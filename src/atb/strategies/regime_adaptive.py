"""Regime-adaptive strategy: trend pullbacks in bull markets, mean reversion in ranges, flat in bears.

Original atb strategy (MIT). The regime is the 50-day SMA rule on BTC/USDT
(:class:`atb.regime.SmaTrendDetector`, labels known at each candle's close), and the parameter
set switches with it through :class:`atb.regime.StrategyModeManager`. Entries go through the
fusion engine (:mod:`atb.signals`): technical setup (weight 0.7) and regime (0.3), with longs
vetoed in bear markets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import talib.abstract as ta
from pandas import DataFrame

from atb.indicators import qtpylib
from atb.regime import SmaTrendDetector, StrategyModeManager, add_regime_column, time_in_regime
from atb.signals import FusionConfig, apply_fusion, contribution_summary, set_entry_signals
from atb.strategy.interface import IStrategy
from atb.strategy.params import IntParameter

__all__ = ["RegimeAdaptive"]

#: Parameters per regime; ``default`` applies to warm-up rows (no regime yet).
MODES = StrategyModeManager(
    {"bull": {"mode": 1.0, "buy_rsi": 45.0, "sell_rsi": 80.0},
     "range": {"mode": 2.0, "buy_rsi": 30.0, "sell_rsi": 60.0},
     "bear": {"mode": 0.0, "buy_rsi": 0.0, "sell_rsi": 50.0}},
    default={"mode": 0.0, "buy_rsi": 0.0, "sell_rsi": 50.0},
)


class RegimeAdaptive(IStrategy):
    """Switch setups by market regime (BTC/USDT 50-day SMA, 2 % band, 3-day confirmation).

    * bull: price above a rising EMA-50 and RSI crossing above 45 (pullback end); exit on RSI 80
      or a close below the EMA-50;
    * range: close under the lower Bollinger band (20, 2) with RSI under 30; exit on RSI 60 or a
      close above the middle band;
    * bear: no entries (fusion regime veto); open trades exit on RSI 50.

    Report: a ``regime`` section (time in each regime, entries per regime) and the fusion
    contributions.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 0.08, "1440": 0.03, "2880": 0.0}
    stoploss = -0.07
    startup_candle_count = 51 * 24
    reference_pair = "BTC/USDT"

    regime_sma_days = IntParameter(20, 100, default=50, space="buy", optimize=False)

    fusion = FusionConfig(weights={"technical": 0.7, "regime": 0.3}, entry_threshold=0.5)

    def informative_pairs(self) -> list[tuple[str, ...]]:
        return [(self.reference_pair, self.timeframe)]

    def _reference(self, pair: str) -> DataFrame | None:
        if self.dp is None or pair == self.reference_pair:
            return None
        try:
            ref = self.dp.get_pair_dataframe(self.reference_pair, self.timeframe)
        except Exception:  # noqa: BLE001 - no reference data: use the pair's own trend
            return None
        return ref if ref is not None and len(ref) else None

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        detector = SmaTrendDetector(sma_days=int(self.regime_sma_days.value), band=0.02,
                                    confirm=3, timeframe=self.timeframe)
        dataframe = add_regime_column(dataframe, detector, "regime",
                                      reference=self._reference(metadata["pair"]),
                                      timeframe=self.timeframe, reference_timeframe=self.timeframe)
        for name in ("mode", "buy_rsi", "sell_rsi"):
            dataframe[name] = MODES.column(dataframe["regime"], name).to_numpy(dtype=np.float64)
        dataframe["ema50"] = ta.EMA(dataframe, timeperiod=50)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        bb = qtpylib.bollinger_bands(qtpylib.typical_price(dataframe), window=20, stds=2)
        dataframe["bb_lower"] = bb["lower"]
        dataframe["bb_mid"] = bb["mid"]
        rsi_prev = dataframe["rsi"].shift(1)
        bull_setup = ((dataframe["mode"] == 1.0) & (dataframe["close"] > dataframe["ema50"])
                      & (dataframe["ema50"] > dataframe["ema50"].shift(12))
                      & (rsi_prev < dataframe["buy_rsi"]) & (dataframe["rsi"] >= dataframe["buy_rsi"]))
        range_setup = ((dataframe["mode"] == 2.0) & (dataframe["close"] < dataframe["bb_lower"])
                       & (dataframe["rsi"] < dataframe["buy_rsi"]))
        technical = pd.Series(np.where(bull_setup | range_setup, 1.0, 0.0), index=dataframe.index)
        technical[dataframe["rsi"].isna()] = np.nan
        dataframe = apply_fusion(dataframe, self.fusion, technical=technical,
                                 regime=dataframe["regime"])
        self._report(dataframe, metadata["pair"])
        return dataframe

    def _report(self, dataframe: DataFrame, pair: str) -> None:
        share = time_in_regime(dataframe["regime"])
        entries = dataframe["fusion_direction"] == 1
        row: dict[str, Any] = {f"time_{r}": float(share.get(r, 0.0)) for r in ("bull", "range", "bear")}
        for r in ("bull", "range"):
            row[f"entries_{r}"] = int((entries & (dataframe["regime"] == r)).sum())
        self.atb_add_report_row("regime", pair, row)
        self.atb_add_report_row("fusion contributions", pair, contribution_summary(dataframe))

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe = set_entry_signals(dataframe, tag="regime")
        dataframe.loc[dataframe["volume"] <= 0, "enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        rsi_exit = dataframe["rsi"] > dataframe["sell_rsi"]
        trend_exit = (dataframe["mode"] == 1.0) & (dataframe["close"] < dataframe["ema50"])
        range_exit = (dataframe["mode"] == 2.0) & (dataframe["close"] > dataframe["bb_mid"])
        dataframe.loc[rsi_exit | trend_exit | range_exit, "exit_long"] = 1
        return dataframe
