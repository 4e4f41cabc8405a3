"""Features for ML models: config-driven feature sets and normalisation, causal by construction.

:func:`build_features` turns a pair's candles (plus correlated pairs' candles) into a
:class:`FeatureFrame` whose row t depends only on data complete by the close of candle t; each
:class:`FeatureSpec` records when its value is known. :class:`Normalizer` scales features with
statistics fitted on training rows only.

Training labels (forward returns, triple barrier) live in :mod:`atb.features.labels`, which is
deliberately NOT re-exported here: labels look ahead, and live code must never import them.
"""

from atb.features.config import FeatureConfig, load_feature_config
from atb.features.indicators import INDICATOR_NAMES, INDICATORS
from atb.features.informative import resample_candles
from atb.features.models import FeatureFrame, FeatureSpec
from atb.features.normalize import NORMALIZE_METHODS, Normalizer
from atb.features.pipeline import build_features, drop_warmup, feature_names

__all__ = [
    "FeatureConfig",
    "FeatureFrame",
    "FeatureSpec",
    "INDICATORS",
    "INDICATOR_NAMES",
    "NORMALIZE_METHODS",
    "Normalizer",
    "build_features",
    "drop_warmup",
    "feature_names",
    "load_feature_config",
    "resample_candles",
]
