"""RLAgent: trade the actions of a saved reinforcement-learning policy (original atb strategy, MIT).

The policy (trained by :func:`atb.rl.train.train_policy`, ``atb train --rl``) is loaded from the
config key ``rl_policy_path`` or the class attribute ``policy_path``. Its action on candle ``t``
becomes a signal on ``t`` that fills at the open of ``t + 1``, as in the environment it was trained
in (:mod:`atb.rl.env`), so a backtest reproduces the environment's trades.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pandas import DataFrame

from atb.errors import StrategyError
from atb.rl.actions import actions_to_signals, size_from_tag
from atb.rl.agent import LoadedPolicy, load_policy
from atb.strategy.interface import IStrategy

__all__ = ["CONFIG_KEY", "RLAgent"]

#: Config key holding the policy folder (or its ``policy.json``).
CONFIG_KEY = "rl_policy_path"


class RLAgent(IStrategy):
    """Signals from an RL policy's per-candle actions (:func:`atb.rl.actions.actions_to_signals`).

    * long action: ``enter_long`` (tag ``rl_long_<size>``) and ``exit_short``; short action:
      ``enter_short`` and ``exit_long``; flat: both exits. An open trade keeps its size; the
      opposite direction reverses it on the next open (freqtrade's position reversal).
    * ``custom_stake_amount`` scales the proposed stake by the action's position size (the
      environment opens ``size * equity``; with ``stake_amount: "unlimited"`` and one open trade
      the backtest does the same). Overriding it runs the backtest's Python callback path.
    * ``can_short`` is the policy's ``allow_short`` in margin/futures trading modes; on spot,
      short actions only exit longs.
    * ``minimal_roi = {"0": 100}`` and ``stoploss = -0.99`` leave exits to the policy; both can
      be overridden (config or subclass) like any strategy setting.
    * ``startup_candle_count`` is the policy's warm-up (``norm_window + window - 1``).

    Raises
    ------
    StrategyError
        No policy path configured (names ``rl_policy_path``), a policy trained on another
        timeframe, or one trained on custom features without an :meth:`rl_features` override.
    ModelError
        The policy files are missing, malformed or do not match their hash.
    """

    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = False
    minimal_roi = {"0": 100}
    stoploss = -0.99
    use_exit_signal = True
    startup_candle_count = 0

    #: Policy folder used when the config has no ``rl_policy_path``.
    policy_path: str | None = None

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        raw = config.get(CONFIG_KEY) or type(self).policy_path
        if not raw:
            raise StrategyError(f"{type(self).__name__}: no policy configured: set the config key "
                                f"'{CONFIG_KEY}' (or the class attribute 'policy_path') to the folder "
                                "written by train_policy / atb train --rl")
        self.policy: LoadedPolicy = load_policy(Path(str(raw)))
        record = self.policy.record
        if record.timeframe != self.timeframe:
            raise StrategyError(f"{type(self).__name__}: the policy in {record.directory} was trained on "
                                f"{record.timeframe} candles, the strategy runs on {self.timeframe}")
        if record.observation.custom_features and type(self).rl_features is RLAgent.rl_features:
            raise StrategyError(f"{type(self).__name__}: the policy in {record.directory} needs custom "
                                "features: subclass RLAgent and override rl_features()")
        mode = str(config.get("trading_mode", "spot") or "spot")
        self.can_short = bool(self.policy.config.allow_short) and mode != "spot"
        self.startup_candle_count = max(int(self.startup_candle_count), self.policy.warmup)

    def rl_features(self, dataframe: DataFrame) -> np.ndarray | None:
        """Per-candle features for policies trained on custom features (default: None).

        Must return what the training features were for the same candles: shape ``(n_candles,
        n_features)``, row ``t`` computed from data ``<= t``.
        """
        return None

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        actions = self.policy.actions(dataframe, self.rl_features(dataframe))
        dataframe["rl_action"] = actions
        dataframe["rl_target"] = self.policy.targets(actions)
        pair = str(metadata.get("pair", ""))
        record = self.policy.record
        self.atb_add_report_row("RL policy", pair, {
            "algorithm": record.algorithm, "trained_on": f"{record.pair} {record.timeframe}",
            "train_end": record.train_end.strftime("%Y-%m-%d %H:%M"),
            "actions": int(np.isfinite(dataframe["rl_target"].to_numpy()).sum()),
        })
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        signals = actions_to_signals(dataframe["rl_action"].to_numpy(), self.policy.config)
        dataframe["enter_long"] = signals["enter_long"].to_numpy()
        dataframe["enter_short"] = signals["enter_short"].to_numpy()
        tags = signals["enter_tag"].to_numpy()
        has_tag = np.array([t is not None for t in tags], dtype=bool)
        dataframe.loc[has_tag, "enter_tag"] = tags[has_tag]
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        signals = actions_to_signals(dataframe["rl_action"].to_numpy(), self.policy.config)
        dataframe["exit_long"] = signals["exit_long"].to_numpy()
        dataframe["exit_short"] = signals["exit_short"].to_numpy()
        return dataframe

    def custom_stake_amount(self, pair: str, current_time: Any, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs: Any) -> float:
        return min(proposed_stake * size_from_tag(entry_tag), max_stake)
