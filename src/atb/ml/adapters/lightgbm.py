"""LightGBM adapter (``kind="lightgbm"``, the default model), classifier and regressor.

Determinism: every model is built with ``seed`` (default 42), ``deterministic=True``,
``force_row_wise=True``, ``n_jobs=1`` and ``verbosity=-1``, so two fits on the same data give
bit-identical trees. The fitted booster is kept and saved as LightGBM's text format
(``model.txt``) beside ``meta.json``; predictions always come from that booster, so a loaded
model predicts exactly what the fitted one did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.ml._common import (
    as_matrix,
    check_task,
    check_xy,
    classes_from_meta,
    encode_labels,
    labels_to_json,
    read_meta,
    require_classifier,
    require_fitted,
    write_meta,
)
from atb.ml.ports import Task

__all__ = ["DEFAULT_LIGHTGBM_PARAMS", "LightGBMModel"]

#: Defaults (small, CPU, deterministic); any LightGBM scikit-learn API parameter may override them.
DEFAULT_LIGHTGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 20,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "random_state": 42,
    "deterministic": True,
    "force_row_wise": True,
    "n_jobs": 1,
    "verbosity": -1,
}
_MODEL_FILE = "model.txt"


class LightGBMModel:
    """Gradient-boosted trees (LightGBM) for classification or regression.

    Parameters
    ----------
    task : {"classification", "regression"}
        Binary/multi-class classifier (objective ``binary``/``multiclass``) or L2 regressor.
    params : dict, optional
        Overrides of :data:`DEFAULT_LIGHTGBM_PARAMS` (scikit-learn API names).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(float)
    >>> m = LightGBMModel("classification", {"n_estimators": 20})
    >>> m.fit(X, y)
    >>> m.predict_proba(X[:2]).shape
    (2, 2)
    """

    kind = "lightgbm"
    lookback = 1

    def __init__(self, task: Task = "classification", params: dict[str, Any] | None = None) -> None:
        self.task: Task = check_task(task)  # type: ignore[assignment]
        self.params: dict[str, Any] = {**DEFAULT_LIGHTGBM_PARAMS, **(params or {})}
        self.classes_: np.ndarray = np.asarray([])
        self.booster_: Any = None

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Train on ``X (n, k)``, labels/targets ``y (n,)``, optional weights ``(n,)``.

        Features enter the trees as float32 (here and in :meth:`predict_proba`), the precision
        of an exported ONNX graph, so native and ONNX predictions agree to float rounding of the
        leaf sums (about 1e-7) instead of branching differently near a split threshold.
        """
        lgb = require("lightgbm", "ml", "LightGBMModel")
        Xa, ya, w = check_xy(X, y, sample_weight)
        if self.task == "classification":
            self.classes_, target = encode_labels(ya)
            est = lgb.LGBMClassifier(**self.params)
        else:
            target = ya.astype(np.float64)
            est = lgb.LGBMRegressor(**self.params)
        est.fit(Xa.astype(np.float32), target, sample_weight=w)
        self.booster_ = est.booster_

    def _raw(self, X: np.ndarray) -> np.ndarray:
        booster = require_fitted(self, "booster_", "LightGBMModel")
        return np.asarray(booster.predict(as_matrix(X).astype(np.float32)), dtype=np.float64)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` in the order of ``classes_``."""
        require_classifier(self.task, "LightGBMModel")
        raw = self._raw(X)
        if raw.ndim == 1:  # binary objective: probability of the second class
            return np.column_stack([1.0 - raw, raw])
        return raw

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class label (classifier) or predicted value (regressor), shape ``(n,)``."""
        if self.task == "classification":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return self._raw(X)

    def save(self, directory: Path) -> list[Path]:
        """Write ``model.txt`` (LightGBM text format) and ``meta.json`` into ``directory``."""
        booster = require_fitted(self, "booster_", "LightGBMModel")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        model_path = directory / _MODEL_FILE
        booster.save_model(str(model_path))
        meta = {"kind": self.kind, "task": self.task, "params": self.params,
                "classes": labels_to_json(self.classes_), "n_features": int(booster.num_feature())}
        return sorted([model_path, write_meta(directory, meta)])

    @classmethod
    def load(cls, directory: Path) -> LightGBMModel:
        """Read a model written by :meth:`save` (``ModelError`` if files are missing/malformed)."""
        from atb.errors import ModelError

        lgb = require("lightgbm", "ml", "LightGBMModel")
        meta = read_meta(directory, cls.kind)
        path = Path(directory) / _MODEL_FILE
        if not path.is_file():
            raise ModelError(f"LightGBM model file {path} not found")
        model = cls(meta["task"], meta.get("params") or {})
        model.classes_ = classes_from_meta(meta)
        try:
            model.booster_ = lgb.Booster(model_file=str(path))
        except lgb.basic.LightGBMError as exc:
            raise ModelError(f"LightGBM model file {path} is malformed: {exc}") from None
        return model
