"""Reinforcement learning: a gymnasium environment with the backtest's fill and fee semantics, agents.

``import atb.rl`` needs no optional package; gymnasium, stable-baselines3 and torch (the ``[rl]``
extra) are imported when an environment is made or an agent is trained or loaded.

* :class:`RLConfig` - environment, reward and agent settings (:mod:`atb.rl.config`);
* :func:`make_env` - the trading environment (:mod:`atb.rl.env`);
* :func:`train_policy` / :func:`load_policy` - train and save, load and act (:mod:`atb.rl.train`,
  :mod:`atb.rl.agent`);
* :func:`actions_to_signals` - actions as freqtrade signal columns (:mod:`atb.rl.actions`); the
  built-in strategy ``RLAgent`` (:mod:`atb.strategies.rl_agent`) backtests a saved policy.
"""

from __future__ import annotations

from atb.rl.actions import actions_to_signals, implied_entries
from atb.rl.agent import LoadedPolicy, load_policy
from atb.rl.config import RLConfig, load_rl_config
from atb.rl.env import make_env
from atb.rl.models import EnvTrade, ObservationSpec, PolicyRecord
from atb.rl.train import train_policy

__all__ = [
    "EnvTrade",
    "LoadedPolicy",
    "ObservationSpec",
    "PolicyRecord",
    "RLConfig",
    "actions_to_signals",
    "implied_entries",
    "load_policy",
    "load_rl_config",
    "make_env",
    "train_policy",
]
