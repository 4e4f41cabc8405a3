"""Frozen records of the RL context: closed environment trades, observation layout, saved policies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from atb.rl.config import RLConfig

__all__ = ["STATE_NAMES", "EnvTrade", "ObservationSpec", "PolicyRecord"]

#: Account-state entries appended to every observation, in order.
STATE_NAMES: tuple[str, ...] = ("position", "unrealised_return", "time_in_trade")


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvTrade:
    """One closed position of the environment, valued like a freqtrade trade.

    Attributes
    ----------
    open_index, close_index : int
        Candle rows whose OPEN filled the entry / the exit.
    is_short : bool
    size : float
        Fraction of equity the position was opened with (``(0, 1]``).
    amount : float
        Base-currency amount (positive), in units of the environment's equity (which starts at 1).
    open_rate, close_rate : float
        Fill prices (the candle opens), quote currency.
    open_value : float
        ``amount * open_rate * (1 + fee)`` (long) / ``(1 - fee)`` (short): freqtrade's open value.
    close_value : float
        ``amount * close_rate * (1 - fee)`` (long) / ``(1 + fee)`` (short).
    fee_paid : float
        Entry plus exit fee, equity units.
    profit_abs : float
        ``close_value - open_value`` (long) / ``open_value - close_value`` (short): the change of
        equity the round trip caused, equity units.
    profit_ratio : float
        ``profit_abs / open_value`` (ratio): freqtrade's ``profit_ratio`` at leverage 1.
    """

    open_index: int
    close_index: int
    is_short: bool
    size: float
    amount: float
    open_rate: float
    close_rate: float
    open_value: float
    close_value: float
    fee_paid: float
    profit_abs: float
    profit_ratio: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservationSpec:
    """Layout of the observation vector (float32, shape ``(size,)``).

    The first ``window * len(feature_names)`` entries are the feature rows ``t - window + 1 ..
    t`` (oldest first, row-major: all features of one candle together); the last three are
    :data:`STATE_NAMES`.

    Attributes
    ----------
    window : int
        Lookback in candles.
    feature_names : tuple of str
        Per-candle feature columns (:data:`atb.rl.features.DEFAULT_FEATURE_NAMES`, or
        ``custom_0 ..`` for caller-supplied features).
    custom_features : bool
        Whether the caller supplied the features (then inference needs them too).
    norm_window : int
        Rolling window of the default features' normalisation.
    """

    window: int
    feature_names: tuple[str, ...]
    custom_features: bool
    norm_window: int

    @property
    def size(self) -> int:
        """Length of the observation vector."""
        return self.window * len(self.feature_names) + len(STATE_NAMES)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRecord:
    """A trained policy saved by :func:`atb.rl.train.train_policy`.

    Attributes
    ----------
    directory : Path
        Folder holding ``policy.zip`` (stable-baselines3's format) and ``policy.json``.
    algorithm : str
        ``ppo``, ``a2c`` or ``sac``.
    config : RLConfig
        Configuration the policy was trained with.
    observation : ObservationSpec
    pair : str
        Pair of the training candles, e.g. ``BTC/USDT``.
    timeframe : str
        Timeframe of the training candles, e.g. ``1h``.
    train_start, train_end : datetime
        Open times (UTC) of the first and last training candle.
    n_candles : int
        Training candles.
    sha256 : str
        SHA-256 hex digest of ``policy.zip``.
    atb_version : str
        atb version that trained the policy.
    created_at : datetime
        When the policy was saved (UTC).
    metrics : mapping str -> float
        In-sample figures of the deterministic policy run over all training candles
        (:func:`atb.rl.agent.rollout`): ``train_return`` (final equity / 1 - 1, ratio, net of
        fees), ``train_max_drawdown`` (ratio), ``train_trades`` (closed trades), ``train_fees``
        (ratio of starting equity), ``train_exposure`` (fraction of decision candles in a position),
        ``timesteps`` and ``train_seconds`` (wall time of learning).
    """

    directory: Path
    algorithm: str
    config: RLConfig
    observation: ObservationSpec
    pair: str
    timeframe: str
    train_start: datetime
    train_end: datetime
    n_candles: int
    sha256: str
    atb_version: str
    created_at: datetime
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def policy_file(self) -> Path:
        """Path of ``policy.zip``."""
        return self.directory / "policy.zip"

    @property
    def metadata_file(self) -> Path:
        """Path of ``policy.json``."""
        return self.directory / "policy.json"
