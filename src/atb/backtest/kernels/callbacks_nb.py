"""Default (no-op) strategy callbacks for the simulation kernel.

The compiled kernel calls these names only when the matching ``CB_*`` flag is set, which it never
is in the compiled fast path. The Python slow path (``atb.backtest.callbacks``) runs the very same
kernel code as plain Python with these names bound to adapters around the strategy's methods, so
backtests with per-trade callbacks follow identical semantics. Each returns the "no change" value.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = [
    "cb_check_entry_timeout",
    "cb_check_exit_timeout",
    "cb_confirm_entry",
    "cb_confirm_exit",
    "cb_custom_entry_price",
    "cb_custom_exit",
    "cb_custom_exit_price",
    "cb_custom_stake",
    "cb_custom_stoploss",
    "cb_leverage",
]


@njit(cache=True)
def cb_custom_stoploss(p: int, row: int, t_ns: int, rate: float, profit: float) -> float:
    """Return the new stoploss ratio (negative) or nan for "keep"."""
    return math.nan


@njit(cache=True)
def cb_custom_exit(p: int, row: int, t_ns: int, rate: float, profit: float) -> int:
    """Return 0 for no exit, -1 for an exit without reason, or a tag id (> 0) for the reason."""
    return 0


@njit(cache=True)
def cb_custom_stake(
    p: int, row: int, t_ns: int, rate: float, proposed: float, min_stake: float,
    max_stake: float, leverage: float, is_short: int, enter_tag: int,
) -> float:
    """Return the stake in quote currency (``proposed`` keeps it)."""
    return proposed


@njit(cache=True)
def cb_confirm_entry(
    p: int, row: int, t_ns: int, amount: float, rate: float, is_short: int, enter_tag: int
) -> bool:
    """Return False to veto the entry."""
    return True


@njit(cache=True)
def cb_confirm_exit(
    p: int, row: int, t_ns: int, amount: float, rate: float, reason: int, tag: int
) -> bool:
    """Return False to veto the exit."""
    return True


@njit(cache=True)
def cb_custom_entry_price(
    p: int, row: int, t_ns: int, proposed: float, is_short: int, enter_tag: int
) -> float:
    """Return the limit entry price (``proposed`` keeps it)."""
    return proposed


@njit(cache=True)
def cb_custom_exit_price(
    p: int, row: int, t_ns: int, proposed: float, profit: float, reason: int, tag: int
) -> float:
    """Return the limit exit price (``proposed`` keeps it)."""
    return proposed


@njit(cache=True)
def cb_leverage(
    p: int, row: int, t_ns: int, rate: float, max_leverage: float, is_short: int, enter_tag: int
) -> float:
    """Return the leverage for a new trade (1.0 = none)."""
    return 1.0


@njit(cache=True)
def cb_check_entry_timeout(p: int, row: int, t_ns: int) -> bool:
    """Return True to cancel the open entry order now."""
    return False


@njit(cache=True)
def cb_check_exit_timeout(p: int, row: int, t_ns: int) -> bool:
    """Return True to cancel the open exit order now."""
    return False
