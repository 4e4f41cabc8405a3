"""Performance ratios of a trade list, with freqtrade's definitions (formulas cited per function).

Inputs are per-trade profits in quote currency (``profit_abs``) and the starting balance; dates
are UTC. Ratios, not percent.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

__all__ = [
    "annualized_ratio",
    "cagr",
    "calmar",
    "expectancy",
    "profit_factor",
    "sharpe",
    "sortino",
    "sqn",
]


def annualized_ratio(mean_daily: float, denominator: float, periods: int = 365) -> float:
    """``mean / denominator * sqrt(periods)``; -100 when the denominator is 0 or NaN (freqtrade)."""
    if denominator != 0 and not math.isnan(denominator):
        return float(mean_daily / denominator * math.sqrt(periods))
    return -100.0


def _days(start: datetime, end: datetime) -> int:
    return max(1, (end - start).days)


def sharpe(profit_abs: np.ndarray, start: datetime, end: datetime, starting_balance: float) -> float:
    """Sharpe ratio of trade returns: mean daily return / std of per-trade returns * sqrt(365).

    ``r_i = profit_i / starting_balance``; mean daily return = ``sum(r) / days``; std is the
    population std (ddof 0) of ``r``. Source: freqtrade ``calculate_sharpe``.
    """
    if len(profit_abs) == 0 or start == end:
        return 0.0
    r = np.asarray(profit_abs, float) / starting_balance
    return annualized_ratio(r.sum() / _days(start, end), float(np.std(r)))


def sortino(profit_abs: np.ndarray, start: datetime, end: datetime, starting_balance: float) -> float:
    """Sortino ratio: like :func:`sharpe` with the std of losing trades' returns only.

    Source: freqtrade ``calculate_sortino`` (Sortino & Price 1994 downside deviation, per trade).
    """
    if len(profit_abs) == 0 or start == end:
        return 0.0
    r = np.asarray(profit_abs, float) / starting_balance
    down = r[r < 0]
    down_std = float(np.std(down)) if len(down) else math.nan
    return annualized_ratio(r.sum() / _days(start, end), down_std)


def calmar(profit_abs: np.ndarray, start: datetime, end: datetime, starting_balance: float,
           max_drawdown_account: float) -> float:
    """Calmar ratio: mean daily return (percent) / max relative drawdown * sqrt(365).

    Source: freqtrade ``calculate_calmar`` (Young 1991, annualised the freqtrade way).
    """
    if len(profit_abs) == 0 or start == end:
        return 0.0
    total = float(np.sum(profit_abs)) / starting_balance
    return annualized_ratio(total / _days(start, end) * 100, max_drawdown_account)


def cagr(days: int, starting_balance: float, final_balance: float) -> float:
    """Compound annual growth rate ``(final / start) ** (365 / days) - 1`` (0 if undefined)."""
    if final_balance < 0 or starting_balance <= 0 or days <= 0:
        return 0.0
    try:
        return float((final_balance / starting_balance) ** (1 / (days / 365)) - 1)
    except OverflowError:
        return 0.0


def expectancy(profit_abs: np.ndarray) -> tuple[float, float]:
    """Expectancy (quote currency per trade) and expectancy ratio.

    ``E = winrate * avg_win - lossrate * avg_loss``; ratio ``(1 + avg_win/avg_loss) * winrate -
    1`` (100 when there is no loss). Source: freqtrade ``calculate_expectancy`` (Van Tharp).
    """
    p = np.asarray(profit_abs, float)
    if len(p) == 0:
        return 0.0, 100.0
    wins, losses = p[p > 0], p[p < 0]
    avg_win = wins.sum() / len(wins) if len(wins) else 0.0
    avg_loss = abs(losses.sum()) / len(losses) if len(losses) else 0.0
    winrate, lossrate = len(wins) / len(p), len(losses) / len(p)
    exp = winrate * avg_win - lossrate * avg_loss
    ratio = ((1 + avg_win / avg_loss) * winrate) - 1 if avg_loss > 0 else 100.0
    return float(exp), float(ratio)


def profit_factor(profit_abs: np.ndarray) -> float:
    """Gross profit / gross loss (0 when there is no loss, as freqtrade reports)."""
    p = np.asarray(profit_abs, float)
    loss = p[p < 0].sum()
    return float(p[p > 0].sum() / abs(loss)) if loss else 0.0


def sqn(profit_abs: np.ndarray, starting_balance: float) -> float:
    """System quality number ``sqrt(n) * mean(r) / std(r)`` (ddof 1), rounded to 4 decimals.

    Source: Van K. Tharp; freqtrade ``calculate_sqn`` (-100 when undefined).
    """
    r = np.asarray(profit_abs, float) / starting_balance
    if len(r) == 0:
        return 0.0
    std = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    if std == 0 or math.isnan(std):
        return -100.0
    return round(math.sqrt(len(r)) * float(np.mean(r)) / std, 4)
