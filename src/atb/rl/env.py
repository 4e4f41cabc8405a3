"""The trading environment's inputs and its factory (gymnasium is imported lazily).

:func:`make_env` returns a ``gymnasium.Env`` (:class:`atb.rl._gym_env.TradingEnv`) whose step is:

1. the agent sees the observation at the close of candle ``t`` (features of rows ``t - window + 1
   .. t`` and the account state, :class:`~atb.rl.models.ObservationSpec`);
2. its action (:mod:`atb.rl.actions`) fills at the OPEN of candle ``t + 1`` with the backtest's
   fee model (:mod:`atb.rl.account`);
3. equity is marked at the close of ``t + 1`` and the reward is :func:`atb.rl.reward.step_reward`.

Episodes start flat with equity 1.0 at a random decision candle (``reset(options={"start":
row})`` picks it) and last ``episode_length`` steps or until the data ends (``truncated``);
equity at or below zero ends them (``terminated``). ``info`` holds ``equity``, ``position``,
``fees_paid``, ``trades`` (closed-trade count), ``trade`` (the :class:`~atb.rl.models.EnvTrade`
closed by this step, or None), ``drawdown`` and ``row`` (the new decision candle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atb.core.extras import require
from atb.errors import DataError
from atb.rl.config import RLConfig
from atb.rl.features import DEFAULT_FEATURE_NAMES, check_candles, default_features, first_valid_row
from atb.rl.models import ObservationSpec
from atb.rl.reward import rolling_sigma

__all__ = ["EnvInputs", "env_inputs", "make_env"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvInputs:
    """Arrays the environment and policy inference step over.

    Attributes
    ----------
    open, close : ndarray
        Shape ``(n_candles,)``, float64, quote currency.
    features : ndarray
        Shape ``(n_candles, n_features)``, float64, causal (NaN in warm-up rows).
    first_row : int
        First candle with a complete observation window (``n_candles`` if none).
    first_reward_row : int
        First decision candle of training episodes (``first_row``, later with
        ``risk_adjust="vol"`` until ``sigma`` exists).
    sigma : ndarray
        Shape ``(n_candles,)``: :func:`atb.rl.reward.rolling_sigma` (NaN when not used).
    spec : ObservationSpec
    """

    open: np.ndarray
    close: np.ndarray
    features: np.ndarray
    first_row: int
    first_reward_row: int
    sigma: np.ndarray
    spec: ObservationSpec


def _custom_features(features: np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(features, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or len(arr) != n or arr.shape[1] < 1:
        raise DataError(f"RL features: shape {np.shape(features)} does not match the {n} candles "
                        "(expected (n_candles, n_features))")
    return arr


def env_inputs(candles: pd.DataFrame, config: RLConfig, features: np.ndarray | None = None) -> EnvInputs:
    """Validate candles and build the environment's arrays.

    Parameters
    ----------
    candles : DataFrame
        ``date`` (UTC candle open), ``open, high, low, close`` (quote currency), ``volume``.
    config : RLConfig
    features : ndarray, optional
        Caller-supplied per-candle features, shape ``(n_candles, n_features)``; row ``t`` must use
        only data ``<= t`` (NaN rows at the start are warm-up). Default:
        :func:`atb.rl.features.default_features`.

    Returns
    -------
    EnvInputs

    Raises
    ------
    DataError
        Candles break the OHLCV contract, features do not match them, or there are too few
        candles for one step after the warm-up.
    """
    check_candles(candles)
    n = len(candles)
    if features is None:
        feats = default_features(candles, config.norm_window)
        names = DEFAULT_FEATURE_NAMES
    else:
        feats = _custom_features(features, n)
        names = tuple(f"custom_{i}" for i in range(feats.shape[1]))
    first = first_valid_row(feats, config.window)
    sigma = (rolling_sigma(candles["close"].to_numpy(dtype=np.float64), config.vol_window)
             if config.risk_adjust == "vol" else np.full(n, np.nan))
    first_reward = max(first, config.vol_window) if config.risk_adjust == "vol" else first
    return EnvInputs(
        open=candles["open"].to_numpy(dtype=np.float64),
        close=candles["close"].to_numpy(dtype=np.float64),
        features=feats, first_row=first, first_reward_row=first_reward, sigma=sigma,
        spec=ObservationSpec(window=config.window, feature_names=names,
                             custom_features=features is not None, norm_window=config.norm_window),
    )


def make_env(candles: pd.DataFrame, config: RLConfig, features: np.ndarray | None = None) -> Any:
    """A ``gymnasium.Env`` trading one pair's candles with the backtest's fills and fees.

    Parameters
    ----------
    candles : DataFrame
        One pair's candles, ``date`` (UTC candle open), ``open, high, low, close, volume``.
    config : RLConfig
    features : ndarray, optional
        Causal per-candle features, shape ``(n_candles, n_features)`` (default: log returns,
        range and volume, :func:`atb.rl.features.default_features`).

    Returns
    -------
    gymnasium.Env
        Observation ``Box(-inf, inf, (window * n_features + 3,), float32)``; action
        ``Discrete`` (PPO/A2C) or ``Box(-1, 1, (1,), float32)`` (SAC), see :mod:`atb.rl.actions`.

    Raises
    ------
    MissingExtraError
        gymnasium is not installed (``pip install 'atb[rl]'``).
    DataError
        Candles or features are invalid, or too short: need ``warm-up + 2`` candles.

    Examples
    --------
    >>> from atb.rl.config import RLConfig
    >>> import pandas as pd, numpy as np
    >>> n = 200
    >>> close = 100 * np.exp(np.cumsum(np.sin(np.arange(n)) * 0.01))
    >>> candles = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
    ...                         "open": close, "high": close * 1.01, "low": close * 0.99,
    ...                         "close": close, "volume": 1.0 + np.arange(n) % 7})
    >>> env = make_env(candles, RLConfig(window=8, norm_window=24))
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape, int(env.action_space.n)
    ((27,), 5)
    """
    require("gymnasium", "rl", "the RL trading environment")
    inputs = env_inputs(candles, config, features)
    if inputs.first_reward_row + 1 >= len(candles):
        raise DataError(f"RL environment: {len(candles)} candles leave no step after the "
                        f"{inputs.first_reward_row} warm-up candles (window {config.window}, "
                        f"norm_window {config.norm_window})")
    from atb.rl._gym_env import TradingEnv

    return TradingEnv(inputs, config)
