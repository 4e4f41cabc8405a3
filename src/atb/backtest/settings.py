"""Scalar settings of one simulation, resolved from the config and the strategy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from atb.backtest.kernels import records as rec
from atb.core.timeframe import timeframe_to_minutes
from atb.errors import ConfigError

__all__ = ["SimulationSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationSettings:
    """Everything the simulation kernel needs besides candles (freqtrade meaning for each field).

    Attributes
    ----------
    timeframe : str
    minimal_roi : tuple of (int, float)
        ROI table as (minutes, ratio), sorted by minutes.
    stoploss : float
        Negative ratio (``-0.10`` = 10 % below the entry).
    trailing_stop, trailing_only_offset_is_reached : bool
    trailing_stop_positive : float or None
    trailing_stop_positive_offset : float
    use_exit_signal, exit_profit_only, ignore_roi_if_entry_signal : bool
    exit_profit_offset : float
    use_custom_stoploss : bool
    fee : float
        Ratio charged on entry and exit value.
    stake_amount : float or None
        Quote currency per trade; ``None`` means ``"unlimited"``.
    starting_balance : float
        ``dry_run_wallet``, quote currency.
    tradable_balance_ratio : float
    max_open_trades : float
        ``inf`` = unlimited.
    can_short : bool
        Strategy ``can_short`` and a margin/futures trading mode.
    is_futures : bool
    entry_timeout_s, exit_timeout_s : float or None
        ``unfilledtimeout`` in seconds.
    amount_reserve_percent, liquidation_buffer, maintenance_margin : float
    entry_order_limit, exit_order_limit : bool
        ``order_types`` entry/exit are ``"limit"`` (custom prices are consulted and rounded).
    """

    timeframe: str
    minimal_roi: tuple[tuple[int, float], ...]
    stoploss: float
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_exit_signal: bool = True
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False
    use_custom_stoploss: bool = False
    fee: float = 0.001
    stake_amount: float | None = None
    starting_balance: float = 1000.0
    tradable_balance_ratio: float = 0.99
    max_open_trades: float = math.inf
    can_short: bool = False
    is_futures: bool = False
    entry_timeout_s: float | None = None
    exit_timeout_s: float | None = None
    amount_reserve_percent: float = 0.05
    liquidation_buffer: float = 0.05
    maintenance_margin: float = 0.01
    entry_order_limit: bool = True
    exit_order_limit: bool = True

    @classmethod
    def from_config(cls, config: dict[str, Any], strategy: Any) -> SimulationSettings:
        """Build from a validated freqtrade config dict and a loaded strategy.

        Strategy attributes are used (the strategy already applied config overrides);
        wallet, stake, fee and limits come from the config.

        Raises
        ------
        ConfigError
            If ``max_open_trades`` or ``fee`` cannot be resolved.
        """
        mot = config.get("max_open_trades", getattr(strategy, "max_open_trades", None))
        if mot is None:
            raise ConfigError("config: 'max_open_trades' is required (use -1 for unlimited)")
        mot = math.inf if float(mot) < 0 else float(mot)
        fee = config.get("fee")
        if fee is None:
            raise ConfigError("config: 'fee' is required offline (e.g. 0.001 for 0.1 %)")
        trading_mode = config.get("trading_mode", "spot") or "spot"
        ut = config.get("unfilledtimeout") or getattr(strategy, "unfilledtimeout", None) or {}
        unit = 1.0 if ut.get("unit") == "seconds" else 60.0
        roi = tuple(sorted((int(k), float(v)) for k, v in dict(strategy.minimal_roi).items()))
        stake = config.get("stake_amount", "unlimited")
        order_types = dict(getattr(strategy, "order_types", None) or {})
        tsp = getattr(strategy, "trailing_stop_positive", None)
        return cls(
            timeframe=str(config.get("timeframe") or strategy.timeframe),
            minimal_roi=roi,
            stoploss=float(strategy.stoploss),
            trailing_stop=bool(strategy.trailing_stop),
            trailing_stop_positive=None if tsp is None else float(tsp),
            trailing_stop_positive_offset=float(
                getattr(strategy, "trailing_stop_positive_offset", 0.0) or 0.0
            ),
            trailing_only_offset_is_reached=bool(
                getattr(strategy, "trailing_only_offset_is_reached", False)
            ),
            use_exit_signal=bool(getattr(strategy, "use_exit_signal", True)),
            exit_profit_only=bool(getattr(strategy, "exit_profit_only", False)),
            exit_profit_offset=float(getattr(strategy, "exit_profit_offset", 0.0) or 0.0),
            ignore_roi_if_entry_signal=bool(getattr(strategy, "ignore_roi_if_entry_signal", False)),
            use_custom_stoploss=bool(getattr(strategy, "use_custom_stoploss", False)),
            fee=float(fee),
            stake_amount=None if stake == "unlimited" else float(stake),
            starting_balance=float(config.get("dry_run_wallet", 1000.0)),
            tradable_balance_ratio=float(config.get("tradable_balance_ratio", 0.99)),
            max_open_trades=mot,
            can_short=bool(getattr(strategy, "can_short", False)) and trading_mode != "spot",
            is_futures=trading_mode != "spot",
            entry_timeout_s=None if ut.get("entry") is None else float(ut["entry"]) * unit,
            exit_timeout_s=None if ut.get("exit") is None else float(ut["exit"]) * unit,
            amount_reserve_percent=float(config.get("amount_reserve_percent", 0.05)),
            liquidation_buffer=float(config.get("liquidation_buffer", 0.05)),
            entry_order_limit=order_types.get("entry", "limit") == "limit",
            exit_order_limit=order_types.get("exit", "limit") == "limit",
        )

    def params_vector(self) -> np.ndarray:
        """Pack the scalars into the kernel's ``params`` vector (``records.P_*``)."""
        p = np.zeros(rec.P_N, dtype=np.float64)
        p[rec.P_STOPLOSS] = self.stoploss
        p[rec.P_TRAILING_STOP] = float(self.trailing_stop)
        p[rec.P_TRAILING_POSITIVE] = (
            math.nan if self.trailing_stop_positive is None else self.trailing_stop_positive
        )
        p[rec.P_TRAILING_OFFSET] = self.trailing_stop_positive_offset
        p[rec.P_ONLY_OFFSET] = float(self.trailing_only_offset_is_reached)
        p[rec.P_USE_EXIT_SIGNAL] = float(self.use_exit_signal)
        p[rec.P_EXIT_PROFIT_ONLY] = float(self.exit_profit_only)
        p[rec.P_EXIT_PROFIT_OFFSET] = self.exit_profit_offset
        p[rec.P_IGNORE_ROI_IF_ENTRY] = float(self.ignore_roi_if_entry_signal)
        p[rec.P_FEE] = self.fee
        p[rec.P_STAKE_AMOUNT] = math.nan if self.stake_amount is None else self.stake_amount
        p[rec.P_STARTING_BALANCE] = self.starting_balance
        p[rec.P_TRADABLE_RATIO] = self.tradable_balance_ratio
        p[rec.P_MAX_OPEN_TRADES] = self.max_open_trades
        p[rec.P_CAN_SHORT] = float(self.can_short)
        p[rec.P_USE_CUSTOM_STOPLOSS] = float(self.use_custom_stoploss)
        p[rec.P_ENTRY_TIMEOUT_NS] = (self.entry_timeout_s or 0.0) * 1e9
        p[rec.P_EXIT_TIMEOUT_NS] = (self.exit_timeout_s or 0.0) * 1e9
        p[rec.P_TIMEFRAME_MIN] = float(timeframe_to_minutes(self.timeframe))
        p[rec.P_AMOUNT_RESERVE] = self.amount_reserve_percent
        p[rec.P_LIQUIDATION_BUFFER] = self.liquidation_buffer
        p[rec.P_MAINT_MARGIN] = self.maintenance_margin
        p[rec.P_IS_FUTURES] = float(self.is_futures)
        p[rec.P_ENTRY_LIMIT] = float(self.entry_order_limit)
        p[rec.P_EXIT_LIMIT] = float(self.exit_order_limit)
        return p

    def roi_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """ROI table as (int64 minutes, float64 ratios), sorted by minutes."""
        keys = np.array([k for k, _ in self.minimal_roi], dtype=np.int64)
        vals = np.array([v for _, v in self.minimal_roi], dtype=np.float64)
        return keys, vals
