"""Ratios of a periodic (daily) return series: the textbook definitions.

freqtrade's backtest summary uses per-trade definitions (:mod:`atb.analytics.performance`); its
``*_from_balance`` functions (``freqtrade/data/metrics.py``, live balance history) and the
independent libraries empyrical and quantstats use a return series per period. These functions
take such a series; the annualisation factor (365 calendar days for crypto, 252 trading days for
equities) and the standard-deviation ``ddof`` are parameters, so each library's convention can be
reproduced: freqtrade ``ddof=0``, empyrical/quantstats ``ddof=1``.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from atb.analytics.drawdown import max_drawdown_of_returns
from atb.analytics.performance import UNDEFINED_RATIO, annualized_ratio

__all__ = [
    "annual_return",
    "calmar_ratio",
    "daily_profit",
    "daily_returns",
    "sharpe_ratio",
    "sortino_ratio",
]


def _returns(returns: np.ndarray | pd.Series) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64).reshape(-1)
    return r[~np.isnan(r)]


def daily_profit(close_dates: pd.Series, profit_abs: np.ndarray, start: datetime,
                 end: datetime) -> pd.Series:
    """Closed-trade profit per UTC calendar day, zero on days without a close.

    Parameters
    ----------
    close_dates : Series of datetime64[ns, UTC]
        Close time of each trade.
    profit_abs : ndarray, shape (n_trades,), float64
        Profit per trade, quote currency.
    start, end : datetime
        UTC bounds of the backtest; every day from ``start``'s to ``end``'s date is present.

    Returns
    -------
    Series
        Index: daily UTC DatetimeIndex (midnight); values: profit in quote currency.
    """
    days = pd.date_range(pd.Timestamp(start).floor("D"), pd.Timestamp(end).floor("D"), freq="D")
    if len(close_dates) == 0:
        return pd.Series(0.0, index=days, name="profit_abs")
    s = pd.Series(np.asarray(profit_abs, dtype=np.float64),
                  index=pd.DatetimeIndex(close_dates).floor("D"))
    per_day = s.groupby(level=0).sum()
    return per_day.reindex(days.union(per_day.index), fill_value=0.0).rename("profit_abs")


def daily_returns(daily: pd.Series, starting_balance: float) -> pd.Series:
    """Simple daily returns of the closed-trade balance.

    ``balance_d = starting_balance + cumsum(profit)_d``; ``r_d = profit_d / balance_{d-1}``
    (``balance_{-1}`` = ``starting_balance``), i.e. the ``pct_change`` of the end-of-day balance
    (freqtrade ``_calculate_daily_returns_from_balance``) with the first day included.

    Parameters
    ----------
    daily : Series
        Output of :func:`daily_profit` (quote currency per day).
    starting_balance : float
        Quote currency, > 0.

    Returns
    -------
    Series
        Same index, ratio per day.
    """
    profit = daily.to_numpy(np.float64)
    balance = starting_balance + np.cumsum(profit)
    previous = np.concatenate([[starting_balance], balance[:-1]])
    return pd.Series(profit / previous, index=daily.index, name="return")


def sharpe_ratio(returns: np.ndarray | pd.Series, periods: int = 365, *, ddof: int = 0) -> float:
    """Annualised Sharpe ratio (risk-free rate 0) of a return series.

    ``mean(r) / std(r, ddof) * sqrt(periods)`` (Sharpe 1966/1994). ``ddof=0`` is freqtrade's
    ``calculate_sharpe_from_balance``; ``ddof=1`` is empyrical ``sharpe_ratio`` and quantstats
    ``sharpe``.

    Returns
    -------
    float
        0.0 for an empty series; -100.0 when the deviation is 0 or undefined.
    """
    r = _returns(returns)
    if len(r) == 0:
        return 0.0
    std = float(np.std(r, ddof=ddof)) if len(r) > ddof else math.nan
    return annualized_ratio(float(r.mean()), std, periods)


def sortino_ratio(returns: np.ndarray | pd.Series, periods: int = 365, *,
                  downside: Literal["losses", "semideviation"] = "losses") -> float:
    """Annualised Sortino ratio (target return 0) of a return series.

    ``mean(r) / downside_deviation * sqrt(periods)`` with the downside deviation either

    - ``"losses"``: the population standard deviation of the negative returns only
      (freqtrade ``calculate_sortino_from_balance``), or
    - ``"semideviation"``: ``sqrt(mean(min(r, 0)^2))`` over *all* periods, the target
      semideviation of Sortino & Price (1994), as in empyrical ``sortino_ratio`` and quantstats
      ``sortino``.

    Returns
    -------
    float
        0.0 for an empty series; -100.0 when the deviation is 0 or undefined.
    """
    r = _returns(returns)
    if len(r) == 0:
        return 0.0
    if downside == "semideviation":
        down = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    else:
        neg = r[r < 0]
        down = float(np.std(neg)) if len(neg) else math.nan
    return annualized_ratio(float(r.mean()), down, periods)


def annual_return(returns: np.ndarray | pd.Series, periods: int = 365) -> float:
    """Compound annual growth rate of a return series.

    ``prod(1 + r) ** (periods / n) - 1`` (the CAGR over ``n / periods`` years; empyrical
    ``annual_return``). Returns 0.0 for an empty series or a non-positive final value.
    """
    r = _returns(returns)
    if len(r) == 0:
        return 0.0
    growth = float(np.prod(1.0 + r))
    if growth <= 0:
        return 0.0
    return growth ** (periods / len(r)) - 1.0


def calmar_ratio(returns: np.ndarray | pd.Series, periods: int = 365) -> float:
    """Calmar ratio: :func:`annual_return` / maximum drawdown of the compounded series.

    Young (1991), over the whole series instead of 36 months; empyrical ``calmar_ratio``. (freqtrade's
    summary Calmar is a different, per-trade formula: :func:`atb.analytics.performance.calmar`.)

    Returns
    -------
    float
        -100.0 when there is no drawdown.
    """
    dd = max_drawdown_of_returns(_returns(returns))
    if dd == 0:
        return UNDEFINED_RATIO
    return annual_return(returns, periods) / dd
