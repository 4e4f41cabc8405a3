"""``policy.json``: the metadata saved beside a stable-baselines3 ``policy.zip``.

Fields (JSON object)::

    format           "atb-rl-policy"
    format_version   1
    algorithm        "ppo" | "a2c" | "sac"
    config           RLConfig as JSON (every field)
    observation      {"window", "feature_names", "custom_features", "norm_window", "size"}
    pair, timeframe  e.g. "BTC/USDT", "1h"
    train_start      ISO 8601 UTC open time of the first training candle
    train_end        ISO 8601 UTC open time of the last training candle
    n_candles        training candles
    policy_file      "policy.zip"
    sha256           SHA-256 hex digest of policy.zip
    atb_version      version of atb that trained it
    created_at       ISO 8601 UTC save time
    metrics          {name: number}: PolicyRecord.metrics
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from atb.errors import ConfigError, ModelError
from atb.rl.config import load_rl_config
from atb.rl.models import ObservationSpec, PolicyRecord

__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_FILE", "POLICY_FILE", "atb_version", "file_sha256",
           "read_metadata", "record_to_json"]

FORMAT = "atb-rl-policy"
FORMAT_VERSION = 1
POLICY_FILE = "policy.zip"
METADATA_FILE = "policy.json"


def atb_version() -> str:
    """Installed atb version (``unknown`` outside an installed distribution)."""
    try:
        return package_version("atb")
    except PackageNotFoundError:
        return "unknown"


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def record_to_json(record: PolicyRecord) -> dict[str, Any]:
    """The ``policy.json`` object of ``record`` (field list in the module docstring)."""
    obs = record.observation
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algorithm": record.algorithm,
        "config": record.config.model_dump(mode="json"),
        "observation": {"window": obs.window, "feature_names": list(obs.feature_names),
                        "custom_features": obs.custom_features, "norm_window": obs.norm_window,
                        "size": obs.size},
        "pair": record.pair,
        "timeframe": record.timeframe,
        "train_start": record.train_start.isoformat(),
        "train_end": record.train_end.isoformat(),
        "n_candles": record.n_candles,
        "policy_file": POLICY_FILE,
        "sha256": record.sha256,
        "atb_version": record.atb_version,
        "created_at": record.created_at.isoformat(),
        "metrics": {k: float(v) for k, v in record.metrics.items()},
    }


def _field(meta: dict[str, Any], name: str, kind: type | tuple[type, ...], where: Path) -> Any:
    if name not in meta:
        raise ModelError(f"{where}: field '{name}' is missing")
    value = meta[name]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ModelError(f"{where}: field '{name}' has the wrong type ({type(value).__name__})")
    return value


def _utc(meta: dict[str, Any], name: str, where: Path) -> datetime:
    text = _field(meta, name, str, where)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ModelError(f"{where}: field '{name}' is not an ISO 8601 time: {text!r}") from exc
    if dt.tzinfo is None:
        raise ModelError(f"{where}: field '{name}' has no UTC offset: {text!r}")
    return dt.astimezone(UTC)


def _observation(meta: dict[str, Any], where: Path) -> ObservationSpec:
    obs = _field(meta, "observation", dict, where)
    try:
        spec = ObservationSpec(window=int(obs["window"]),
                               feature_names=tuple(str(x) for x in obs["feature_names"]),
                               custom_features=bool(obs["custom_features"]),
                               norm_window=int(obs["norm_window"]))
        size = int(obs["size"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{where}: field 'observation' is malformed: {exc!r}") from exc
    if size != spec.size:
        raise ModelError(f"{where}: field 'observation.size' is {size}, its layout gives {spec.size}")
    return spec


def _metrics(meta: dict[str, Any], where: Path) -> dict[str, float]:
    raw = meta.get("metrics", {})
    if not isinstance(raw, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in raw.values()):
        raise ModelError(f"{where}: field 'metrics' must map names to numbers")
    return {str(k): float(v) for k, v in raw.items()}


def read_metadata(directory: Path) -> PolicyRecord:
    """Read and validate ``directory/policy.json`` and check the hash of ``policy.zip``.

    Raises
    ------
    ModelError
        A file is missing, the JSON is malformed, a field is missing or invalid (the message names
        the file and the field), or ``sha256`` does not match ``policy.zip``.
    """
    meta_path = directory / METADATA_FILE
    policy_path = directory / POLICY_FILE
    if not meta_path.is_file():
        raise ModelError(f"RL policy metadata not found: {meta_path}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path}: malformed JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ModelError(f"{meta_path}: expected a JSON object")
    if meta.get("format") != FORMAT:
        raise ModelError(f"{meta_path}: field 'format' is {meta.get('format')!r}, expected {FORMAT!r}")
    if _field(meta, "format_version", int, meta_path) != FORMAT_VERSION:
        raise ModelError(f"{meta_path}: field 'format_version' {meta['format_version']} is not "
                         f"supported (expected {FORMAT_VERSION})")
    try:
        config = load_rl_config(_field(meta, "config", dict, meta_path), "config")
    except ConfigError as exc:
        raise ModelError(f"{meta_path}: field {exc}") from exc
    algorithm = _field(meta, "algorithm", str, meta_path)
    if algorithm != config.algorithm:
        raise ModelError(f"{meta_path}: field 'algorithm' ({algorithm!r}) does not match "
                         f"config.algorithm ({config.algorithm!r})")
    record = PolicyRecord(
        directory=directory, algorithm=algorithm, config=config,
        observation=_observation(meta, meta_path), pair=_field(meta, "pair", str, meta_path),
        timeframe=_field(meta, "timeframe", str, meta_path),
        train_start=_utc(meta, "train_start", meta_path), train_end=_utc(meta, "train_end", meta_path),
        n_candles=_field(meta, "n_candles", int, meta_path),
        sha256=_field(meta, "sha256", str, meta_path),
        atb_version=_field(meta, "atb_version", str, meta_path),
        created_at=_utc(meta, "created_at", meta_path), metrics=_metrics(meta, meta_path),
    )
    if record.observation.window != config.window or record.observation.norm_window != config.norm_window:
        raise ModelError(f"{meta_path}: field 'observation' does not match config.window/norm_window")
    if not policy_path.is_file():
        raise ModelError(f"RL policy file not found: {policy_path} (named by {meta_path})")
    actual = file_sha256(policy_path)
    if actual != record.sha256:
        raise ModelError(f"{meta_path}: field 'sha256' ({record.sha256[:12]}) does not match "
                         f"{policy_path} ({actual[:12]})")
    return record
