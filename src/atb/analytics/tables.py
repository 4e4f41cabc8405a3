"""Per-group result rows (per pair, exit reason, enter tag) in freqtrade's summary shape.

Each row carries the fields of a row of freqtrade 2026.9's ``results_per_pair`` /
``exit_reason_summary`` (``../shared/parity/cases/*/summary.json``), in that order, computed on
the group's trades against the whole account (the starting balance and the backtest's dates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from atb.analytics import performance as perf
from atb.analytics.drawdown import max_drawdown
from atb.errors import DataError

__all__ = ["ROW_FIELDS", "TOTAL_KEY", "group_row", "group_table"]

#: Key of the row over all trades, last in every table.
TOTAL_KEY = "TOTAL"

#: Fields of one row, in freqtrade's order.
ROW_FIELDS: tuple[str, ...] = (
    "key", "trades", "profit_mean", "profit_mean_pct", "profit_total_abs", "profit_total",
    "profit_total_pct", "duration_avg", "wins", "draws", "losses", "winrate", "cagr", "expectancy",
    "expectancy_ratio", "sortino", "sharpe", "calmar", "sqn", "p_value", "profit_factor",
    "max_drawdown_account", "max_drawdown_abs",
)

_NEEDED = ("close_date", "profit_abs", "profit_ratio", "trade_duration")


def group_row(trades: pd.DataFrame, key: str, starting_balance: float, start: datetime,
              end: datetime) -> dict[str, Any]:
    """Statistics of one group of trades.

    Parameters
    ----------
    trades : DataFrame
        The group's trades; columns ``close_date``, ``profit_abs`` (quote currency),
        ``profit_ratio`` and ``trade_duration`` (minutes). May be empty.
    key : str
        Row label (pair, exit reason, enter tag or :data:`TOTAL_KEY`).
    starting_balance : float
        Account starting balance, quote currency (> 0).
    start, end : datetime
        UTC bounds of the backtest (for CAGR, Sharpe, Sortino, Calmar).

    Returns
    -------
    dict
        Keys :data:`ROW_FIELDS`. ``profit_mean`` is the mean ``profit_ratio``; ``profit_total`` is
        the group's summed ``profit_abs`` over the starting balance; the ``*_pct`` values are those
        x100 rounded to 2 decimals; ``winrate`` is wins / trades; ``cagr`` grows the starting
        balance by the group's profit; ratios are :mod:`atb.analytics.performance`'s.

    Raises
    ------
    DataError
        If a needed column is missing.

    Notes
    -----
    Source: freqtrade ``_generate_result_line`` (``optimize_reports/optimize_reports.py``),
    checked field by field against freqtrade's summaries in ``tests/parity``.
    """
    missing = [c for c in _NEEDED if c not in trades.columns]
    if missing:
        raise DataError(f"result row {key!r}: trades lack columns {missing}")
    p = trades["profit_abs"].to_numpy(np.float64)
    n = len(p)
    wins, draws, losses = perf.win_draw_loss(p)
    total_abs = float(p.sum())
    mean = float(trades["profit_ratio"].to_numpy(np.float64).mean()) if n else 0.0
    total = total_abs / starting_balance
    dd_abs = dd_account = 0.0
    if n:
        dd = max_drawdown(trades, starting_balance)
        dd_abs, dd_account = dd.drawdown_abs, dd.relative_account_drawdown
    expectancy, expectancy_ratio = perf.expectancy(p)
    days = (end - start).days
    return {
        "key": key,
        "trades": n,
        "profit_mean": mean,
        "profit_mean_pct": round(mean * 100.0, 2),
        "profit_total_abs": total_abs,
        "profit_total": total,
        "profit_total_pct": round(total * 100.0, 2),
        "duration_avg": perf.average_duration(trades["trade_duration"].to_numpy(np.float64)),
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "winrate": wins / n if n else 0.0,
        "cagr": perf.cagr(days, starting_balance, starting_balance + total_abs),
        "expectancy": expectancy,
        "expectancy_ratio": expectancy_ratio,
        "sortino": perf.sortino(p, start, end, starting_balance),
        "sharpe": perf.sharpe(p, start, end, starting_balance),
        "calmar": perf.calmar(p, start, end, starting_balance, dd_account),
        "sqn": perf.sqn(p, starting_balance),
        "p_value": perf.sqn_p_value(p),
        "profit_factor": perf.profit_factor(p),
        "max_drawdown_account": dd_account,
        "max_drawdown_abs": dd_abs,
    }


def group_table(trades: pd.DataFrame, column: str, keys: list[str], starting_balance: float,
                start: datetime, end: datetime, *, total: bool = True,
                labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One :func:`group_row` per key, sorted by ``profit_total_abs`` (descending, stable).

    Parameters
    ----------
    trades : DataFrame
        All trades, with ``column`` besides the columns :func:`group_row` needs.
    column : str
        Grouping column (``pair``, ``exit_reason``, ``enter_tag``).
    keys : list of str
        Groups to show, in tie order; a key without trades gets an empty row (freqtrade lists every
        pair of the whitelist that had data).
    starting_balance : float
        Quote currency.
    start, end : datetime
        UTC bounds of the backtest.
    total : bool
        Append the :data:`TOTAL_KEY` row over all trades.
    labels : dict, optional
        Display key for a group value (e.g. ``{"": "OTHER"}`` for untagged entries).

    Returns
    -------
    list of dict
        Rows as :func:`group_row` returns them.

    Raises
    ------
    DataError
        If ``column`` is missing.

    Notes
    -----
    Source: freqtrade ``generate_pair_metrics`` / ``generate_tag_metrics`` (sorted by
    ``profit_total_abs``, reverse, then the TOTAL row).
    """
    if column not in trades.columns:
        raise DataError(f"result table: trades have no column {column!r}")
    labels = labels or {}
    values = trades[column].to_numpy(dtype=object)
    rows = [group_row(trades[values == k], labels.get(k, k), starting_balance, start, end)
            for k in keys]
    rows.sort(key=lambda r: r["profit_total_abs"], reverse=True)
    if total:
        rows.append(group_row(trades, TOTAL_KEY, starting_balance, start, end))
    return rows
