"""Performance figures of a closed-trade list, with freqtrade 2026.9's definitions.

Inputs are per-trade profits in quote currency (``profit_abs``, float64 arrays of shape
``(n_trades,)``), the starting balance in quote currency and UTC datetimes. Every result is a ratio,
not a percent, unless a docstring says otherwise. Each function names the freqtrade function
(``freqtrade/data/metrics.py``) whose documented behaviour it reproduces; the parity test
``tests/parity/test_metrics_parity.py`` checks the numbers against freqtrade's own summaries.

freqtrade's summary ratios are *not* computed from a daily return series: ``sharpe``, ``sortino``
and ``calmar`` spread the summed trade returns over the calendar days of the backtest and divide
by the dispersion of the per-trade returns. The textbook daily-series versions (used by
empyrical/quantstats, and by freqtrade for live balance histories) live in
:mod:`atb.analytics.returns`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from atb.analytics._stats import student_t_two_sided_p

__all__ = [
    "UNDEFINED_RATIO",
    "annualized_ratio",
    "average_duration",
    "backtest_days",
    "cagr",
    "calmar",
    "expectancy",
    "market_change",
    "profit_factor",
    "sharpe",
    "sortino",
    "sqn",
    "sqn_p_value",
    "win_draw_loss",
]

#: Value freqtrade reports for a ratio whose denominator is 0 or NaN ("clearly not optimal").
UNDEFINED_RATIO = -100.0


def _profits(profit_abs: np.ndarray) -> np.ndarray:
    return np.asarray(profit_abs, dtype=np.float64).reshape(-1)


def annualized_ratio(mean_return: float, denominator: float, periods: int = 365) -> float:
    """``mean_return / denominator * sqrt(periods)``, or :data:`UNDEFINED_RATIO`.

    Parameters
    ----------
    mean_return : float
        Mean return per period (ratio).
    denominator : float
        Dispersion (standard deviation, downside deviation or drawdown, as a ratio).
    periods : int
        Periods per year (365 for calendar days, 252 for trading days).

    Returns
    -------
    float
        The annualised ratio; -100.0 when ``denominator`` is 0 or NaN.

    Notes
    -----
    freqtrade ``_calculate_annualized_ratio``.
    """
    if denominator != 0 and not math.isnan(denominator):
        return float(mean_return / denominator * math.sqrt(periods))
    return UNDEFINED_RATIO


def backtest_days(start: datetime, end: datetime) -> int:
    """Whole calendar days between ``start`` and ``end`` (at least 1).

    freqtrade's ``days_period = max(1, (max_date - min_date).days)``, where the dates are the open
    times of the first and last candle of the backtest range.
    """
    return max(1, (end - start).days)


def _period_days(n: int, start: datetime | None, end: datetime | None) -> int | None:
    """:func:`backtest_days`, or None when freqtrade returns 0 (no trades, no or empty period)."""
    if n == 0 or start is None or end is None or start == end:
        return None
    return backtest_days(start, end)


def sharpe(profit_abs: np.ndarray, start: datetime | None, end: datetime | None,
           starting_balance: float) -> float:
    """Sharpe ratio the way freqtrade's backtest summary reports it.

    ``r_i = profit_abs_i / starting_balance``; ``sharpe = (sum(r) / days) / std(r) * sqrt(365)``
    with ``std`` the population standard deviation (ddof 0) of the per-trade returns and
    ``days`` = :func:`backtest_days`.

    Parameters
    ----------
    profit_abs : ndarray, shape (n_trades,), float64
        Profit per trade, quote currency.
    start, end : datetime or None
        UTC open time of the first and last candle of the backtest range.
    starting_balance : float
        Quote currency, > 0.

    Returns
    -------
    float
        0.0 without trades or with an empty period; -100.0 when ``std`` is 0.

    Notes
    -----
    Source: freqtrade ``calculate_sharpe`` (Sharpe 1966, annualised with 365 calendar days).
    """
    p = _profits(profit_abs)
    days = _period_days(len(p), start, end)
    if days is None:
        return 0.0
    r = p / starting_balance
    return annualized_ratio(float(r.sum()) / days, float(np.std(r)))


def sortino(profit_abs: np.ndarray, start: datetime | None, end: datetime | None,
            starting_balance: float) -> float:
    """Sortino ratio the way freqtrade's backtest summary reports it.

    As :func:`sharpe`, with the denominator the population standard deviation (ddof 0) of the
    returns of the *losing* trades only; -100.0 when that deviation is 0 or undefined (fewer than
    two distinct losses).

    Notes
    -----
    Source: freqtrade ``calculate_sortino`` (after Sortino & Price 1994, per trade instead of a
    target semideviation over periods).
    """
    p = _profits(profit_abs)
    days = _period_days(len(p), start, end)
    if days is None:
        return 0.0
    r = p / starting_balance
    losses = r[p < 0]
    down = float(np.std(losses)) if len(losses) else math.nan
    return annualized_ratio(float(r.sum()) / days, down)


def calmar(profit_abs: np.ndarray, start: datetime | None, end: datetime | None,
           starting_balance: float, max_drawdown_account: float) -> float:
    """Calmar ratio the way freqtrade's backtest summary reports it.

    ``(sum(profit_abs) / starting_balance / days * 100) / max_drawdown_account * sqrt(365)``: the
    mean daily return in *percent* over the relative account drawdown (ratio).

    Parameters
    ----------
    profit_abs : ndarray, shape (n_trades,), float64
        Profit per trade, quote currency.
    start, end : datetime or None
        UTC bounds of the backtest range.
    starting_balance : float
        Quote currency, > 0.
    max_drawdown_account : float
        ``relative_account_drawdown`` of :func:`atb.analytics.drawdown.max_drawdown` (ratio).

    Returns
    -------
    float
        0.0 without trades; -100.0 when the drawdown is 0.

    Notes
    -----
    Source: freqtrade ``calculate_calmar`` (Young 1991, annualised freqtrade's way).
    """
    p = _profits(profit_abs)
    days = _period_days(len(p), start, end)
    if days is None:
        return 0.0
    mean_pct = float(p.sum()) / starting_balance / days * 100
    return annualized_ratio(mean_pct, max_drawdown_account)


def cagr(days: int, starting_balance: float, final_balance: float) -> float:
    """Compound annual growth rate ``(final / start) ** (365 / days) - 1``.

    Parameters
    ----------
    days : int
        Calendar days of the backtest (:func:`backtest_days` without the floor of 1).
    starting_balance, final_balance : float
        Quote currency.

    Returns
    -------
    float
        Ratio per year; 0.0 when ``final_balance < 0``, ``starting_balance <= 0`` or ``days <= 0``
        (and on float overflow).

    Notes
    -----
    Source: freqtrade ``calculate_cagr``.
    """
    if final_balance < 0 or starting_balance <= 0 or days <= 0:
        return 0.0
    try:
        return float((final_balance / starting_balance) ** (1 / (days / 365)) - 1)
    except OverflowError:
        return 0.0


def expectancy(profit_abs: np.ndarray) -> tuple[float, float]:
    """Expectancy per trade (quote currency) and expectancy ratio.

    ``E = winrate * avg_win - lossrate * avg_loss`` and
    ``ratio = (1 + avg_win / avg_loss) * winrate - 1`` (Van K. Tharp), with ``avg_loss`` the mean
    absolute loss of losing trades; draws count in the rates' denominators only.

    Returns
    -------
    tuple of float
        ``(expectancy, ratio)``; ``(0.0, 100.0)`` without trades, ratio 100.0 without losses.

    Notes
    -----
    Source: freqtrade ``calculate_expectancy``.
    """
    p = _profits(profit_abs)
    if len(p) == 0:
        return 0.0, 100.0
    wins, losses = p[p > 0], p[p < 0]
    avg_win = float(wins.sum()) / len(wins) if len(wins) else 0.0
    avg_loss = abs(float(losses.sum())) / len(losses) if len(losses) else 0.0
    winrate, lossrate = len(wins) / len(p), len(losses) / len(p)
    value = winrate * avg_win - lossrate * avg_loss
    ratio = (1 + avg_win / avg_loss) * winrate - 1 if avg_loss > 0 else 100.0
    return float(value), float(ratio)


def profit_factor(profit_abs: np.ndarray) -> float:
    """Gross profit / gross loss (both quote currency); 0.0 when there is no loss.

    Notes
    -----
    Source: freqtrade ``generate_strategy_stats`` (``profit_factor``), which reports 0 rather than
    infinity for a run without losing trades.
    """
    p = _profits(profit_abs)
    loss = abs(float(p[p < 0].sum()))
    return float(p[p > 0].sum()) / loss if loss else 0.0


def _sqn_raw(profit_abs: np.ndarray, starting_balance: float) -> float:
    r = _profits(profit_abs) / starting_balance
    std = float(np.std(r, ddof=1)) if len(r) > 1 else math.nan
    if std == 0 or math.isnan(std):
        return math.nan
    return math.sqrt(len(r)) * float(np.mean(r)) / std


def sqn(profit_abs: np.ndarray, starting_balance: float) -> float:
    """System Quality Number ``sqrt(n) * mean(r) / std(r)``, rounded to 4 decimals.

    ``r = profit_abs / starting_balance``; ``std`` is the sample standard deviation (ddof 1).

    Returns
    -------
    float
        0.0 without trades; -100.0 when ``std`` is 0 or undefined (one trade).

    Notes
    -----
    Source: Van K. Tharp, *Definitive Guide to Position Sizing* (2008); freqtrade
    ``calculate_sqn``.
    """
    p = _profits(profit_abs)
    if len(p) == 0:
        return 0.0
    raw = _sqn_raw(p, starting_balance)
    return UNDEFINED_RATIO if math.isnan(raw) else round(raw, 4)


def sqn_p_value(profit_abs: np.ndarray) -> float:
    """Two-sided p-value of a one-sample t-test of mean trade profit = 0.

    The unrounded SQN is exactly the one-sample t statistic, so this is
    ``2 * P(T_{n-1} > |sqrt(n) mean / std|)`` for a Student t with ``n - 1`` degrees of freedom.

    Returns
    -------
    float
        In [0, 1]; 1.0 with fewer than two trades or a zero standard deviation.

    Notes
    -----
    Matches freqtrade 2026.9's per-row ``p_value`` (checked in the parity test) and
    ``scipy.stats.ttest_1samp(profit_abs, 0).pvalue`` (checked in the unit tests).
    """
    p = _profits(profit_abs)
    raw = _sqn_raw(p, 1.0)
    if math.isnan(raw):
        return 1.0
    return student_t_two_sided_p(raw, len(p) - 1)


def win_draw_loss(profit_abs: np.ndarray) -> tuple[int, int, int]:
    """Numbers of trades with ``profit_abs`` > 0, == 0 and < 0 (freqtrade's wins/draws/losses)."""
    p = _profits(profit_abs)
    return int((p > 0).sum()), int((p == 0).sum()), int((p < 0).sum())


def average_duration(minutes: np.ndarray) -> str:
    """Mean trade duration as freqtrade prints it (``str(timedelta)`` of the rounded minutes).

    Parameters
    ----------
    minutes : ndarray, shape (n_trades,)
        Trade durations in minutes.

    Returns
    -------
    str
        E.g. ``"2 days, 7:46:00"``; ``"0:00"`` without trades (freqtrade's empty-row value).
    """
    m = np.asarray(minutes, dtype=np.float64).reshape(-1)
    if len(m) == 0:
        return "0:00"
    return str(timedelta(minutes=round(float(m.mean()))))


def market_change(closes: Mapping[str, np.ndarray | pd.Series]) -> float:
    """Mean over pairs of ``last close / first close - 1`` (ratio).

    Parameters
    ----------
    closes : mapping of pair to close prices
        Close prices (quote currency) of each pair over the backtest range, in time order; NaNs
        are skipped, pairs without a positive first close are left out.

    Returns
    -------
    float
        0.0 when no pair qualifies.

    Notes
    -----
    Source: freqtrade ``calculate_market_change`` (first and last non-null close per pair, then
    the mean over pairs).
    """
    changes = []
    for values in closes.values():
        c = np.asarray(values, dtype=np.float64).reshape(-1)
        c = c[~np.isnan(c)]
        if len(c) and c[0] > 0:
            changes.append(c[-1] / c[0] - 1.0)
    return float(np.mean(changes)) if changes else 0.0
