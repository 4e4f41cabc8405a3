"""Train a policy on one pair's candles and save it atomically (``policy.zip`` + ``policy.json``)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atb.core.extras import require
from atb.errors import ConfigError, DataError
from atb.rl.agent import build_model, rollout
from atb.rl.artifact import METADATA_FILE, POLICY_FILE, atb_version, file_sha256, record_to_json
from atb.rl.config import RLConfig, load_rl_config
from atb.rl.env import make_env
from atb.rl.models import PolicyRecord

__all__ = ["train_policy"]


def _utc(value: Any) -> datetime:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _publish(tmp: Path, out_dir: Path) -> None:
    """Move the finished files from ``tmp`` into ``out_dir`` (metadata last)."""
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    for name in (POLICY_FILE, METADATA_FILE):
        os.replace(tmp / name, out_dir / name)
    shutil.rmtree(tmp, ignore_errors=True)


def train_policy(candles: pd.DataFrame, config: RLConfig | Mapping[str, Any], *, out_dir: Path,
                 pair: str, timeframe: str, features: np.ndarray | None = None) -> PolicyRecord:
    """Train a stable-baselines3 agent on ``candles`` and save it to ``out_dir``.

    The agent (``config.algorithm``: PPO, A2C or SAC; ``MlpPolicy``, CPU, seeded with
    ``config.seed``) learns for ``config.total_timesteps`` steps of :func:`atb.rl.env.make_env`.
    ``out_dir`` then holds ``policy.zip`` (stable-baselines3's format) and ``policy.json``
    (:mod:`atb.rl.artifact`: algorithm, config, observation layout, pair, timeframe, UTC training
    range, SHA-256 of ``policy.zip``, atb version, in-sample metrics of the deterministic policy
    over the training candles). Files are written to a temporary folder beside
    ``out_dir`` and moved in only after training and saving succeeded: on failure nothing is
    written. An existing policy in ``out_dir`` is replaced (``policy.zip`` first, then
    ``policy.json``).

    Parameters
    ----------
    candles : DataFrame
        Training candles of one pair: ``date`` (UTC candle open), ``open, high, low, close``
        (quote currency), ``volume``.
    config : RLConfig or mapping
        A mapping is validated with :func:`atb.rl.config.load_rl_config`.
    out_dir : Path
        Folder of the saved policy (created with its parents).
    pair : str
        Pair of the candles, e.g. ``BTC/USDT`` (metadata).
    timeframe : str
        Timeframe of the candles, e.g. ``1h`` (metadata; the RLAgent strategy checks it).
    features : ndarray, optional
        Causal per-candle features, shape ``(n_candles, n_features)``, instead of the defaults;
        inference then needs the same features.

    Returns
    -------
    PolicyRecord
        Metadata of the saved policy; load it with :func:`atb.rl.agent.load_policy`.

    Raises
    ------
    ConfigError
        Invalid config (names the field), empty ``pair``/``timeframe``, or ``out_dir`` is a file.
    DataError
        Invalid or too few candles.
    MissingExtraError
        gymnasium / stable-baselines3 / torch are not installed (``pip install 'atb[rl]'``).
    """
    cfg = load_rl_config(config)
    if not pair or not isinstance(pair, str):
        raise ConfigError("pair: must be a non-empty string such as 'BTC/USDT'")
    if not timeframe or not isinstance(timeframe, str):
        raise ConfigError("timeframe: must be a non-empty string such as '1h'")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"out_dir: {out_dir} exists and is not a folder")
    if len(candles) == 0:
        raise DataError(f"no candles to train on for {pair} {timeframe}")
    env = make_env(candles, cfg, features)
    inputs = env.unwrapped.inputs
    torch = require("torch", "rl", "train_policy")
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.torch_threads)
    try:
        model = build_model(cfg, env)
        t0 = time.perf_counter()
        model.learn(total_timesteps=cfg.total_timesteps)
    finally:
        torch.set_num_threads(threads)
    metrics = {**rollout(model, inputs, cfg).metrics(), "timesteps": float(cfg.total_timesteps),
               "train_seconds": time.perf_counter() - t0}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        model.save(str(tmp / POLICY_FILE))
        record = PolicyRecord(
            directory=out_dir, algorithm=cfg.algorithm, config=cfg, observation=inputs.spec,
            pair=pair, timeframe=timeframe, train_start=_utc(candles["date"].iloc[0]),
            train_end=_utc(candles["date"].iloc[-1]), n_candles=len(candles),
            sha256=file_sha256(tmp / POLICY_FILE), atb_version=atb_version(),
            created_at=datetime.now(UTC), metrics=metrics,
        )
        (tmp / METADATA_FILE).write_text(json.dumps(record_to_json(record), indent=2) + "\n",
                                         encoding="utf-8")
        _publish(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record
