"""Sentiment fusion strategy: trend, news sentiment, news events and BTC regime in one signal.

Original atb strategy (MIT). Components (``atb.signals`` fusion, weights technical 0.5,
sentiment 0.3, regime 0.2): the EMA-20/EMA-100 trend strength, the decayed sentiment of news
about the pair's base asset (and market-wide news) available by each candle's close, and the
SMA-50 regime of BTC/USDT. A CRITICAL event (exchange hack, ...) in the last 24 h vetoes entries
and requests an emergency exit of the open trade.

News come from the strategy config section ``sentiment`` (freqtrade config dict)::

    "sentiment": {"news_file": "news.csv", "timezone": "UTC", "latency_minutes": 5,
                  "scorer": "vader", "half_life_hours": 6, "window_hours": 24,
                  "veto_hours": 24, "min_severity": "CRITICAL"}

``scorer`` is ``"vader"`` (default) or ``"model:<name>"`` for a classifier trained by
``atb sentiment train`` (read from ``<user_data_dir>/models``). Without ``news_file`` the
sentiment and event components are missing and the fusion uses the other two.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import talib.abstract as ta
from pandas import DataFrame

from atb.errors import ConfigError
from atb.regime import SmaTrendDetector, add_regime_column
from atb.sentiment import (
    CsvNewsCollector,
    EventDetector,
    FinanceClassifier,
    Severity,
    VaderScorer,
    event_veto_series,
    score_items,
    sentiment_series,
)
from atb.signals import (
    FusionConfig,
    apply_fusion,
    contribution_summary,
    set_entry_signals,
    set_exit_signals,
)
from atb.strategy.interface import IStrategy

__all__ = ["SentimentFusion"]

_KEYS = {"news_file", "timezone", "latency_minutes", "scorer", "half_life_hours", "window_hours",
         "veto_hours", "min_severity"}


class SentimentFusion(IStrategy):
    """Trend + news sentiment + events + regime, fused (see the module docstring)."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 0.06, "720": 0.03, "1440": 0.0}
    stoploss = -0.05
    startup_candle_count = 51 * 24
    reference_pair = "BTC/USDT"

    fusion = FusionConfig(weights={"technical": 0.5, "sentiment": 0.3, "regime": 0.2},
                          entry_threshold=0.35, exit_threshold=0.1)

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._news: tuple[list[Any], list[Any]] | None = None
        self._settings()  # a bad section fails before any data is loaded

    def informative_pairs(self) -> list[tuple[str, ...]]:
        return [(self.reference_pair, self.timeframe)]

    def _settings(self) -> dict[str, Any]:
        raw = self.config.get("sentiment") or {}
        if not isinstance(raw, dict):
            raise ConfigError("sentiment: must be a mapping")
        unknown = set(raw) - _KEYS
        if unknown:
            raise ConfigError(f"sentiment.{sorted(unknown)[0]}: unknown key; known: {sorted(_KEYS)}")
        return raw

    def _scorer(self, spec: str) -> Any:
        if spec == "vader":
            return VaderScorer()
        if spec.startswith("model:"):
            from atb.ml.registry import ModelRegistry

            root = Path(self.config.get("user_data_dir", "user_data")) / "models"
            registry = ModelRegistry(root)
            record = registry.get(spec.split(":", 1)[1])
            registry.verify(record)
            return FinanceClassifier.load(record.path)
        raise ConfigError(f"sentiment.scorer: expected 'vader' or 'model:<name>', got {spec!r}")

    def _load_news(self) -> tuple[list[Any], list[Any]]:
        """Scored items and detected events from the configured file (once per process)."""
        if self._news is None:
            s = self._settings()
            if not s.get("news_file"):
                self._news = ([], [])
            else:
                items = CsvNewsCollector(Path(s["news_file"]), timezone=s.get("timezone", "UTC"),
                                         latency=timedelta(minutes=float(s.get("latency_minutes", 0))),
                                         ).collect()
                scored = score_items(items, self._scorer(str(s.get("scorer", "vader"))))
                self._news = (scored, EventDetector().detect(items))
        return self._news

    def _reference(self, pair: str) -> DataFrame | None:
        if self.dp is None or pair == self.reference_pair:
            return None
        try:
            ref = self.dp.get_pair_dataframe(self.reference_pair, self.timeframe)
        except Exception:  # noqa: BLE001 - no reference data: the pair's own trend
            return None
        return ref if ref is not None and len(ref) else None

    def _news_columns(self, dataframe: DataFrame, asset: str) -> tuple[np.ndarray, np.ndarray]:
        scored, events = self._load_news()
        n = len(dataframe)
        if not scored:
            return np.full(n, np.nan), np.zeros(n, dtype=bool)
        s = self._settings()
        sent = sentiment_series(scored, dataframe["date"], self.timeframe, asset=asset,
                                half_life=timedelta(hours=float(s.get("half_life_hours", 6))),
                                window=timedelta(hours=float(s.get("window_hours", 24))))
        veto = event_veto_series(events, dataframe["date"], self.timeframe, asset=asset,
                                 min_severity=Severity[str(s.get("min_severity", "CRITICAL"))],
                                 hold=timedelta(hours=float(s.get("veto_hours", 24))))
        value = sent["sentiment_decayed"].to_numpy(dtype=np.float64, copy=True)
        value[sent["sentiment_count"].to_numpy() == 0] = np.nan  # no news: component missing
        return value, veto["event_veto"].to_numpy(dtype=bool)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        pair = metadata["pair"]
        dataframe["ema20"] = ta.EMA(dataframe, timeperiod=20)
        dataframe["ema100"] = ta.EMA(dataframe, timeperiod=100)
        dataframe["trend"] = np.clip((dataframe["ema20"] / dataframe["ema100"] - 1.0) * 20.0, -1, 1)
        detector = SmaTrendDetector(sma_days=50, band=0.02, confirm=3, timeframe=self.timeframe)
        dataframe = add_regime_column(dataframe, detector, "regime", reference=self._reference(pair),
                                      timeframe=self.timeframe, reference_timeframe=self.timeframe)
        sentiment, veto = self._news_columns(dataframe, pair.split("/")[0])
        dataframe["sentiment"] = sentiment
        dataframe["event_veto"] = veto
        dataframe = apply_fusion(dataframe, self.fusion, technical=dataframe["trend"],
                                 sentiment=sentiment, regime=dataframe["regime"], event_veto=veto)
        row = contribution_summary(dataframe)
        row["news_rows"] = int(pd.notna(dataframe["sentiment"]).sum())
        self.atb_add_report_row("fusion contributions", pair, row)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe = set_entry_signals(dataframe, tag="sentiment")
        dataframe.loc[dataframe["volume"] <= 0, "enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return set_exit_signals(dataframe, self.fusion, tag="sentiment")
