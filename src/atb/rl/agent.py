"""stable-baselines3 adapter: build an agent from :class:`RLConfig`, load a saved policy, act.

stable-baselines3 and torch are imported inside the functions (``[rl]`` extra), so ``import
atb.rl`` works without them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atb.core.extras import require
from atb.errors import ConfigError, ModelError
from atb.rl.account import Account, observation_vector
from atb.rl.actions import action_to_target, actions_to_targets
from atb.rl.artifact import METADATA_FILE, read_metadata
from atb.rl.config import RLConfig
from atb.rl.env import EnvInputs, env_inputs
from atb.rl.models import EnvTrade, PolicyRecord

__all__ = ["LoadedPolicy", "Rollout", "algorithm_class", "build_model", "load_policy", "rollout"]

_CLASSES = {"ppo": "PPO", "a2c": "A2C", "sac": "SAC"}


def algorithm_class(algorithm: str) -> Any:
    """The stable-baselines3 class of ``algorithm`` (``ppo``/``a2c``/``sac``).

    Raises
    ------
    MissingExtraError
        stable-baselines3 is not installed.
    ConfigError
        Unknown algorithm (names the field ``algorithm``).
    """
    sb3 = require("stable_baselines3", "rl", "RL agents")
    if algorithm not in _CLASSES:
        raise ConfigError(f"rl.algorithm: unknown algorithm {algorithm!r} (ppo, a2c, sac)")
    return getattr(sb3, _CLASSES[algorithm])


def build_model(config: RLConfig, env: Any) -> Any:
    """A fresh stable-baselines3 agent (``MlpPolicy``, CPU, seeded) for ``env``.

    PPO/A2C take ``n_steps`` and PPO/SAC ``batch_size`` when set; SAC's replay buffer holds
    ``min(total_timesteps, 1_000_000)`` transitions and learning starts after
    ``min(100, total_timesteps // 2)`` steps.
    """
    require("torch", "rl", "RL agents")
    cls = algorithm_class(config.algorithm)
    kwargs: dict[str, Any] = {
        "learning_rate": config.learning_rate, "gamma": config.gamma, "seed": config.seed,
        "device": "cpu", "verbose": 0, "policy_kwargs": {"net_arch": list(config.net_arch)},
    }
    if config.algorithm in ("ppo", "a2c") and config.n_steps is not None:
        kwargs["n_steps"] = config.n_steps
    if config.algorithm in ("ppo", "sac") and config.batch_size is not None:
        kwargs["batch_size"] = config.batch_size
    if config.algorithm == "sac":
        kwargs["buffer_size"] = min(config.total_timesteps, 1_000_000)
        kwargs["learning_starts"] = min(100, config.total_timesteps // 2)
    return cls("MlpPolicy", env, **kwargs)


def _empty_actions(n: int, config: RLConfig) -> np.ndarray:
    return np.full(n, -1, dtype=np.int64) if config.discrete else np.full(n, np.nan)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rollout:
    """The deterministic policy run over a candle series from flat, equity 1.0.

    Attributes
    ----------
    actions : ndarray
        Shape ``(n_candles,)``: see :meth:`LoadedPolicy.actions`.
    equity : ndarray
        Shape ``(n_candles,)``, float64: equity at each close (NaN before the first action row).
    trades : tuple of EnvTrade
        Closed trades (a position still open at the end is not included).
    fees_paid : float
        Fees paid, in units of the starting equity.
    """

    actions: np.ndarray
    equity: np.ndarray
    trades: tuple[EnvTrade, ...]
    fees_paid: float

    def metrics(self) -> dict[str, float]:
        """``train_return``, ``train_max_drawdown``, ``train_trades``, ``train_fees``, ``train_exposure``."""
        eq = self.equity[np.isfinite(self.equity)]
        if len(eq) == 0:
            return {"train_return": 0.0, "train_max_drawdown": 0.0, "train_trades": 0.0,
                    "train_fees": 0.0, "train_exposure": 0.0}
        peak = np.maximum.accumulate(np.maximum(eq, 1.0))
        held = sum(t.close_index - t.open_index for t in self.trades)
        return {"train_return": float(eq[-1] - 1.0), "train_max_drawdown": float(np.max(1.0 - eq / peak)),
                "train_trades": float(len(self.trades)), "train_fees": float(self.fees_paid),
                "train_exposure": float(held / len(eq))}


def rollout(model: Any, inputs: EnvInputs, config: RLConfig) -> Rollout:
    """Act deterministically on every row from ``inputs.first_row``, tracking the own position.

    Row ``t``'s observation uses features of rows ``<= t`` and the account at the close of ``t``;
    its action fills at the open of ``t + 1`` (:class:`~atb.rl.account.Account`), so row ``t``'s
    action never depends on later candles.

    Parameters
    ----------
    model : stable_baselines3 BaseAlgorithm
    inputs : EnvInputs
        :func:`atb.rl.env.env_inputs` of the candles.
    config : RLConfig
        The policy's configuration.

    Returns
    -------
    Rollout
    """
    n = len(inputs.close)
    out = _empty_actions(n, config)
    equity = np.full(n, np.nan)
    account = Account(config.fee)
    window = config.window
    policy = model.policy
    for t in range(inputs.first_row, n):
        close = float(inputs.close[t])
        equity[t] = account.equity(close)
        obs = observation_vector(inputs.features, t, window, account.state(close, t, window))
        action, _ = policy.predict(obs, deterministic=True)
        a = np.asarray(action).reshape(-1)[0]
        out[t] = a
        if t + 1 < n:
            account.execute(action_to_target(a, config), float(inputs.open[t + 1]), t + 1)
    return Rollout(actions=out, equity=equity, trades=tuple(account.trades),
                   fees_paid=account.fees_paid)


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A saved policy ready to act on candles.

    Attributes
    ----------
    record : PolicyRecord
        Its validated metadata.
    model : stable_baselines3 BaseAlgorithm
        The loaded agent (CPU).
    """

    record: PolicyRecord
    model: Any

    @property
    def config(self) -> RLConfig:
        """Configuration the policy was trained with."""
        return self.record.config

    @property
    def warmup(self) -> int:
        """Candles before the first row with an action, for the default features."""
        return self.config.norm_window + self.config.window - 1

    def actions(self, candles: pd.DataFrame, features: np.ndarray | None = None) -> np.ndarray:
        """Deterministic action per candle row, each from data up to that row.

        Row ``t``'s observation holds the features of rows ``<= t`` and the account state the
        policy itself would be in at the close of ``t`` having acted on its own earlier actions
        (filled at the following opens, :mod:`atb.rl.env`); the action then fills at the open of
        ``t + 1``. The first rows without a full observation window have no action.

        Parameters
        ----------
        candles : DataFrame
            One pair's candles (``date`` UTC candle open, ``open, high, low, close, volume``).
        features : ndarray, optional
            Required when the policy was trained on caller-supplied features (same columns).

        Returns
        -------
        ndarray
            Shape ``(n_candles,)``: int64 discrete actions with -1 for warm-up rows (PPO/A2C), or
            float64 target positions in ``[-1, 1]`` with NaN for warm-up rows (SAC).

        Raises
        ------
        ConfigError
            Features missing for a custom-feature policy, or of a different width.
        DataError
            Candles break the OHLCV contract.
        """
        spec = self.record.observation
        if spec.custom_features and features is None:
            raise ConfigError(f"{self.record.metadata_file}: the policy was trained on custom features "
                              f"({len(spec.feature_names)} columns); pass features=")
        if len(candles) == 0:
            return _empty_actions(0, self.config)
        inputs = env_inputs(candles, self.config, features if spec.custom_features else None)
        if inputs.features.shape[1] != len(spec.feature_names):
            raise ConfigError(f"features: {inputs.features.shape[1]} columns, the policy expects "
                              f"{len(spec.feature_names)}")
        return rollout(self.model, inputs, self.config).actions

    def targets(self, actions: np.ndarray) -> np.ndarray:
        """Signed target position per row of :meth:`actions` (NaN for warm-up rows)."""
        return actions_to_targets(actions, self.config)


def _policy_dir(path: Path | str) -> Path:
    path = Path(path)
    if path.is_dir():
        return path
    if path.name in (METADATA_FILE, "policy.zip"):
        return path.parent
    raise ModelError(f"RL policy not found: {path} (a folder with policy.json and policy.zip)")


def load_policy(path: Path | str) -> LoadedPolicy:
    """Load a policy saved by :func:`atb.rl.train.train_policy`.

    Parameters
    ----------
    path : Path or str
        The policy folder, or its ``policy.json`` / ``policy.zip``.

    Returns
    -------
    LoadedPolicy

    Raises
    ------
    ModelError
        Missing files, malformed ``policy.json`` or a field of it (the message names the file and
        the field), ``sha256`` not matching ``policy.zip``, or a zip stable-baselines3 cannot load
        or whose spaces differ from the metadata.
    MissingExtraError
        stable-baselines3 / torch are not installed.
    """
    record = read_metadata(_policy_dir(path))
    cls = algorithm_class(record.algorithm)
    try:
        with warnings.catch_warnings():
            # SB3 warns when a zip saved by another SB3/torch/python version is loaded; the hash
            # and the space check below are what atb relies on
            warnings.filterwarnings("ignore", category=UserWarning, module=r"stable_baselines3\..*")
            model = cls.load(str(record.policy_file), device="cpu")
    except Exception as exc:  # zip/pickle/torch errors of a corrupt artefact
        raise ModelError(f"{record.policy_file}: stable-baselines3 cannot load it: "
                         f"{type(exc).__name__}: {exc}") from exc
    shape = tuple(getattr(model.observation_space, "shape", ()) or ())
    if shape != (record.observation.size,):
        raise ModelError(f"{record.metadata_file}: field 'observation.size' is "
                         f"{record.observation.size}, the policy's observation shape is {shape}")
    return LoadedPolicy(record, model)
