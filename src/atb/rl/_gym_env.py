"""The gymnasium class of the trading environment (imported only through :func:`atb.rl.env.make_env`).

gymnasium is imported at module import because the class subclasses ``gymnasium.Env``; nothing
imports this module unless the ``[rl]`` extra is present.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from atb.rl.account import Account, observation_vector
from atb.rl.actions import action_to_target, n_discrete_actions
from atb.rl.config import RLConfig
from atb.rl.env import EnvInputs
from atb.rl.reward import step_reward

__all__ = ["TradingEnv"]


class TradingEnv(gym.Env[np.ndarray, Any]):
    """One pair, one position at a time; semantics in :mod:`atb.rl.env`.

    Parameters
    ----------
    inputs : EnvInputs
        From :func:`atb.rl.env.env_inputs`.
    config : RLConfig
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, inputs: EnvInputs, config: RLConfig) -> None:
        super().__init__()
        self.inputs = inputs
        self.config = config
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(inputs.spec.size,),
                                                dtype=np.float32)
        if config.discrete:
            self.action_space: Any = gym.spaces.Discrete(n_discrete_actions(config))
        else:
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.account = Account(config.fee)
        self.row = inputs.first_reward_row
        self.end_row = self.row
        self.peak = 1.0

    def _observation(self) -> np.ndarray:
        state = self.account.state(float(self.inputs.close[self.row]), self.row, self.config.window)
        return observation_vector(self.inputs.features, self.row, self.config.window, state)

    def _info(self, trade: Any = None) -> dict[str, Any]:
        equity = self.account.equity(float(self.inputs.close[self.row]))
        return {"equity": equity, "position": self.account.position,
                "fees_paid": self.account.fees_paid, "trades": len(self.account.trades),
                "trade": trade, "drawdown": 1.0 - equity / self.peak, "row": self.row}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start flat with equity 1.0 at ``options["start"]`` or a random decision candle."""
        super().reset(seed=seed)
        n = len(self.inputs.close)
        lo = self.inputs.first_reward_row
        last = n - 1 - self.config.episode_length  # the last start that fits a full episode
        if options and options.get("start") is not None:
            start = int(options["start"])
            if not lo <= start < n - 1:
                raise ValueError(f"start row {start} outside [{lo}, {n - 2}]")
        elif last > lo:
            start = int(self.np_random.integers(lo, last + 1))
        else:
            start = lo
        self.row = start
        self.end_row = min(start + self.config.episode_length, n - 1)
        self.account = Account(self.config.fee)
        self.peak = 1.0
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Fill ``action`` at the next candle's open, mark at its close, return the reward."""
        t = self.row
        acc = self.account
        equity_prev = acc.equity(float(self.inputs.close[t]))
        position_prev = acc.position
        trade = acc.execute(action_to_target(action, self.config), float(self.inputs.open[t + 1]), t + 1)
        equity_new = acc.equity(float(self.inputs.close[t + 1]))
        reward, self.peak = step_reward(equity_prev, equity_new, self.peak, position_prev,
                                        acc.position, self.config, float(self.inputs.sigma[t]))
        self.row = t + 1
        terminated = not equity_new > 0.0
        truncated = self.row >= self.end_row and not terminated
        if not math.isfinite(reward):
            reward = -1e6
        return self._observation(), float(reward), terminated, truncated, self._info(trade)
