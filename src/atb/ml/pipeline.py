"""The ML strategy pipeline: candles -> features -> labels -> walk-forward model -> probabilities.

Shared by the ``MLBasic`` strategy (walk-forward inside ``atb backtesting``) and ``atb train``
(the same walk-forward report, then a final model for live trading in the registry). Every
prediction at row ``t`` comes from a model fitted only on rows whose label was known by ``t``'s
close (purged walk-forward, :func:`atb.ml.walkforward.walk_forward_predict`), on features that
are complete at ``t``'s close (:func:`atb.features.build_features`).

Config (``ml`` section of a strategy config)::

    {"features": {...FeatureConfig...},
     "label": {"kind": "direction", "horizon": 12, "threshold": 0.0},
     "walk_forward": {"train_candles": 2880, "retrain_every": 336, "mode": "rolling"},
     "model": {"kind": "lightgbm", "params": {"n_estimators": 200}},
     "calibration": "platt", "normalise": "zscore"}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atb.errors import ConfigError
from atb.features import FeatureConfig, Normalizer, build_features
from atb.ml.dataset import walk_forward_windows
from atb.ml.factory import create_model
from atb.ml.ports import Model
from atb.ml.walkforward import WalkForwardResult, walk_forward_predict

__all__ = ["FinalModel", "LabelConfig", "MLConfig", "MLDataset", "MLRun", "ModelSpec",
           "WalkForwardConfig", "fit_final", "load_ml_config", "make_dataset", "run_walk_forward"]


NormaliseMethod = Literal["zscore", "robust", "minmax"]


class LabelConfig(BaseModel):
    """Binary training label: is the price higher after ``horizon`` candles (1) or not (0).

    ``direction``: 1 if ``close[t+h]/close[t] - 1 > threshold`` else 0 (known at ``t+h``).
    ``triple_barrier``: 1 if the take-profit barrier is touched before the stop (López de
    Prado 2018, ch. 3), known at the touch or at ``t+h``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["direction", "triple_barrier"] = "direction"
    horizon: int = Field(default=12, ge=1)
    threshold: float = Field(default=0.0, ge=-1.0, le=1.0)
    take_profit: float = Field(default=0.02, gt=0.0)
    stop_loss: float = Field(default=0.02, gt=0.0)


class WalkForwardConfig(BaseModel):
    """Training window (candles), retrain period (candles), rolling or expanding, embargo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train_candles: int = Field(default=24 * 120, ge=50)
    retrain_every: int = Field(default=24 * 14, ge=1)
    mode: Literal["rolling", "expanding"] = "rolling"
    embargo: int = Field(default=0, ge=0)


class ModelSpec(BaseModel):
    """Model kind (``atb.ml.factory.MODEL_KINDS``) and its hyper-parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "lightgbm"
    params: dict[str, Any] = Field(default_factory=dict)


