"""Shared helpers of the model adapters: input checks, label encoding, artefact metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from atb.errors import ConfigError, DataError, ModelError

#: Name of the metadata file every native artefact directory holds.
META_FILE = "meta.json"
TASKS = ("classification", "regression")


def check_task(task: str) -> str:
    """Return ``task`` or raise :class:`ConfigError` naming it."""
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return task


def as_matrix(X: Any, *, name: str = "X") -> np.ndarray:
    """``X`` as a C-contiguous float64 matrix ``(n, k)``; raises :class:`DataError` otherwise."""
    arr = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if arr.ndim != 2:
        raise DataError(f"{name} must be a 2-D matrix (rows, features), got shape {arr.shape}")
    return arr


def check_xy(X: Any, y: Any, sample_weight: Any = None, *, allow_nan_y: bool = False
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a training set; returns float64 ``X (n, k)``, ``y (n,)``, weights ``(n,)`` or None."""
    Xa = as_matrix(X)
    ya = np.asarray(y)
    if ya.ndim != 1 or len(ya) != len(Xa):
        raise DataError(f"y must have shape ({len(Xa)},), got {ya.shape}")
    if len(Xa) == 0:
        raise DataError("cannot fit a model on zero rows")
    if ya.dtype.kind == "f" and not allow_nan_y and np.isnan(ya).any():
        raise DataError("y contains NaN (unknown labels must be removed before fit)")
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.shape != ya.shape or not np.isfinite(w).all() or (w < 0).any():
            raise DataError("sample_weight must be finite, non-negative, shape (n,)")
    return Xa, ya, w


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and each row's index into them (int64), for classifiers.

    Raises
    ------
    DataError
        Fewer than two classes (nothing to learn).
    """
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"classification needs at least two classes in y, got {classes.tolist()}")
    return classes, codes.astype(np.int64)


def labels_to_json(classes: np.ndarray) -> list[Any]:
    """Class labels as JSON scalars (ints stay ints, floats that are whole become ints)."""
    out: list[Any] = []
    for c in np.asarray(classes).tolist():
        out.append(int(c) if isinstance(c, float) and c.is_integer() else c)
    return out


def write_meta(directory: Path, meta: dict[str, Any]) -> Path:
    """Write ``meta.json`` (sorted keys) into ``directory`` (created); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / META_FILE
    path.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return path


def read_meta(directory: Path, kind: str | None = None) -> dict[str, Any]:
    """Read ``meta.json``; check its ``kind`` if given.

    Raises
    ------
    ModelError
        File missing, not JSON, or of another kind (the message names file and field).
    """
    path = Path(directory) / META_FILE
    if not path.is_file():
        raise ModelError(f"model metadata {path} not found")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model metadata {path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or "kind" not in meta or "task" not in meta:
        raise ModelError(f"model metadata {path} lacks field 'kind' or 'task'")
    if kind is not None and meta["kind"] != kind:
        raise ModelError(f"model metadata {path}: field 'kind' is {meta['kind']!r}, expected {kind!r}")
    return meta


def classes_from_meta(meta: dict[str, Any]) -> np.ndarray:
    """The ``classes`` list of a metadata dict as an array (empty for regressors)."""
    return np.asarray(meta.get("classes") or [])


def require_fitted(obj: Any, attr: str, name: str) -> Any:
    """Return ``obj.<attr>`` or raise :class:`ModelError` saying ``name`` is not fitted."""
    value = getattr(obj, attr, None)
    if value is None:
        raise ModelError(f"{name} is not fitted: call fit() or load() first")
    return value


def require_classifier(task: str, name: str) -> None:
    """Raise :class:`ModelError` unless ``task`` is classification (for ``predict_proba``)."""
    if task != "classification":
        raise ModelError(f"{name} is a regressor: predict_proba is only defined for classifiers")
