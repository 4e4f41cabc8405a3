"""Schema of the reinforcement-learning configuration (environment, reward, agent, training)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atb.errors import ConfigError

__all__ = ["RLConfig", "load_rl_config"]


class RLConfig(BaseModel):
    """How the trading environment, its reward and the stable-baselines3 agent are set up.

    Attributes
    ----------
    algorithm : {"ppo", "a2c", "sac"}, default "ppo"
        stable-baselines3 algorithm. PPO/A2C act on a ``Discrete`` action space, SAC on a
        ``Box(-1, 1)`` target position (see :mod:`atb.rl.actions`).
    window : int, default 32
        Observation lookback in candles (the last ``window`` rows of every feature).
    position_sizes : tuple of float, default (0.5, 1.0)
        Fractions of equity a discrete action can open a position with, each in ``(0, 1]``,
        strictly increasing.
    allow_short : bool, default True
        Whether the agent can hold short positions (the backtest then needs ``can_short`` and a
        futures/margin trading mode).
    fee : float, default 0.001
        Fee rate charged on the traded notional on each side (ratio, not percent), like the
        backtest's ``fee``.
    reward : {"log_return"}, default "log_return"
        Base reward: ``log(equity_{t+1} / equity_t)``, net of fees (:mod:`atb.rl.reward`).
    drawdown_penalty : float, default 0.5
        Weight of the increase in drawdown from the running equity peak (ratio) per step.
    turnover_penalty : float, default 0.0
        Weight of ``|position_{t+1} - position_t|`` (fraction of equity) per step, on top of fees.
    risk_adjust : {"none", "vol"}, default "none"
        ``"vol"`` divides the reward by the rolling standard deviation of close-to-close log
        returns over ``vol_window`` candles ending at the decision candle.
    vol_window : int, default 48
        Candles of the ``risk_adjust="vol"`` standard deviation.
    norm_window : int, default 96
        Candles of the causal rolling statistics that normalise the default features
        (:func:`atb.rl.features.default_features`).
    flat_band : float, default 0.1
        SAC only: a continuous action ``a`` with ``|a| < flat_band`` means "flat".
    episode_length : int, default 1024
        Steps (candles) per training episode; episodes start at a random candle.
    total_timesteps : int, default 100000
        Environment steps of training.
    seed : int, default 0
        Seed of the agent, the environment's episode starts and torch.
    net_arch : tuple of int, default (64, 64)
        Hidden layer sizes of the policy (and value/Q) MLPs.
    learning_rate : float, default 0.0003
    gamma : float, default 0.99
        Discount factor.
    n_steps : int or None, default None
        PPO/A2C rollout length per update; ``None`` = the algorithm's default (PPO 2048, A2C 5).
    batch_size : int or None, default None
        PPO/SAC minibatch size; ``None`` = the algorithm's default (PPO 64, SAC 256).
    torch_threads : int, default 1
        torch intra-op threads while training (restored afterwards); small MLPs gain little from
        more and lose much when cores are shared.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["ppo", "a2c", "sac"] = "ppo"
    window: int = Field(default=32, ge=1, le=4096)
    position_sizes: tuple[float, ...] = (0.5, 1.0)
    allow_short: bool = True
    fee: float = Field(default=0.001, ge=0.0, lt=0.5)
    reward: Literal["log_return"] = "log_return"
    drawdown_penalty: float = Field(default=0.5, ge=0.0)
    turnover_penalty: float = Field(default=0.0, ge=0.0)
    risk_adjust: Literal["none", "vol"] = "none"
    vol_window: int = Field(default=48, ge=2)
    norm_window: int = Field(default=96, ge=2)
    flat_band: float = Field(default=0.1, ge=0.0, lt=1.0)
    episode_length: int = Field(default=1024, ge=2)
    total_timesteps: int = Field(default=100_000, ge=1)
    seed: int = Field(default=0, ge=0)
    net_arch: tuple[int, ...] = (64, 64)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    gamma: float = Field(default=0.99, gt=0.0, le=1.0)
    n_steps: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=2)
    torch_threads: int = Field(default=1, ge=1, le=256)

    @field_validator("position_sizes")
    @classmethod
    def _sizes(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if not v:
            raise ValueError("at least one position size is needed")
        if any(not 0.0 < s <= 1.0 for s in v):
            raise ValueError("every position size must be in (0, 1]")
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("position sizes must be strictly increasing")
        return tuple(float(s) for s in v)

    @field_validator("net_arch")
    @classmethod
    def _net_arch(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(n < 1 for n in v):
            raise ValueError("net_arch needs at least one layer, each with >= 1 unit")
        return v

    @property
    def discrete(self) -> bool:
        """Whether the algorithm uses the discrete action space (PPO, A2C)."""
        return self.algorithm in ("ppo", "a2c")


def load_rl_config(data: Mapping[str, Any] | RLConfig | None, where: str = "rl") -> RLConfig:
    """Validate a mapping (e.g. the ``rl`` section of a config) into :class:`RLConfig`.

    Parameters
    ----------
    data : mapping, RLConfig or None
        ``None`` gives the defaults.
    where : str
        Prefix of the field path in error messages.

    Returns
    -------
    RLConfig

    Raises
    ------
    ConfigError
        Unknown key or invalid value; the message names the field as ``<where>.<field>``.

    Examples
    --------
    >>> load_rl_config({"algorithm": "a2c"}).algorithm
    'a2c'
    """
    if data is None:
        return RLConfig()
    if isinstance(data, RLConfig):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping, got {type(data).__name__}")
    try:
        return RLConfig.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{where}.{loc}: {msg} (got {err.get('input')!r})") from None
