"""Explicit registry of model kinds: name -> builder, and artefact directory -> loaded model.

No string title-casing or dynamic lookup: every kind is listed in :data:`MODEL_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from atb.errors import ConfigError, ModelError
from atb.ml._common import META_FILE, check_task, read_meta
from atb.ml.ports import Model, Task

__all__ = ["MODEL_KINDS", "create_model", "load_model_dir"]


def _lightgbm(task: Task, params: dict[str, Any]) -> Model:
    from atb.ml.adapters.lightgbm import LightGBMModel

    return LightGBMModel(task, params)


def _sklearn(kind: str) -> Callable[[Task, dict[str, Any]], Model]:
    def build(task: Task, params: dict[str, Any]) -> Model:
        from atb.ml.adapters.sklearn import SklearnModel

        return SklearnModel.from_kind(kind, task, params)

    return build


def _torch(kind: str) -> Callable[[Task, dict[str, Any]], Model]:
    def build(task: Task, params: dict[str, Any]) -> Model:
        from atb.ml.adapters.torch_nets import TorchSequenceModel

        return TorchSequenceModel(kind, task, params)

    return build


#: kind -> builder ``(task, params) -> Model``. "lightgbm" is the default kind.
MODEL_KINDS: dict[str, Callable[[Task, dict[str, Any]], Model]] = {
    "lightgbm": _lightgbm,
    "logistic": _sklearn("logistic"),
    "ridge": _sklearn("ridge"),
    "random_forest": _sklearn("random_forest"),
    "extra_trees": _sklearn("extra_trees"),
    "gradient_boosting": _sklearn("gradient_boosting"),
    "hist_gradient_boosting": _sklearn("hist_gradient_boosting"),
    "lstm": _torch("lstm"),
    "transformer": _torch("transformer"),
}


def create_model(kind: str = "lightgbm", task: str = "classification",
                 params: dict[str, Any] | None = None) -> Model:
    """A fresh, untrained model of a registered kind.

    Parameters
    ----------
    kind : str
        One of :data:`MODEL_KINDS` (default ``"lightgbm"``).
    task : {"classification", "regression"}
    params : dict, optional
        Hyper-parameters overriding the kind's defaults.

    Raises
    ------
    ConfigError
        Unknown kind (the message lists the valid ones), bad task, or a parameter the kind rejects.

    Examples
    --------
    >>> create_model("ridge", "regression").kind
    'ridge'
    """
    if kind not in MODEL_KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; valid kinds: {', '.join(sorted(MODEL_KINDS))}")
    return MODEL_KINDS[kind](check_task(task), dict(params or {}))  # type: ignore[arg-type]


def load_model_dir(directory: Path) -> Model:
    """Load a native artefact directory (``meta.json`` + model file), dispatching on its ``kind``.

    Raises
    ------
    ModelError
        Missing/malformed ``meta.json`` or a kind no loader knows.
    """
    meta = read_meta(Path(directory))
    kind = meta["kind"]
    if kind == "lightgbm":
        from atb.ml.adapters.lightgbm import LightGBMModel

        return LightGBMModel.load(directory)
    if kind in ("lstm", "transformer"):
        from atb.ml.adapters.torch_nets import TorchSequenceModel

        return TorchSequenceModel.load(directory)
    if kind == "ensemble":
        from atb.ml.ensemble import AdaptiveEnsemble

        return AdaptiveEnsemble.load(directory)
    if kind in MODEL_KINDS or kind == "sklearn":
        from atb.ml.adapters.sklearn import SklearnModel

        return SklearnModel.load(directory)
    raise ModelError(f"{Path(directory) / META_FILE}: field 'kind' has unknown value {kind!r}")
