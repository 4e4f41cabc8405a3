r"""Model registry on disk: versioned, hash-checked artefacts with their training metadata.

Layout::

    <root>/<name>/<version>/          version = 1, 2, ... (1 + the latest)
        metadata.json                 name, version, kind, task, features, train range (UTC ISO),
                                      metrics, params, files, sha256, created_at (UTC), atb_version, extra
        <artefact files>              copied from the directory given to register()

``sha256`` is the SHA-256 of, for each artefact file in sorted order of its POSIX relative path,
``path + "\n" + sha256(content) + "\n"`` (UTF-8). Registration copies into a temporary directory
under ``root`` and then renames it into place (``os.replace``), so a version directory is either
complete or absent; on any error the temporary directory is removed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Protocol

from atb.errors import ConfigError, ModelError
from atb.ml.ports import Model

__all__ = ["METADATA_FILE", "ModelIndex", "ModelRecord", "ModelRegistry", "artefact_sha256", "json_safe",
           "load_model"]

METADATA_FILE = "metadata.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRecord:
    """One registered model version.

    Attributes
    ----------
    name : str
    version : int
        1-based, increasing per name.
    path : Path
        The version directory.
    kind, task : str
        Model kind (``"lightgbm"``, ...) and ``"classification"``/``"regression"``.
    features : tuple of str
        Feature column names, in the order the model expects them.
    train_start, train_end : datetime
        UTC time range of the training data.
    metrics, params : dict
        Out-of-sample metrics and hyper-parameters (JSON values; NaN stored as null).
    sha256 : str
        Artefact hash (see the module docstring).
    created_at : datetime
        UTC registration time.
    files : tuple of str
        Artefact files, POSIX paths relative to ``path``, sorted.
    atb_version : str
    extra : dict
        Free-form JSON metadata.
    """

    name: str
    version: int
    path: Path
    kind: str
    task: str
    features: tuple[str, ...]
    train_start: datetime
    train_end: datetime
    metrics: dict[str, Any]
    params: dict[str, Any]
    sha256: str
    created_at: datetime
    files: tuple[str, ...] = ()
    atb_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class ModelIndex(Protocol):
    """A mirror of the registry (e.g. the run store's ``model_artifacts`` table)."""

    def add(self, record: ModelRecord) -> None:
        """Record a newly registered version."""
        ...

    def list(self) -> list[ModelRecord]:
        """All recorded versions, ordered by name then version."""
        ...


def json_safe(obj: Any) -> Any:
    """``obj`` as plain JSON values: numpy scalars unwrapped, NaN/inf as None, datetimes as UTC ISO."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, datetime):
        return _utc(obj, "value").isoformat()
    if isinstance(obj, bool | int | float | str) or obj is None:
        return obj
    return str(obj)


def _utc(dt: datetime, name: str) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise ConfigError(f"{name} must be a timezone-aware datetime (UTC), got {dt!r}")
    return dt.astimezone(UTC)


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")
                  if p.is_file() and p.relative_to(directory).as_posix() != METADATA_FILE)


def artefact_sha256(directory: Path, files: list[str] | tuple[str, ...]) -> str:
    """The registry hash of ``files`` (relative POSIX paths) under ``directory``."""
    total = hashlib.sha256()
    for rel in sorted(files):
        digest = hashlib.sha256((Path(directory) / rel).read_bytes()).hexdigest()
        total.update(f"{rel}\n{digest}\n".encode())
    return total.hexdigest()


def _atb_version() -> str:
    try:
        return package_version("atb")
    except PackageNotFoundError:
        return "unknown"


def _record(meta_path: Path) -> ModelRecord:
    """Parse a ``metadata.json``; ModelError names the file and the bad field."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model metadata {meta_path} is unreadable or not JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelError(f"model metadata {meta_path} is not a JSON object")
    fields = {"name": str, "version": int, "kind": str, "task": str, "features": list, "train_start": str,
              "train_end": str, "metrics": dict, "params": dict, "sha256": str, "created_at": str,
              "files": list}
    for key, typ in fields.items():
        if not isinstance(meta.get(key), typ):
            raise ModelError(f"model metadata {meta_path}: field '{key}' is missing or not a {typ.__name__}")
    times = {}
    for key in ("train_start", "train_end", "created_at"):
        try:
            times[key] = _utc(datetime.fromisoformat(meta[key]), key)
        except (ValueError, ConfigError):
            raise ModelError(f"model metadata {meta_path}: field '{key}' is not a UTC ISO time") from None
    return ModelRecord(name=meta["name"], version=meta["version"], path=meta_path.parent, kind=meta["kind"],
                       task=meta["task"], features=tuple(meta["features"]), metrics=meta["metrics"],
                       params=meta["params"], sha256=meta["sha256"], files=tuple(meta["files"]),
                       atb_version=str(meta.get("atb_version", "")), extra=dict(meta.get("extra") or {}),
                       **times)


class ModelRegistry:
    """Versioned model artefacts under ``root`` (see the module docstring).

    Parameters
    ----------
    root : Path
        Registry folder (created on first registration), e.g. ``user_data/models``.
    index : ModelIndex, optional
        Also told about every registration (e.g. :class:`atb.persistence.model_store.SqlModelIndex`).
    """

    def __init__(self, root: Path, index: ModelIndex | None = None) -> None:
        self.root = Path(root)
        self.index = index

    def _versions(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def register(self, name: str, artefact_dir: Path, *, kind: str, task: str, features: list[str],
                 train_start: datetime, train_end: datetime, metrics: dict[str, Any], params: dict[str, Any],
                 extra: dict[str, Any] | None = None) -> ModelRecord:
        """Copy the files of ``artefact_dir`` into a new version of ``name`` and record its metadata.

        Raises
        ------
        ConfigError
            Bad name (letters, digits, ``_.-``), naive datetimes, or ``train_end < train_start``.
        ModelError
            ``artefact_dir`` missing or empty.
        """
        if not _NAME.match(name):
            raise ConfigError(f"model name {name!r} must match {_NAME.pattern}")
        start, end = _utc(train_start, "train_start"), _utc(train_end, "train_end")
        if end < start:
            raise ConfigError(f"train_end {end.isoformat()} is before train_start {start.isoformat()}")
        src = Path(artefact_dir)
        files = _files(src) if src.is_dir() else []
        if not files:
            raise ModelError(f"artefact directory {src} is missing or holds no files")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-register-", dir=self.root))
        target: Path | None = None
        try:
            for rel in files:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / rel, tmp / rel)
            version = (self._versions(name) or [0])[-1] + 1
            meta = {"name": name, "version": version, "kind": kind, "task": task, "features": list(features),
                    "train_start": start.isoformat(), "train_end": end.isoformat(),
                    "metrics": json_safe(metrics), "params": json_safe(params), "files": files,
                    "sha256": artefact_sha256(tmp, files), "created_at": datetime.now(UTC).isoformat(),
                    "atb_version": _atb_version(), "extra": json_safe(extra or {})}
            (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
            (self.root / name).mkdir(exist_ok=True)
            target = self.root / name / str(version)
            os.replace(tmp, target)
            record = _record(target / METADATA_FILE)
            if self.index is not None:
                self.index.add(record)
            return record
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if target is not None and target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            raise

    def list(self) -> list[ModelRecord]:
        """Every registered version, ordered by name then version."""
        if not self.root.is_dir():
            return []
        names = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return [_record(self.root / n / str(v) / METADATA_FILE) for n in names for v in self._versions(n)]

    def get(self, name: str, version: int | None = None) -> ModelRecord:
        """One version of ``name`` (the latest if ``version`` is None).

        Raises
        ------
        ModelError
            No such model or version (the message names it).
        """
        versions = self._versions(name)
        if not versions:
            raise ModelError(f"no model named {name!r} in registry {self.root}")
        chosen = versions[-1] if version is None else version
        if chosen not in versions:
            raise ModelError(f"model {name!r} has no version {version} (versions: {versions})")
        return _record(self.root / name / str(chosen) / METADATA_FILE)

    def verify(self, record: ModelRecord) -> None:
        """Re-read ``metadata.json`` and re-hash the artefact files.

        Raises
        ------
        ModelError
            Malformed metadata, a listed file missing, or a hash mismatch (naming file and field).
        """
        meta_path = Path(record.path) / METADATA_FILE
        stored = _record(meta_path)
        missing = [f for f in stored.files if not (stored.path / f).is_file()]
        if missing:
            raise ModelError(f"model {record.name} v{record.version}: artefact file "
                             f"{stored.path / missing[0]} listed in {meta_path} is missing")
        actual = artefact_sha256(stored.path, stored.files)
        if actual != stored.sha256 or actual != record.sha256:
            raise ModelError(f"model {record.name} v{record.version}: field 'sha256' of {meta_path} "
                             f"({stored.sha256[:12]}) does not match the artefact files ({actual[:12]})")


def load_model(record: ModelRecord, *, prefer: str = "native", verify: bool = True) -> Model:
    """Load a registered model: native (``meta.json``) or ONNX (``model.onnx``) by the files present.

    Parameters
    ----------
    record : ModelRecord
    prefer : {"native", "onnx"}
        Which to load when both are present.
    verify : bool
        Check the hash first (:meth:`ModelRegistry.verify`).

    Raises
    ------
    ModelError
        Hash mismatch or no loadable artefact.
    """
    from atb.ml._common import META_FILE
    from atb.ml.adapters.onnx import ONNX_FILE, OnnxModel
    from atb.ml.factory import load_model_dir

    if prefer not in ("native", "onnx"):
        raise ConfigError(f"prefer must be 'native' or 'onnx', got {prefer!r}")
    if verify:
        ModelRegistry(Path(record.path).parent.parent).verify(record)
    path = Path(record.path)
    has_native, has_onnx = (path / META_FILE).is_file(), (path / ONNX_FILE).is_file()
    if has_onnx and (prefer == "onnx" or not has_native):
        return OnnxModel(path / ONNX_FILE)
    if has_native:
        return load_model_dir(path)
    raise ModelError(f"model {record.name} v{record.version} at {path} has neither {META_FILE} "
                     f"nor {ONNX_FILE}")
