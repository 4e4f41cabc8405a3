"""scikit-learn adapter: wraps any estimator; named kinds for the common ones.

Kinds (``build_sklearn_estimator``):

============== ============================================ ==========================================
kind           classification                               regression
============== ============================================ ==========================================
logistic       StandardScaler + LogisticRegression          (classification only)
ridge          (regression only)                            StandardScaler + Ridge
random_forest  RandomForestClassifier                       RandomForestRegressor
extra_trees    ExtraTreesClassifier                         ExtraTreesRegressor
gradient_boosting GradientBoostingClassifier                GradientBoostingRegressor
hist_gradient_boosting HistGradientBoostingClassifier       HistGradientBoostingRegressor
============== ============================================ ==========================================

Tree ensembles get ``random_state=42`` and ``n_jobs=1`` unless ``params`` say otherwise. Class
labels are encoded to ``0..n_classes-1`` before fitting (``classes_`` keeps the originals).
Artefacts are pickled (``model.pkl``): load only files you trust (the registry checks their
SHA-256 against ``metadata.json`` first).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, ModelError
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

__all__ = ["SKLEARN_KINDS", "SklearnModel", "build_sklearn_estimator"]

_MODEL_FILE = "model.pkl"
_SEEDED = {"random_state": 42}
_TREES = {"random_state": 42, "n_jobs": 1}

#: kind -> (classifier spec, regressor spec); a spec is (module, class, defaults, scaled) or None.
SKLEARN_KINDS: dict[str, tuple[tuple[str, str, dict[str, Any], bool] | None,
                               tuple[str, str, dict[str, Any], bool] | None]] = {
    "logistic": (("sklearn.linear_model", "LogisticRegression", {"max_iter": 1000}, True), None),
    "ridge": (None, ("sklearn.linear_model", "Ridge", {}, True)),
    "random_forest": (("sklearn.ensemble", "RandomForestClassifier",
                       {"n_estimators": 100, "min_samples_leaf": 5, **_TREES}, False),
                      ("sklearn.ensemble", "RandomForestRegressor",
                       {"n_estimators": 100, "min_samples_leaf": 5, **_TREES}, False)),
    "extra_trees": (("sklearn.ensemble", "ExtraTreesClassifier",
                     {"n_estimators": 100, "min_samples_leaf": 5, **_TREES}, False),
                    ("sklearn.ensemble", "ExtraTreesRegressor",
                     {"n_estimators": 100, "min_samples_leaf": 5, **_TREES}, False)),
    "gradient_boosting": (("sklearn.ensemble", "GradientBoostingClassifier", dict(_SEEDED), False),
                          ("sklearn.ensemble", "GradientBoostingRegressor", dict(_SEEDED), False)),
    "hist_gradient_boosting": (
        ("sklearn.ensemble", "HistGradientBoostingClassifier", dict(_SEEDED), False),
        ("sklearn.ensemble", "HistGradientBoostingRegressor", dict(_SEEDED), False)),
}


def build_sklearn_estimator(kind: str, task: str, params: dict[str, Any] | None = None) -> Any:
    """A fresh estimator of ``kind`` for ``task`` with defaults overridden by ``params``.

    Raises
    ------
    ConfigError
        Unknown kind, or a kind that does not support the task (e.g. ``ridge`` classifier).
    """
    if kind not in SKLEARN_KINDS:
        valid = ", ".join(sorted(SKLEARN_KINDS))
        raise ConfigError(f"unknown scikit-learn model kind {kind!r}; valid: {valid}")
    spec = SKLEARN_KINDS[kind][0 if check_task(task) == "classification" else 1]
    if spec is None:
        raise ConfigError(f"model kind {kind!r} does not support task {task!r}")
    module, name, defaults, scaled = spec
    cls = getattr(require(module, "ml", f"model kind {kind!r}"), name)
    try:
        est = cls(**{**defaults, **(params or {})})
    except TypeError as exc:
        raise ConfigError(f"bad parameter for model kind {kind!r}: {exc}") from None
    if scaled:
        pipeline = require("sklearn.pipeline", "ml", f"model kind {kind!r}")
        preprocessing = require("sklearn.preprocessing", "ml", f"model kind {kind!r}")
        est = pipeline.make_pipeline(preprocessing.StandardScaler(), est)
    return est


class SklearnModel:
    """Any scikit-learn estimator behind the :class:`~atb.ml.ports.Model` port.

    Parameters
    ----------
    estimator : sklearn estimator
        Unfitted; a classifier needs ``predict_proba``. Pipelines are fine (sample weights go
        to the last step).
    task : {"classification", "regression"}
    kind : str
        Registry name recorded in the artefact (``"sklearn"`` for a custom estimator).
    params : dict, optional
        The parameters it was built with (recorded only).
    """

    lookback = 1

    def __init__(self, estimator: Any, task: Task = "classification", *, kind: str = "sklearn",
                 params: dict[str, Any] | None = None) -> None:
        self.task: Task = check_task(task)  # type: ignore[assignment]
        if self.task == "classification" and not hasattr(estimator, "predict_proba"):
            raise ConfigError(f"estimator {type(estimator).__name__} has no predict_proba")
        self.estimator = estimator
        self.kind = kind
        self.params: dict[str, Any] = dict(params or {})
        self.classes_: np.ndarray = np.asarray([])
        self._fitted = False

    @classmethod
    def from_kind(cls, kind: str, task: Task, params: dict[str, Any] | None = None) -> SklearnModel:
        """Build a named kind (see the module table)."""
        return cls(build_sklearn_estimator(kind, task, params), task, kind=kind, params=params)

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Train on float64 ``X (n, k)``, labels/targets ``y (n,)``, optional weights ``(n,)``."""
        Xa, ya, w = check_xy(X, y, sample_weight)
        if self.task == "classification":
            self.classes_, target = encode_labels(ya)
        else:
            target = ya.astype(np.float64)
        kwargs: dict[str, Any] = {}
        if w is not None:
            steps = getattr(self.estimator, "steps", None)
            kwargs = {f"{steps[-1][0]}__sample_weight": w} if steps else {"sample_weight": w}
        self.estimator.fit(Xa, target, **kwargs)
        self._fitted = True

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` in the order of ``classes_``."""
        require_classifier(self.task, "SklearnModel")
        if not self._fitted:
            raise ModelError("SklearnModel is not fitted: call fit() or load() first")
        return np.asarray(self.estimator.predict_proba(as_matrix(X)), dtype=np.float64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class label (classifier) or predicted value (regressor), shape ``(n,)``."""
        if self.task == "classification":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        if not self._fitted:
            raise ModelError("SklearnModel is not fitted: call fit() or load() first")
        return np.asarray(self.estimator.predict(as_matrix(X)), dtype=np.float64)

    def save(self, directory: Path) -> list[Path]:
        """Pickle the estimator (``model.pkl``) and write ``meta.json`` into ``directory``."""
        require_fitted(self, "estimator", "SklearnModel")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / _MODEL_FILE
        path.write_bytes(pickle.dumps(self.estimator, protocol=pickle.HIGHEST_PROTOCOL))
        meta = {"kind": self.kind, "task": self.task, "params": self.params,
                "classes": labels_to_json(self.classes_),
                "estimator": f"{type(self.estimator).__module__}.{type(self.estimator).__name__}"}
        return sorted([path, write_meta(directory, meta)])

    @classmethod
    def load(cls, directory: Path) -> SklearnModel:
        """Read a model written by :meth:`save` (only from trusted, hash-checked files)."""
        meta = read_meta(directory)
        path = Path(directory) / _MODEL_FILE
        if not path.is_file():
            raise ModelError(f"scikit-learn model file {path} not found")
        require("sklearn", "ml", "SklearnModel")
        try:
            estimator = pickle.loads(path.read_bytes())  # noqa: S301 - hash-checked artefact
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ModelError(f"scikit-learn model file {path} is malformed: {exc}") from None
        model = cls(estimator, meta["task"], kind=meta["kind"], params=meta.get("params"))
        model.classes_ = classes_from_meta(meta)
        model._fitted = True
        return model
