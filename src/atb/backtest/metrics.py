"""Summary metrics of a :class:`BacktestResult`, in freqtrade's shape.

:func:`compute_metrics` returns a JSON-serialisable dict whose keys include every key of freqtrade's
``summary.json`` (``../shared/parity/cases/*/summary.json``) with the same values (checked by
``tests/parity/test_metrics_parity.py``), plus the rest of freqtrade's "SUMMARY METRICS" block.
Formulas live in :mod:`atb.analytics` (each cited there); this module only assembles them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from atb.analytics import performance as perf
from atb.analytics.drawdown import max_drawdown, underwater
from atb.analytics.returns import daily_profit
from atb.analytics.tables import TOTAL_KEY, group_table
from atb.backtest.results import BacktestResult
from atb.errors import DataError

__all__ = ["UNTAGGED_LABEL", "compute_metrics", "daily_summary", "equity_curve"]

#: Key of the enter-tag row of trades opened without a tag (freqtrade prints "OTHER").
UNTAGGED_LABEL = "OTHER"

_NEEDED = ("pair", "close_date", "profit_abs", "profit_ratio", "exit_reason", "enter_tag",
           "trade_duration", "stake_amount", "amount", "open_rate", "close_rate")


def _iso(ts: Any) -> str | None:
    return None if ts is None else pd.Timestamp(ts).isoformat()


def _check(result: BacktestResult) -> pd.DataFrame:
    missing = [c for c in _NEEDED if c not in result.trades.columns]
    if missing:
        raise DataError(f"backtest result of {result.strategy}: trades lack columns {missing}")
    if not result.starting_balance > 0:
        raise DataError(f"backtest result of {result.strategy}: starting_balance must be > 0, "
                        f"got {result.starting_balance}")
    return result.trades


def equity_curve(result: BacktestResult) -> pd.DataFrame:
    """Closed-trade account balance and its drawdown, from the starting balance.

    Returns
    -------
    DataFrame
        ``n_trades + 1`` rows: first ``backtest_start`` with the starting balance, then one row per
        trade at its close time (stable-sorted). Columns ``date`` (UTC), ``balance`` and
        ``drawdown`` (quote currency, <= 0) and ``drawdown_relative`` (ratio of the peak balance,
        the underwater curve).
    """
    t = _check(result)
    uw = underwater(t, result.starting_balance)
    first = pd.DataFrame({"date": [pd.Timestamp(result.backtest_start)],
                          "balance": [result.starting_balance], "drawdown": [0.0],
                          "drawdown_relative": [0.0]})
    rest = uw[["date", "balance", "drawdown", "drawdown_relative"]]
    if rest.empty:
        return first
    first["date"] = first["date"].astype(rest["date"].dtype)
    return pd.concat([first, rest], ignore_index=True)


def daily_summary(result: BacktestResult) -> pd.DataFrame:
    """Trades closed and profit per UTC calendar day over the whole backtest range.

    Returns
    -------
    DataFrame
        Index: UTC days from ``backtest_start`` to ``backtest_end``; columns ``trades`` (int64,
        trades closed that day) and ``profit_abs`` (quote currency).
    """
    t = _check(result)
    profit = daily_profit(t["close_date"], t["profit_abs"].to_numpy(np.float64),
                          result.backtest_start, result.backtest_end)
    counts = (pd.Series(1, index=pd.DatetimeIndex(t["close_date"]).floor("D"))
              .groupby(level=0).sum() if len(t) else pd.Series(dtype=np.int64))
    return pd.DataFrame({"trades": counts.reindex(profit.index, fill_value=0).astype(np.int64),
                         "profit_abs": profit})


def _daily_stats(t: pd.DataFrame) -> dict[str, Any]:
    """Best/worst day and winning/draw/losing days (freqtrade ``generate_daily_stats``).

    Days run from the first to the last close; a day's relative profit is the sum of its trades'
    ``profit_ratio``; days without a close are draws.
    """
    if len(t) == 0:
        return {"backtest_best_day": 0.0, "backtest_worst_day": 0.0, "backtest_best_day_abs": 0.0,
                "backtest_worst_day_abs": 0.0, "winning_days": 0, "draw_days": 0, "losing_days": 0}
    days = t.set_index(pd.DatetimeIndex(t["close_date"]).floor("D"))
    rel = days["profit_ratio"].groupby(level=0).sum()
    abs_ = days["profit_abs"].groupby(level=0).sum()
    full = pd.date_range(abs_.index.min(), abs_.index.max(), freq="D")
    rel, abs_ = rel.reindex(full, fill_value=0.0), abs_.reindex(full, fill_value=0.0)
    return {"backtest_best_day": float(rel.max()), "backtest_worst_day": float(rel.min()),
            "backtest_best_day_abs": float(abs_.max()), "backtest_worst_day_abs": float(abs_.min()),
            "winning_days": int((abs_ > 0).sum()), "draw_days": int((abs_ == 0).sum()),
            "losing_days": int((abs_ < 0).sum())}


def _drawdown(t: pd.DataFrame, balance: float) -> dict[str, Any]:
    """Drawdown block (freqtrade keys; dates ISO-8601 UTC, duration as ``str(timedelta)``)."""
    if len(t) == 0:
        return {"max_drawdown_account": 0.0, "max_relative_drawdown": 0.0, "max_drawdown_abs": 0.0,
                "max_drawdown_high": 0.0, "max_drawdown_low": 0.0, "drawdown_start": None,
                "drawdown_end": None, "drawdown_duration": "0:00:00",
                "current_drawdown_abs": 0.0, "current_drawdown_account": 0.0}
    dd = max_drawdown(t, balance)
    rel = max_drawdown(t, balance, relative=True)
    return {
        "max_drawdown_account": dd.relative_account_drawdown,
        "max_relative_drawdown": rel.relative_account_drawdown,
        "max_drawdown_abs": dd.drawdown_abs,
        "max_drawdown_high": dd.high_value,
        "max_drawdown_low": dd.low_value,
        "drawdown_start": _iso(dd.high_date),
        "drawdown_end": _iso(dd.low_date),
        "drawdown_duration": str(dd.duration),
        "current_drawdown_abs": dd.current_drawdown_abs,
        "current_drawdown_account": dd.current_relative_account_drawdown,
    }


def _trades_block(t: pd.DataFrame, balance: float, days: int) -> dict[str, Any]:
    """Counts, profit, ratios and durations over all trades."""
    p = t["profit_abs"].to_numpy(np.float64)
    n = len(p)
    wins, draws, losses = perf.win_draw_loss(p)
    dur = t["trade_duration"].to_numpy(np.float64)
    exp, exp_ratio = perf.expectancy(p)
    volume = t["amount"].to_numpy(np.float64) * (t["open_rate"].to_numpy(np.float64)
                                                 + t["close_rate"].to_numpy(np.float64))
    return {
        "total_trades": n,
        "trades_per_day": round(n / days, 2),
        "profit_total_abs": float(p.sum()),
        "profit_total": float(p.sum()) / balance,
        "profit_mean": float(t["profit_ratio"].mean()) if n else 0.0,
        "profit_median": float(t["profit_ratio"].median()) if n else 0.0,
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "winrate": wins / n if n else 0.0,
        "expectancy": exp,
        "expectancy_ratio": exp_ratio,
        "profit_factor": perf.profit_factor(p),
        "sqn": perf.sqn(p, balance),
        "avg_stake_amount": float(t["stake_amount"].mean()) if n else 0.0,
        "total_volume": float(volume.sum()),
        "holding_avg": perf.average_duration(dur),
        "winner_holding_avg": perf.average_duration(dur[p > 0]),
        "loser_holding_avg": perf.average_duration(dur[p < 0]),
    }


def _best_worst(t: pd.DataFrame, pair_rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in pair_rows if r["key"] != TOTAL_KEY]
    out: dict[str, Any] = {"best_pair": None, "best_pair_profit_total": 0.0, "worst_pair": None,
                           "worst_pair_profit_total": 0.0, "best_trade": None, "worst_trade": None}
    if rows:
        best = max(rows, key=lambda r: r["profit_total_abs"])
        worst = min(rows, key=lambda r: r["profit_total_abs"])
        out.update(best_pair=best["key"], best_pair_profit_total=best["profit_total"],
                   worst_pair=worst["key"], worst_pair_profit_total=worst["profit_total"])
    if len(t):
        ratio = t["profit_ratio"].to_numpy(np.float64)
        for name, i in (("best_trade", int(np.argmax(ratio))), ("worst_trade", int(np.argmin(ratio)))):
            row = t.iloc[i]
            out[name] = {"pair": str(row["pair"]), "profit_ratio": float(row["profit_ratio"]),
                         "profit_abs": float(row["profit_abs"])}
    return out


def compute_metrics(result: BacktestResult) -> dict[str, Any]:
    """All summary metrics of a run (JSON-serialisable: dates ISO-8601 UTC, NaN/inf -> None).

    Parameters
    ----------
    result : BacktestResult
        Trades with :data:`atb.backtest.results.TRADE_COLUMNS`, starting balance > 0.

    Returns
    -------
    dict
        freqtrade's ``summary.json`` keys (``total_trades``, ``profit_total`` (ratio),
        ``profit_total_abs`` (quote currency), ``wins``/``draws``/``losses``,
        ``max_drawdown_account`` (ratio), ``max_drawdown_abs``, ``sharpe``, ``sortino``,
        ``calmar``, ``profit_factor``, ``expectancy``, ``exit_reason_summary``,
        ``results_per_pair``), and ``results_per_enter_tag``, ``cagr``, ``sqn``, ``winrate``,
        ``expectancy_ratio``, durations, drawdown start/end/duration/high/low,
        ``max_relative_drawdown``, ``market_change``, best/worst pair, trade and day,
        ``rejected_signals``, ``starting_balance``/``final_balance``, ``backtest_start``/``end``,
        ``backtest_days``, ``trades_per_day``.

    Raises
    ------
    DataError
        If trade columns are missing or the starting balance is not positive.

    Notes
    -----
    Sharpe, Sortino, Calmar and CAGR use ``backtest_start``/``backtest_end`` (the first and last
    candle of the simulated range), as freqtrade uses its ``min_date``/``max_date``.
    """
    t = _check(result)
    balance = result.starting_balance
    start, end = result.backtest_start, result.backtest_end
    days = perf.backtest_days(start, end)
    p = t["profit_abs"].to_numpy(np.float64)
    m: dict[str, Any] = {
        "strategy": result.strategy, "timeframe": result.timeframe,
        "stake_currency": result.stake_currency, "max_open_trades": result.max_open_trades,
        "pairs": list(result.pairs), "backtest_start": _iso(start), "backtest_end": _iso(end),
        "backtest_days": days, "starting_balance": balance, "final_balance": balance + float(p.sum()),
    }
    m.update(_trades_block(t, balance, days))
    m.update(_drawdown(t, balance))
    m.update(
        cagr=perf.cagr((end - start).days, balance, m["final_balance"]),
        sharpe=perf.sharpe(p, start, end, balance),
        sortino=perf.sortino(p, start, end, balance),
        calmar=perf.calmar(p, start, end, balance, m["max_drawdown_account"]),
        market_change=result.market_change,
        rejected_signals=result.rejected_signals,
    )
    pairs = [q for q in result.pairs if q not in result.skipped_pairs]
    pairs += sorted(set(t["pair"]) - set(pairs))
    m["results_per_pair"] = group_table(t, "pair", pairs, balance, start, end)
    reasons = list(dict.fromkeys(t["exit_reason"].astype(str)))
    m["exit_reason_summary"] = group_table(t, "exit_reason", reasons, balance, start, end)
    tags = t["enter_tag"].fillna("").astype(str)
    m["results_per_enter_tag"] = group_table(
        t.assign(enter_tag=tags), "enter_tag", list(dict.fromkeys(tags)), balance, start, end,
        labels={"": UNTAGGED_LABEL})
    m.update(_best_worst(t, m["results_per_pair"]))
    m.update(_daily_stats(t))
    return _clean(m)


def _clean(obj: Any) -> Any:
    """Make numpy scalars plain Python; NaN/inf become None (valid JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj
