"""Drawdown of an account: closed-trade curve (freqtrade's definitions) and return series.

The closed-trade curve is the cumulative ``profit_abs`` after each trade, ordered by close date,
preceded by a zero row (the account before the first trade). Its running peak is never below 0, so
the peak balance includes the starting balance: a run that only loses has its peak at the start.
Source: freqtrade ``_calc_drawdown_series`` / ``calculate_max_drawdown`` (``freqtrade/data/metrics.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from atb.errors import DataError

__all__ = [
    "DrawdownResult",
    "drawdown_series",
    "max_drawdown",
    "max_drawdown_of_returns",
    "relative_drawdown_of_balance",
    "underwater",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownResult:
    """Largest drawdown of cumulative closed-trade profit, and the drawdown at the end.

    Attributes
    ----------
    drawdown_abs : float
        Peak-to-trough loss of cumulative profit, quote currency (>= 0).
    relative_account_drawdown : float
        ``(peak balance - balance) / peak balance`` at the trough, balance = starting balance +
        cumulative profit (ratio, 0..1 unless the account goes negative).
    high_date, low_date : pandas.Timestamp
        Close time (UTC) of the trade at the peak and at the trough; the first trade's close time
        when the peak is the starting balance.
    high_value, low_value : float
        Cumulative profit at the peak and at the trough, quote currency.
    duration : datetime.timedelta
        ``low_date - high_date``.
    current_drawdown_abs : float
        Peak cumulative profit minus the final cumulative profit, quote currency.
    current_relative_account_drawdown : float
        Relative account drawdown after the last trade (ratio).
    current_high_date : pandas.Timestamp
        Close time (UTC) of the trade at the peak before the last trade.
    current_high_value : float
        Running peak of cumulative profit after the last trade (>= 0), quote currency.
    """

    drawdown_abs: float
    relative_account_drawdown: float
    high_date: pd.Timestamp
    low_date: pd.Timestamp
    high_value: float
    low_value: float
    duration: timedelta
    current_drawdown_abs: float
    current_relative_account_drawdown: float
    current_high_date: pd.Timestamp
    current_high_value: float


def drawdown_series(profit_abs: np.ndarray, starting_balance: float) -> pd.DataFrame:
    """Cumulative profit, running peak and drawdowns, with the zero row first.

    Parameters
    ----------
    profit_abs : ndarray, shape (n_trades,), float64
        Profit per trade in close order, quote currency.
    starting_balance : float
        Quote currency. With 0 the relative drawdown is taken against the peak profit alone
        (freqtrade's approximation when no balance is known).

    Returns
    -------
    DataFrame
        ``n_trades + 1`` rows, columns ``cumulative``, ``high_value`` (running max of cumulative,
        floored at 0), ``drawdown`` (cumulative - high_value, <= 0) and ``drawdown_relative``
        (ratio >= 0); row 0 is the account before the first trade (all zeros).
    """
    p = np.asarray(profit_abs, dtype=np.float64).reshape(-1)
    cumulative = np.concatenate([[0.0], np.cumsum(p)])
    high = np.maximum(0.0, np.maximum.accumulate(cumulative))
    if starting_balance:
        peak = starting_balance + high
        rel = (peak - (starting_balance + cumulative)) / peak
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(high > 0, (high - cumulative) / high, 0.0)
    rel[0] = 0.0
    return pd.DataFrame({"cumulative": cumulative, "high_value": high,
                         "drawdown": cumulative - high, "drawdown_relative": rel})


def _sorted(trades: pd.DataFrame, date_col: str, value_col: str) -> pd.DataFrame:
    for col in (date_col, value_col):
        if col not in trades.columns:
            raise DataError(f"drawdown: trades have no column {col!r}")
    return trades.sort_values(date_col, kind="stable").reset_index(drop=True)


def max_drawdown(trades: pd.DataFrame, starting_balance: float, *, relative: bool = False,
                 date_col: str = "close_date", value_col: str = "profit_abs") -> DrawdownResult:
    """Maximum drawdown of cumulative profit over trades sorted by ``date_col`` (stable sort).

    Parameters
    ----------
    trades : DataFrame
        At least ``date_col`` (UTC datetimes) and ``value_col`` (quote currency).
    starting_balance : float
        Quote currency.
    relative : bool
        False: the trough is the largest absolute drawdown (freqtrade's ``max_drawdown_abs`` /
        ``max_drawdown_account``). True: the largest *relative* drawdown ("max % of account
        underwater", freqtrade's ``max_relative_drawdown``).
    date_col, value_col : str
        Column names.

    Returns
    -------
    DrawdownResult
        All zeros (dates: the first trade's close) when no trade ever loses from a peak.

    Raises
    ------
    DataError
        If ``trades`` is empty or lacks a column.

    Notes
    -----
    Source: freqtrade ``calculate_max_drawdown``; the high index is the first maximum of the
    running peak up to the trough, dates are taken one row up because of the zero row.
    """
    if len(trades) == 0:
        raise DataError("max drawdown: no trades")
    t = _sorted(trades, date_col, value_col)
    s = drawdown_series(t[value_col].to_numpy(np.float64), starting_balance)
    cumulative, high = s["cumulative"].to_numpy(), s["high_value"].to_numpy()
    idx = int(s["drawdown_relative"].idxmax()) if relative else int(s["drawdown"].idxmin())
    high_idx = int(np.argmax(high[: idx + 1]))
    dates = t[date_col]
    high_date = pd.Timestamp(dates.iloc[max(high_idx - 1, 0)])
    low_date = pd.Timestamp(dates.iloc[max(idx - 1, 0)])
    cur_high_idx = int(np.argmax(high[:-1]))
    return DrawdownResult(
        drawdown_abs=float(abs(s["drawdown"].iloc[idx])),
        relative_account_drawdown=float(s["drawdown_relative"].iloc[idx]),
        high_date=high_date,
        low_date=low_date,
        high_value=float(cumulative[high_idx]),
        low_value=float(cumulative[idx]),
        duration=(low_date - high_date).to_pytimedelta(),
        current_drawdown_abs=float(high[-1] - cumulative[-1]),
        current_relative_account_drawdown=float(s["drawdown_relative"].iloc[-1]),
        current_high_date=pd.Timestamp(dates.iloc[max(cur_high_idx - 1, 0)]),
        current_high_value=float(high[-1]),
    )


def underwater(trades: pd.DataFrame, starting_balance: float, *, date_col: str = "close_date",
               value_col: str = "profit_abs") -> pd.DataFrame:
    """Underwater curve: the account's drawdown after each closed trade.

    Parameters
    ----------
    trades : DataFrame
        At least ``date_col`` and ``value_col``; sorted by ``date_col`` (stable) here.
    starting_balance : float
        Quote currency.

    Returns
    -------
    DataFrame
        One row per trade: ``date`` (UTC close time), ``cumulative`` and ``balance`` (quote
        currency), ``high_value`` (peak cumulative profit, >= 0), ``drawdown`` (quote currency,
        <= 0) and ``drawdown_relative`` (ratio of the peak balance, >= 0). Empty when there are no
        trades.

    Raises
    ------
    DataError
        If a column is missing.

    Notes
    -----
    Source: freqtrade ``calculate_underwater`` (here with ``profit_abs`` and the balance).
    """
    t = _sorted(trades, date_col, value_col)
    s = drawdown_series(t[value_col].to_numpy(np.float64), starting_balance).iloc[1:]
    s = s.reset_index(drop=True)
    return pd.DataFrame({
        "date": t[date_col].reset_index(drop=True),
        "cumulative": s["cumulative"],
        "balance": starting_balance + s["cumulative"],
        "high_value": s["high_value"],
        "drawdown": s["drawdown"],
        "drawdown_relative": s["drawdown_relative"],
    })


def relative_drawdown_of_balance(balance: np.ndarray) -> np.ndarray:
    """``(running peak - balance) / running peak`` of a positive balance series.

    Parameters
    ----------
    balance : ndarray, shape (n,), float64
        Account value over time, first element the starting value (> 0).

    Returns
    -------
    ndarray, shape (n,), float64
        Ratio >= 0; 0 at every new peak.
    """
    b = np.asarray(balance, dtype=np.float64).reshape(-1)
    peak = np.maximum.accumulate(b)
    return (peak - b) / peak


def max_drawdown_of_returns(returns: np.ndarray) -> float:
    """Largest relative drawdown of the compounded value of a return series.

    The value starts at 1 and becomes ``prod(1 + r)``; the peak includes the start (as the account
    drawdown above includes the starting balance). Same definition as empyrical ``max_drawdown``
    (reported there as a negative number) and quantstats ``max_drawdown``.

    Parameters
    ----------
    returns : ndarray, shape (n_periods,), float64
        Simple returns per period (ratio).

    Returns
    -------
    float
        Ratio >= 0; 0.0 for an empty series.
    """
    r = np.asarray(returns, dtype=np.float64).reshape(-1)
    if len(r) == 0:
        return 0.0
    value = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    return float(relative_drawdown_of_balance(value).max())
