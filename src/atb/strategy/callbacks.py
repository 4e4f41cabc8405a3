"""The optional strategy callbacks of freqtrade's interface v3, with freqtrade's defaults.

:class:`StrategyCallbacks` is a base of :class:`atb.strategy.interface.IStrategy`; a strategy
overrides the ones it needs (signatures as freqtrade 2026.x documents them, always ending in
``**kwargs``). The engine calls a callback only when the strategy overrides it
(``IStrategy.atb_overridden``). Rates are in quote currency, profits and stops are ratios,
times are UTC ``datetime``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

__all__ = ["CALLBACK_NAMES", "StrategyCallbacks"]

#: Callbacks whose override the engine checks with ``atb_overridden``.
CALLBACK_NAMES = (
    "bot_start", "bot_loop_start", "custom_stoploss", "custom_exit", "custom_stake_amount",
    "confirm_trade_entry", "confirm_trade_exit", "custom_entry_price", "custom_exit_price",
    "leverage", "adjust_trade_position", "adjust_entry_price", "adjust_exit_price",
    "adjust_order_price", "check_entry_timeout", "check_exit_timeout", "custom_roi",
    "order_filled", "informative_pairs", "plot_annotations",
)


class StrategyCallbacks:
    """freqtrade's callbacks, each a no-op returning freqtrade's default."""

    stoploss: float

    def bot_start(self, **kwargs: Any) -> None:
        """Called once after the strategy is loaded and ``dp``/``wallets`` are set."""

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Called once per candle (backtest) before the pairs are processed."""

    def custom_stoploss(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                        current_profit: float, after_fill: bool, **kwargs: Any) -> float | None:
        """New stop distance relative to ``current_rate`` (negative ratio); None keeps the stop.

        Used only with ``use_custom_stoploss = True``. The default returns ``self.stoploss``.
        """
        return self.stoploss

    def custom_roi(self, pair: str, trade: Any, current_time: datetime, trade_duration: int,
                   entry_tag: str | None, side: str, **kwargs: Any) -> float | None:
        """ROI threshold (ratio) for this trade at ``trade_duration`` minutes, or None.

        Used only with ``use_custom_roi = True``.
        """
        return None

    def custom_exit(self, pair: str, trade: Any, current_time: datetime, current_rate: float,
                    current_profit: float, **kwargs: Any) -> str | bool | None:
        """Exit now when truthy (a string becomes the exit reason)."""
        return None

    def custom_stake_amount(self, pair: str, current_time: datetime, current_rate: float,
                            proposed_stake: float, min_stake: float | None, max_stake: float,
                            leverage: float, entry_tag: str | None, side: str,
                            **kwargs: Any) -> float:
        """Stake (quote currency) of a new trade."""
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

    def order_filled(self, pair: str, trade: Any, order: Any, current_time: datetime,
                     **kwargs: Any) -> None:
        """Called after an order of the trade filled."""

    def custom_entry_price(self, pair: str, trade: Any | None, current_time: datetime,
                           proposed_rate: float, entry_tag: str | None, side: str,
                           **kwargs: Any) -> float:
        """Limit price of the entry order."""
        return proposed_rate

    def custom_exit_price(self, pair: str, trade: Any, current_time: datetime,
                          proposed_rate: float, current_profit: float, exit_tag: str | None,
                          **kwargs: Any) -> float:
        """Limit price of the exit order."""
        return proposed_rate

    def adjust_trade_position(self, trade: Any, current_time: datetime, current_rate: float,
                              current_profit: float, min_stake: float | None, max_stake: float,
                              current_entry_rate: float, current_exit_rate: float,
                              current_entry_profit: float, current_exit_profit: float,
                              **kwargs: Any) -> float | tuple[float | None, str | None] | None:
        """Stake to add (positive) or remove (negative), optionally with an order tag; None = no change."""
        return None

    def adjust_entry_price(self, trade: Any, order: Any | None, pair: str, current_time: datetime,
                           proposed_rate: float, current_order_rate: float, entry_tag: str | None,
                           side: str, **kwargs: Any) -> float | None:
        """New price of an open entry order (``current_order_rate`` keeps it, None cancels it)."""
        return current_order_rate

    def adjust_exit_price(self, trade: Any, order: Any | None, pair: str, current_time: datetime,
                          proposed_rate: float, current_order_rate: float, entry_tag: str | None,
                          side: str, **kwargs: Any) -> float | None:
        """New price of an open exit order (``current_order_rate`` keeps it, None cancels it)."""
        return current_order_rate

    def adjust_order_price(self, trade: Any, order: Any | None, pair: str, current_time: datetime,
                           proposed_rate: float, current_order_rate: float, entry_tag: str | None,
                           side: str, is_entry: bool, **kwargs: Any) -> float | None:
        """New price of an open order; defaults to :meth:`adjust_entry_price` / :meth:`adjust_exit_price`."""
        fn = self.adjust_entry_price if is_entry else self.adjust_exit_price
        return fn(trade=trade, order=order, pair=pair, current_time=current_time,
                  proposed_rate=proposed_rate, current_order_rate=current_order_rate,
                  entry_tag=entry_tag, side=side, **kwargs)

    def leverage(self, pair: str, current_time: datetime, current_rate: float,
                 proposed_leverage: float, max_leverage: float, entry_tag: str | None, side: str,
                 **kwargs: Any) -> float:
        """Leverage of a new trade (futures/margin only), between 1 and ``max_leverage``."""
        return 1.0

    def check_entry_timeout(self, pair: str, trade: Any, order: Any, current_time: datetime,
                            **kwargs: Any) -> bool:
        """Return True to cancel an unfilled entry order."""
        return False

    def check_exit_timeout(self, pair: str, trade: Any, order: Any, current_time: datetime,
                           **kwargs: Any) -> bool:
        """Return True to cancel an unfilled exit order."""
        return False

    def informative_pairs(self) -> list[tuple[str, ...]]:
        """Extra ``(pair, timeframe[, candle_type])`` the strategy reads through ``self.dp``."""
        return []

    def plot_annotations(self, pair: str, start_date: datetime, end_date: datetime,
                         dataframe: pd.DataFrame, **kwargs: Any) -> list[dict[str, Any]]:
        """Chart annotations (areas/lines) for plots."""
        return []

    def version(self) -> str | None:
        """Strategy version string, if the strategy defines one."""
        return None
