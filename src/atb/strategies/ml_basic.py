"""MLBasic: a LightGBM walk-forward classifier trading its calibrated up-probability.

Original atb strategy (MIT). In ``populate_indicators`` the pipeline of :mod:`atb.ml.pipeline`
builds FreqAI-style features (nine indicators over 14 and 48 candles, on 1h and 4h candles and
on BTC/USDT as correlated pair, plus returns and time of day/week), labels "close higher in 12
candles" and runs a purged walk-forward: a LightGBM model trained on the last 120 days,
retrained every 30 days, predicts only the candles after its training window; probabilities are
calibrated (Platt) on the last 20 % of each training window. The backtest therefore trains and
predicts inside the run, like FreqAI's backtesting, and never sees a label that was not known
at the decision time.

Entries: ``P(up) >= entry_proba`` (fusion model component, weight 1); exits: ``P(up) <
exit_proba``, the ROI table or the stoploss. Report section ``ml out-of-sample``: accuracy, AUC,
Brier score and log-loss of the predictions whose labels are known, per pair.

Config: the ``ml`` section of the strategy config overrides :class:`atb.ml.pipeline.MLConfig`
fields; ``entry_proba`` / ``exit_proba`` are strategy parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pandas import DataFrame

from atb.errors import StrategyError
from atb.ml.pipeline import MLConfig, load_ml_config, run_walk_forward
from atb.signals import FusionConfig, apply_fusion, model_component, set_entry_signals
from atb.strategy.interface import IStrategy
from atb.strategy.params import DecimalParameter

__all__ = ["MLBasic"]

_DEFAULT_ML: dict[str, Any] = {
    "features": {"periods": [14, 48], "informative_timeframes": ["4h"], "shifted_candles": 0,
                 "correlated_pairs": ["BTC/USDT"]},
    "walk_forward": {"train_candles": 24 * 120, "retrain_every": 24 * 30},
    "model": {"kind": "lightgbm", "params": {"n_estimators": 100, "learning_rate": 0.05,
                                             "num_leaves": 15, "min_child_samples": 50}},
    "calibration": "platt",
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(
            out.get(key), dict) else value
    return out


class MLBasic(IStrategy):
    """Walk-forward LightGBM up-probability strategy (see the module docstring)."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 0.05, "720": 0.02, "1440": 0.0}
    stoploss = -0.04
    process_only_new_candles = True

    entry_proba = DecimalParameter(0.51, 0.8, default=0.58, decimals=2, space="buy")
    exit_proba = DecimalParameter(0.3, 0.55, default=0.47, decimals=2, space="sell")

    def __init__(self, config: dict[str, Any]) -> None:
        raw = config.get("ml") or {}
        if not isinstance(raw, dict):
            raise StrategyError("ml: the strategy config section must be a mapping")
        self.ml_config: MLConfig = load_ml_config(_merge(_DEFAULT_ML, raw))
        # the first model needs a full training window before the backtest range starts
        self.startup_candle_count = self.ml_config.walk_forward.train_candles + 100
        super().__init__(config)

    def informative_pairs(self) -> list[tuple[str, ...]]:
        return [(p, self.timeframe) for p in self.ml_config.features.correlated_pairs]

    def _informative(self, pair: str) -> dict[str, DataFrame]:
        out: dict[str, DataFrame] = {}
        for other in self.ml_config.features.correlated_pairs:
            if self.dp is None:
                raise StrategyError(f"MLBasic: correlated pair {other} needs a data provider")
            out[other] = self.dp.get_pair_dataframe(other, self.timeframe)
        return out

    def _config_for(self, pair: str) -> MLConfig:
        """Drop the pair itself from its correlated pairs (BTC/USDT against BTC/USDT)."""
        corr = [p for p in self.ml_config.features.correlated_pairs if p != pair]
        features = self.ml_config.features.model_copy(update={"correlated_pairs": corr})
        return self.ml_config.model_copy(update={"features": features})

    def _aligned(self, dataframe: DataFrame, pair: str) -> dict[str, DataFrame]:
        """Correlated candles restricted to this frame's dates (no rows after its last candle)."""
        last = dataframe["date"].iloc[-1]
        return {p: df[df["date"] <= last].reset_index(drop=True)
                for p, df in self._informative(pair).items() if p != pair}

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        pair = metadata["pair"]
        run = run_walk_forward(dataframe, self._config_for(pair), timeframe=self.timeframe,
                               informative=self._aligned(dataframe, pair))
        dataframe["proba_up"] = run.proba_up
        dataframe = apply_fusion(dataframe, self._fusion(), model=model_component(run.proba_up))
        m = run.result.oos_metrics
        self.atb_add_report_row("ml out-of-sample", pair, {
            "n": int(m.get("n", 0)), "accuracy": float(m.get("accuracy", np.nan)),
            "auc": float(m.get("auc", np.nan)), "brier": float(m.get("brier", np.nan)),
            "log_loss": float(m.get("log_loss", np.nan)),
            "base_rate": float(np.nanmean(np.where(np.isnan(run.proba_up), np.nan,
                                                   self._labels_known(dataframe)))),
            "windows": len(run.result.window_metrics),
        })
        return dataframe

    def _fusion(self) -> FusionConfig:
        """Model component ``2p - 1`` alone: long when ``p >= entry_proba``."""
        return FusionConfig(weights={"model": 1.0},
                            entry_threshold=2.0 * float(self.entry_proba.value) - 1.0)

    def _labels_known(self, dataframe: DataFrame) -> np.ndarray:
        """Realised label of each row (for the report's base rate only; never a signal)."""
        h = self.ml_config.label.horizon
        close = dataframe["close"].to_numpy(dtype=np.float64)
        out = np.full(len(close), np.nan)
        if len(close) > h:
            out[:-h] = (close[h:] / close[:-h] - 1.0 > self.ml_config.label.threshold)
        return out

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe = set_entry_signals(dataframe, tag="ml")
        dataframe.loc[dataframe["volume"] <= 0, "enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe.loc[dataframe["proba_up"] < float(self.exit_proba.value), "exit_long"] = 1
        return dataframe