class MLConfig(BaseModel):
    """Everything the pipeline needs; every field has a default (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    features: FeatureConfig = Field(default_factory=FeatureConfig)
    label: LabelConfig = Field(default_factory=LabelConfig)
    walk_forward: WalkForwardConfig = Field(default_factory=WalkForwardConfig)
    model: ModelSpec = Field(default_factory=ModelSpec)
    calibration: Literal["isotonic", "platt"] | None = "platt"
    normalise: NormaliseMethod | None = "zscore"


def load_ml_config(raw: Mapping[str, Any] | MLConfig | None, where: str = "ml") -> MLConfig:
    """Validate an ``ml`` section; errors name the field (``ml.walk_forward.train_candles``).

    Raises
    ------
    ConfigError
        Unknown key, wrong type or out-of-range value; an unknown model kind.
    """
    if isinstance(raw, MLConfig):
        return raw
    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {type(raw).__name__}")
    try:
        cfg = MLConfig(**dict(raw or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{where}.{loc}: {err['msg']}") from None
    try:
        create_model(cfg.model.kind, "classification", dict(cfg.model.params))
    except ConfigError as exc:
        raise ConfigError(f"{where}.model: {exc}") from None
    return cfg


@dataclass(frozen=True, slots=True, kw_only=True)
class MLDataset:
    """Features and labels of one pair.

    Attributes
    ----------
    X : DataFrame
        float64 features, one row per candle (same index as the candles), NaN in warm-up.
    y : ndarray
        float64 ``(n,)`` labels 0/1, NaN where unknown.
    known_at : ndarray
        int64 ``(n,)`` row at whose close each label is known, -1 if never.
    dates : Series
        Candle open times (UTC).
    """

    X: pd.DataFrame
    y: np.ndarray
    known_at: np.ndarray
    dates: pd.Series


def _labels(candles: pd.DataFrame, cfg: LabelConfig) -> tuple[np.ndarray, np.ndarray]:
    from atb.features import labels as L  # training only: never imported by live code

    close = candles["close"].to_numpy(dtype=np.float64)
    if cfg.kind == "direction":
        ls = L.forward_return(close, cfg.horizon)
        y = np.where(np.isnan(ls.values), np.nan, (ls.values > cfg.threshold).astype(np.float64))
    else:
        ls = L.triple_barrier(close, candles["high"].to_numpy(dtype=np.float64),
                              candles["low"].to_numpy(dtype=np.float64), horizon=cfg.horizon,
                              take_profit=cfg.take_profit, stop_loss=cfg.stop_loss)
        y = np.where(np.isnan(ls.values), np.nan, (ls.values > 0).astype(np.float64))
    return y, ls.known_at


def make_dataset(candles: pd.DataFrame, config: MLConfig, *, timeframe: str,
                 informative: Mapping[str, pd.DataFrame] | None = None) -> MLDataset:
    """Features (causal) and labels (forward-looking, with ``known_at``) for one pair."""
    frame = build_features(candles, config.features, timeframe=timeframe, informative=informative)
    y, known_at = _labels(candles, config.label)
    return MLDataset(X=frame.values, y=y, known_at=known_at, dates=candles["date"])


def _normaliser(method: NormaliseMethod | None) -> Any:
    if method is None:
        return None

    def fit(X_train: np.ndarray) -> Any:
        cols = [str(i) for i in range(X_train.shape[1])]
        norm = Normalizer(method=method).fit(pd.DataFrame(X_train, columns=cols))
        return lambda X: norm.transform(pd.DataFrame(X, columns=cols)).to_numpy(dtype=np.float64)

    return fit


@dataclass(frozen=True, slots=True, kw_only=True)
class MLRun:
    """Walk-forward outcome for one pair: ``proba_up`` (float64 ``(n,)``, NaN where no model)."""

    proba_up: np.ndarray
    result: WalkForwardResult
    features: list[str]


def run_walk_forward(candles: pd.DataFrame, config: MLConfig, *, timeframe: str,
                     informative: Mapping[str, pd.DataFrame] | None = None) -> MLRun:
    """Walk-forward probabilities that the label is 1, for every candle after the first window.

    Raises
    ------
    ConfigError
        Too few candles for one training window (names ``ml.walk_forward.train_candles``).
    """
    ds = make_dataset(candles, config, timeframe=timeframe, informative=informative)
    wf = config.walk_forward
    if len(ds.X) <= wf.train_candles:
        raise ConfigError(f"ml.walk_forward.train_candles: {wf.train_candles} candles of training "
                          f"need more data than the {len(ds.X)} candles given")
    windows = walk_forward_windows(len(ds.X), train_size=wf.train_candles,
                                   retrain_every=wf.retrain_every, mode=wf.mode)
    spec = config.model
    res = walk_forward_predict(ds.X, ds.y, ds.known_at,
                               factory=lambda: create_model(spec.kind, "classification",
                                                            dict(spec.params)),
                               windows=windows, embargo=wf.embargo, calibration=config.calibration,
                               normalise=_normaliser(config.normalise))
    col = "proba_1" if "proba_1" in res.predictions.columns else None
    proba = (res.predictions[col].to_numpy(dtype=np.float64) if col is not None
             else np.full(len(ds.X), np.nan))
    return MLRun(proba_up=proba, result=res, features=list(ds.X.columns))


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalModel:
    """A model fitted on the latest window, for live use (what ``atb train`` registers)."""

    model: Model
    features: list[str]
    normaliser: dict[str, Any] | None
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    n_train: int


def fit_final(candles: pd.DataFrame, config: MLConfig, *, timeframe: str,
              informative: Mapping[str, pd.DataFrame] | None = None) -> FinalModel:
    """Fit on the last ``train_candles`` rows whose labels are known and features complete.

    Raises
    ------
    ConfigError
        No usable training row.
    """
    ds = make_dataset(candles, config, timeframe=timeframe, informative=informative)
    n = len(ds.X)
    lo = max(0, n - config.walk_forward.train_candles)
    idx = np.arange(lo, n)
    ok = (ds.known_at[idx] >= 0) & ~np.isnan(ds.y[idx]) & ds.X.iloc[idx].notna().all(axis=1).to_numpy()
    rows = idx[ok]
    if len(rows) < 50:
        raise ConfigError("ml.walk_forward.train_candles: fewer than 50 usable training rows")
    X = ds.X.iloc[rows]
    norm = None
    if config.normalise is not None:
        fitted = Normalizer(method=config.normalise).fit(X)
        X = fitted.transform(X)
        norm = fitted.to_dict()
    model = create_model(config.model.kind, "classification", dict(config.model.params))
    model.fit(X.to_numpy(dtype=np.float64), ds.y[rows])
    return FinalModel(model=model, features=list(ds.X.columns), normaliser=norm,
                      train_start=pd.Timestamp(ds.dates.iloc[rows[0]]),
                      train_end=pd.Timestamp(ds.dates.iloc[rows[-1]]), n_train=len(rows))
