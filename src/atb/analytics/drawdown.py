"""Drawdown of the closed-trade equity curve (freqtrade's definitions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DrawdownResult", "max_drawdown", "underwater"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DrawdownResult:
    """Largest drawdown of cumulative closed-trade profit.

    Attributes
    ----------
    drawdown_abs : float
        Peak-to-trough loss, quote currency (>= 0).
    relative_account_drawdown : float
        Loss relative to the account at the peak: ``(peak balance - balance) / peak balance``
        with balance = starting balance + cumulative profit (ratio).
    high_date, low_date : pandas.Timestamp
        Close time of the trade at the peak and at the trough (UTC).
    high_value, low_value : float
        Cumulative profit at the peak and at the trough, quote currency.
    """

    drawdown_abs: float
    relative_account_drawdown: float
    high_date: pd.Timestamp
    low_date: pd.Timestamp
    high_value: float
    low_value: float


def _series(profits: np.ndarray, starting_balance: float) -> tuple[np.ndarray, ...]:
    cumulative = np.concatenate([[0.0], np.cumsum(profits)])
    high = np.maximum(0.0, np.maximum.accumulate(cumulative))
    high[0] = 0.0
    drawdown = cumulative - high
    if starting_balance:
        rel = ((starting_balance + high) - (starting_balance + cumulative)) / (starting_balance + high)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(high > 0, (high - cumulative) / high, 0.0)
    rel[0] = 0.0
    return cumulative, high, drawdown, rel


def max_drawdown(trades: pd.DataFrame, starting_balance: float, *, relative: bool = False,
                 date_col: str = "close_date", value_col: str = "profit_abs") -> DrawdownResult:
    """Maximum drawdown of cumulative profit over trades sorted by ``date_col``.

    The curve starts at 0 before the first trade; the peak is never below 0 (freqtrade
    ``calculate_max_drawdown``). ``relative=True`` selects the largest *relative* drawdown.

    Raises
    ------
    ValueError
        If there are no trades.
    """
    if len(trades) == 0:
        raise ValueError("no trades")
    t = trades.sort_values(date_col, kind="stable").reset_index(drop=True)
    cumulative, high, drawdown, rel = _series(t[value_col].to_numpy(float), starting_balance)
    idx = int(np.argmax(rel)) if relative else int(np.argmin(drawdown))
    high_idx = int(np.argmax(high[: idx + 1]))
    dates = t[date_col]
    return DrawdownResult(
        drawdown_abs=float(abs(drawdown[idx])),
        relative_account_drawdown=float(rel[idx]),
        high_date=dates.iloc[max(high_idx - 1, 0)],
        low_date=dates.iloc[max(idx - 1, 0)],
        high_value=float(cumulative[high_idx]),
        low_value=float(cumulative[idx]),
    )


def underwater(trades: pd.DataFrame, starting_balance: float) -> pd.DataFrame:
    """Drawdown after each closed trade (columns date, cumulative, drawdown, drawdown_relative)."""
    t = trades.sort_values("close_date", kind="stable").reset_index(drop=True)
    cumulative, high, drawdown, rel = _series(t["profit_abs"].to_numpy(float), starting_balance)
    return pd.DataFrame({
        "date": t["close_date"], "cumulative": cumulative[1:], "drawdown": drawdown[1:],
        "drawdown_relative": rel[1:],
    })
