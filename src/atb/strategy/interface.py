"""``IStrategy``: the freqtrade interface-version-3 strategy base class.

User strategies subclass it exactly as in freqtrade (class attributes, ``populate_*`` methods,
optional callbacks). atb's own framework methods on this user-subclassed base carry the prefix
``atb_`` (freqtrade uses ``ft_`` for the same reason) so they never clash with user code.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, ClassVar

import pandas as pd

from atb.errors import StrategyError
from atb.strategy.informative import merge_informatives
from atb.strategy.params import BaseParameter

__all__ = ["IStrategy"]

#: Config keys that override strategy attributes (freqtrade's list).
_CONFIG_OVERRIDES = (
    "minimal_roi", "timeframe", "stoploss", "max_open_trades", "trailing_stop",
    "trailing_stop_positive", "trailing_stop_positive_offset", "trailing_only_offset_is_reached",
    "use_custom_stoploss", "process_only_new_candles", "order_types", "order_time_in_force",
    "stake_currency", "stake_amount", "startup_candle_count", "unfilledtimeout",
    "use_exit_signal", "exit_profit_only", "exit_profit_offset", "ignore_roi_if_entry_signal",
    "ignore_buying_expired_candle_after", "position_adjustment_enable",
    "max_entry_position_adjustment",
)
_SIGNAL_COLUMNS = ("enter_long", "exit_long", "enter_short", "exit_short")
_CALLBACKS = (
    "custom_stoploss", "custom_exit", "custom_stake_amount", "confirm_trade_entry",
    "confirm_trade_exit", "custom_entry_price", "custom_exit_price", "leverage",
    "adjust_trade_position", "check_entry_timeout", "check_exit_timeout", "custom_roi",
)


class IStrategy:
    """Base class of strategies (freqtrade interface version 3).

    Subclasses implement :meth:`populate_indicators`, :meth:`populate_entry_trend` and
    :meth:`populate_exit_trend` (or the legacy ``populate_buy_trend``/``populate_sell_trend``
    writing ``buy``/``sell`` columns) on pandas frames with columns ``date`` (UTC candle open),
    ``open, high, low, close, volume``.

    Parameters
    ----------
    config : dict
        The (freqtrade) configuration; keys listed in freqtrade's override list replace the
        class attributes of the same name.
    """

    INTERFACE_VERSION: ClassVar[int] = 3

    timeframe: str = "5m"
    minimal_roi: dict[Any, float] = {}
    stoploss: float = -0.10
    max_open_trades: float | None = None
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_custom_stoploss: bool = False
    use_exit_signal: bool = True
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False
    ignore_buying_expired_candle_after: int = 0
    process_only_new_candles: bool = True
    startup_candle_count: int = 0
    can_short: bool = False
    position_adjustment_enable: bool = False
    max_entry_position_adjustment: int = -1
    order_types: dict[str, Any] = {
        "entry": "limit", "exit": "limit", "stoploss": "limit", "stoploss_on_exchange": False,
        "stoploss_on_exchange_interval": 60,
    }
    order_time_in_force: dict[str, str] = {"entry": "GTC", "exit": "GTC"}
    unfilledtimeout: dict[str, Any] = {}
    protections: list[dict[str, Any]] = []
    plot_config: dict[str, Any] = {}
    disable_dataframe_checks: bool = False

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.dp: Any = None
        self.wallets: Any = None
        for key in _CONFIG_OVERRIDES:
            if key in config and config[key] is not None and key not in ("stake_currency",
                                                                          "stake_amount"):
                setattr(self, key, config[key])
        self.minimal_roi = self._normalise_roi(self.minimal_roi)
        self.stoploss = self._check_ratio("stoploss", self.stoploss, -1.0, 0.0)
        if self.trailing_stop_positive is not None:
            self._check_ratio("trailing_stop_positive", self.trailing_stop_positive, 0.0, 1.0)
        self.order_types = {**IStrategy.order_types, **dict(self.order_types or {})}
        self._load_parameters()

    # -- validation ------------------------------------------------------------------------
    def _check_ratio(self, name: str, value: Any, low: float, high: float) -> float:
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise StrategyError(f"{type(self).__name__}.{name}: {value!r} is not a number") from None
        if math.isnan(f) or not (low <= f <= high):
            raise StrategyError(f"{type(self).__name__}.{name}: {f} is outside [{low}, {high}]")
        return f

    def _normalise_roi(self, roi: Any) -> dict[int, float]:
        if not isinstance(roi, dict):
            raise StrategyError(f"{type(self).__name__}.minimal_roi must be a dict, got {roi!r}")
        out: dict[int, float] = {}
        for k, v in roi.items():
            try:
                out[int(k)] = float(v)
            except (TypeError, ValueError):
                raise StrategyError(
                    f"{type(self).__name__}.minimal_roi: entry {k!r}: {v!r} is not minutes: ratio"
                ) from None
        return dict(sorted(out.items()))

    def _load_parameters(self) -> None:
        """Give hyperoptable parameters their names and load saved values (freqtrade rules)."""
        saved: dict[str, Any] = {}
        for space in ("buy", "sell", "protection", "enter", "exit"):
            saved.update(getattr(self, f"{space}_params", None) or {})
        saved.update(getattr(self, "atb_loaded_params", None) or {})
        for name in dir(type(self)):
            attr = getattr(type(self), name, None)
            if isinstance(attr, BaseParameter):
                attr.name = name
                if attr.load and name in saved:
                    attr.value = saved[name]

    # -- framework methods used by the engines ------------------------------------------------
    def atb_overridden(self, name: str) -> bool:
        """Whether the user's class overrides callback ``name`` of this base class."""
        if name not in _CALLBACKS:
            return False
        mine = getattr(IStrategy, name, None)
        theirs = getattr(type(self), name, None)
        return theirs is not None and theirs is not mine

    def atb_set_dataprovider(self, dp: Any) -> None:
        """Attach the data provider (``self.dp``)."""
        self.dp = dp

    def atb_analyze(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Indicators, entry and exit signals for one pair's candles.

        Returns a frame with the same rows plus ``enter_long, exit_long, enter_short,
        exit_short`` (0/1) and ``enter_tag``/``exit_tag`` (str or None).

        Raises
        ------
        StrategyError
            If a ``populate_*`` method returns something other than a DataFrame with the same
            number of rows and dates.
        """
        dates = dataframe["date"].copy()
        df = merge_informatives(self, dataframe, metadata)
        df = self._checked("populate_indicators", self.populate_indicators(df, metadata), dates)
        df["enter_tag"] = None
        df["exit_tag"] = None
        df = self._checked("populate_entry_trend", self._entry(df, metadata), dates)
        df = self._checked("populate_exit_trend", self._exit(df, metadata), dates)
        for col in _SIGNAL_COLUMNS:
            if col in df.columns:
                df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0)
            else:
                df[col] = 0
        return df

    def _entry(self, df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        if type(self).populate_entry_trend is IStrategy.populate_entry_trend and hasattr(
            self, "populate_buy_trend"
        ):
            df = self.populate_buy_trend(df, metadata)
            if "buy" in df.columns:
                df["enter_long"] = df["buy"]
            if "buy_tag" in df.columns:
                df["enter_tag"] = df["buy_tag"]
            return df
        return self.populate_entry_trend(df, metadata)

    def _exit(self, df: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        if type(self).populate_exit_trend is IStrategy.populate_exit_trend and hasattr(
            self, "populate_sell_trend"
        ):
            df = self.populate_sell_trend(df, metadata)
            if "sell" in df.columns:
                df["exit_long"] = df["sell"]
            return df
        return self.populate_exit_trend(df, metadata)

    def _checked(self, method: str, out: Any, dates: pd.Series) -> pd.DataFrame:
        name = type(self).__name__
        if not isinstance(out, pd.DataFrame):
            raise StrategyError(f"{name}.{method} returned {type(out).__name__}, not a DataFrame")
        if len(out) != len(dates):
            raise StrategyError(f"{name}.{method} changed the number of rows "
                                f"({len(dates)} -> {len(out)})")
        if not self.disable_dataframe_checks and not out["date"].reset_index(drop=True).equals(
            dates.reset_index(drop=True)
        ):
            raise StrategyError(f"{name}.{method} changed the candle dates")
        return out

    # -- the user's methods --------------------------------------------------------------------
    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Add indicator columns (required)."""
        raise StrategyError(f"{type(self).__name__} does not implement populate_indicators")

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Set ``enter_long``/``enter_short`` = 1 (and ``enter_tag``) where to enter."""
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Set ``exit_long``/``exit_short`` = 1 (and ``exit_tag``) where to exit."""
        return dataframe

    def informative_pairs(self) -> list[tuple[str, str]]:
        """Extra (pair, timeframe) combinations the strategy reads through ``self.dp``."""
        return []

    # -- callbacks (defaults do nothing; overriding one selects the callback path) -------------
    def bot_start(self, **kwargs: Any) -> None:
        """Called once after the strategy is loaded."""

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Called at the start of every candle."""

    def custom_stoploss(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                        current_profit: float, after_fill: bool, **kwargs: Any) -> float | None:
        """New stop distance (negative ratio from ``current_rate``), or None to keep it."""
        return None

    def custom_exit(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs: Any) -> str | bool | None:
        """Exit now when truthy (a string becomes the exit reason)."""
        return None

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs: Any) -> float:
        """Stake in quote currency for a new trade."""
        return proposed_stake

    def confirm_trade_entry(self, pair: str, order_type: str, amount: float, rate: float,
                            time_in_force: str, current_time: datetime, entry_tag: str | None,
                            side: str, **kwargs: Any) -> bool:
        """Return False to cancel the entry."""
        return True

    def confirm_trade_exit(self, pair: str, trade: Any, order_type: str, amount: float,
                           rate: float, time_in_force: str, exit_reason: str,
                           current_time: datetime, **kwargs: Any) -> bool:
        """Return False to cancel the exit."""
        return True

    def custom_entry_price(self, pair: str, trade: Any, current_time: datetime,
                           proposed_rate: float, entry_tag: str | None, side: str,
                           **kwargs: Any) -> float:
        """Limit price of the entry order."""
        return proposed_rate

    def custom_exit_price(self, pair: str, trade: Any, current_time: datetime,
                          proposed_rate: float, current_profit: float, exit_tag: str | None,
                          **kwargs: Any) -> float:
        """Limit price of the exit order."""
        return proposed_rate

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None, side: str,
                 **kwargs: Any) -> float:
        """Leverage of a new trade (margin/futures only)."""
        return 1.0

    def adjust_trade_position(self, trade: Any, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              **kwargs: Any) -> float | None:
        """Position adjustment (DCA); not simulated by the backtest in this version."""
        return None

    def check_entry_timeout(self, pair: str, trade: Any, order: Any, current_time: datetime,
                            **kwargs: Any) -> bool:
        """Return True to cancel an unfilled entry order."""
        return False

    def check_exit_timeout(self, pair: str, trade: Any, order: Any, current_time: datetime,
                           **kwargs: Any) -> bool:
        """Return True to cancel an unfilled exit order."""
        return False
