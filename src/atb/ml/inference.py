"""Live inference with a registered model: ONNX runtime, the training feature pipeline, a cache.

``atb train`` registers, per pair, the native model, ``model.onnx`` (parity-checked to 1e-5),
``features.json`` and ``normaliser.json``, and the pipeline config as the record's ``params``.
:class:`OnnxPredictor` rebuilds exactly that feature pipeline on the candles known now, scales
the newest complete row with the training normaliser and asks onnxruntime for ``P(up)``; the
result is cached per (model, pair, candle time) with a TTL so repeated calls within a candle cost
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from atb.errors import DataError, ModelError
from atb.features import Normalizer, build_features
from atb.ml.adapters.onnx import OnnxModel
from atb.ml.cache import TTLPredictionCache
from atb.ml.pipeline import MLConfig, load_ml_config
from atb.ml.registry import ModelRecord

__all__ = ["OnnxPredictor"]


class OnnxPredictor:
    """``P(label = 1)`` for the newest candle of a pair from a registered model's ONNX file.

    Parameters
    ----------
    record : ModelRecord
        A registry record written by ``atb train`` (has ``model.onnx`` and ``features.json``).
    cache : TTLPredictionCache, optional
        Default: a 1-hour TTL cache.

    Raises
    ------
    ModelError
        The record lacks ``model.onnx`` / ``features.json`` or they do not match its metadata.
    """

    def __init__(self, record: ModelRecord, cache: TTLPredictionCache | None = None) -> None:
        path = record.path
        if not (path / "model.onnx").is_file() or not (path / "features.json").is_file():
            raise ModelError(f"{path}: model.onnx and features.json are required for ONNX inference")
        import json

        features = json.loads((path / "features.json").read_text())
        if list(features) != list(record.features):
            raise ModelError(f"{path / 'features.json'}: features differ from metadata.json")
        self.record = record
        self.features: list[str] = list(features)
        self.config: MLConfig = load_ml_config(record.params, f"{path}/metadata.json params")
        norm_file = path / "normaliser.json"
        self.normaliser = (Normalizer.from_dict(json.loads(norm_file.read_text()))
                           if norm_file.is_file() else None)
        self.model = OnnxModel(path / "model.onnx")
        self.cache = cache or TTLPredictionCache(ttl_seconds=3600.0)
        self.model_id = f"{record.name}:{record.version}"

    def feature_rows(self, candles: pd.DataFrame, *, timeframe: str,
                     informative: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """The scaled feature matrix the model sees (one row per candle; NaN in warm-up)."""
        frame = build_features(candles, self.config.features, timeframe=timeframe,
                               informative=informative)
        values = frame.values
        if list(values.columns) != self.features:
            raise ModelError(f"model {self.model_id}: the feature pipeline produced other columns "
                             "than the model was trained on")
        return self.normaliser.transform(values) if self.normaliser is not None else values

    def predict_latest(self, pair: str, candles: pd.DataFrame, *, timeframe: str,
                       informative: Mapping[str, pd.DataFrame] | None = None) -> float:
        """``P(up)`` for the last candle of ``candles`` (all of them closed).

        Raises
        ------
        DataError
            The last candle's features are incomplete (not enough history).
        """
        ts = pd.Timestamp(candles["date"].iloc[-1])
        hit = self.cache.get(self.model_id, pair, ts)
        if hit is not None:
            return float(hit)
        row = self.feature_rows(candles, timeframe=timeframe, informative=informative).iloc[[-1]]
        if row.isna().any(axis=None):
            raise DataError(f"{pair}: features of the candle {ts} are incomplete; more history needed")
        proba = float(self.predict_rows(row.to_numpy(dtype=np.float64))[0])
        self.cache.put(self.model_id, pair, ts, proba)
        return proba

    def predict_rows(self, X: np.ndarray) -> np.ndarray:
        """``P(up)`` (float64 ``(n,)``) for already scaled feature rows, through onnxruntime."""
        proba = self.model.predict_proba(np.asarray(X, dtype=np.float64))
        classes = [float(c) for c in self.model.classes_]
        return proba[:, classes.index(1.0)] if 1.0 in classes else proba[:, -1]

    def __repr__(self) -> str:
        return f"OnnxPredictor({self.model_id})"

    def info(self) -> dict[str, Any]:
        """Model id, feature count and cache statistics."""
        return {"model": self.model_id, "features": len(self.features),
                "cache_hit_rate": self.cache.hit_rate}
