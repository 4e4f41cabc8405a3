"""Summary metrics of a :class:`BacktestResult`, in freqtrade's shape (``summary.json`` keys)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from atb.analytics import performance as perf
from atb.analytics.drawdown import max_drawdown
from atb.backtest.results import BacktestResult

__all__ = ["compute_metrics", "equity_curve", "group_stats"]


def _duration(minutes: float) -> str:
    if not np.isfinite(minutes):
        return "0:00:00"
    return str(timedelta(minutes=round(minutes)))


def group_stats(trades: pd.DataFrame, key: str, starting_balance: float) -> dict[str, Any]:
    """One row of a per-pair / per-exit-reason / per-tag table.

    ``profit_mean`` is the mean trade ``profit_ratio``; ``profit_total`` is the summed
    ``profit_abs`` over the starting balance (ratio); ``_pct`` values are those x100 rounded to
    2 decimals, as in freqtrade's tables.
    """
    p = trades["profit_abs"].to_numpy(float)
    n = len(trades)
    mean = float(trades["profit_ratio"].mean()) if n else 0.0
    total_abs = float(p.sum())
    wins, draws, losses = int((p > 0).sum()), int((p == 0).sum()), int((p < 0).sum())
    return {
        "key": key,
        "trades": n,
        "profit_mean": mean,
        "profit_mean_pct": round(mean * 100, 2),
        "profit_total_abs": total_abs,
        "profit_total": total_abs / starting_balance if starting_balance else 0.0,
        "profit_total_pct": round(total_abs / starting_balance * 100, 2) if starting_balance else 0.0,
        "duration_avg": _duration(float(trades["trade_duration"].mean()) if n else 0.0),
        "wins": wins,
        "draws": draws,
        "losses": losses,
        "winrate": wins / n if n else 0.0,
    }


def _table(trades: pd.DataFrame, column: str, keys: list[str], start_balance: float,
           total: bool) -> list[dict[str, Any]]:
    rows = [group_stats(trades[trades[column] == k], k, start_balance) for k in keys]
    rows.sort(key=lambda r: r["profit_total_abs"], reverse=True)
    if total:
        rows.append(group_stats(trades, "TOTAL", start_balance))
    return rows


def equity_curve(result: BacktestResult) -> pd.DataFrame:
    """Account balance after each closed trade (columns date, balance, drawdown_relative)."""
    t = result.trades.sort_values("close_date", kind="stable")
    cum = t["profit_abs"].cumsum().to_numpy(float)
    balance = result.starting_balance + cum
    peak = np.maximum.accumulate(np.concatenate([[result.starting_balance], balance]))[1:]
    return pd.DataFrame({
        "date": t["close_date"].to_numpy(), "balance": balance,
        "drawdown_relative": (peak - balance) / peak,
    })


def compute_metrics(result: BacktestResult) -> dict[str, Any]:
    """All summary metrics of a run (JSON-serialisable; dates as ISO strings).

    Formulas: see :mod:`atb.analytics.performance` and :mod:`atb.analytics.drawdown`
    (freqtrade's definitions, checked against freqtrade's own summaries in tests/parity).
    """
    t = result.trades
    start_bal = result.starting_balance
    p = t["profit_abs"].to_numpy(float)
    n = len(t)
    start, end = result.backtest_start, result.backtest_end
    days = (end - start).days or 1
    final = start_bal + float(p.sum())
    exp, exp_ratio = perf.expectancy(p)
    m: dict[str, Any] = {
        "strategy": result.strategy,
        "timeframe": result.timeframe,
        "stake_currency": result.stake_currency,
        "max_open_trades": result.max_open_trades,
        "backtest_start": pd.Timestamp(start).isoformat(),
        "backtest_end": pd.Timestamp(end).isoformat(),
        "backtest_days": days,
        "total_trades": n,
        "trades_per_day": round(n / days, 2),
        "starting_balance": start_bal,
        "final_balance": final,
        "profit_total_abs": float(p.sum()),
        "profit_total": float(p.sum()) / start_bal if start_bal else 0.0,
        "profit_mean": float(t["profit_ratio"].mean()) if n else 0.0,
        "wins": int((p > 0).sum()),
        "draws": int((p == 0).sum()),
        "losses": int((p < 0).sum()),
        "winrate": float((p > 0).sum() / n) if n else 0.0,
        "cagr": perf.cagr(days, start_bal, final),
        "expectancy": exp,
        "expectancy_ratio": exp_ratio,
        "profit_factor": perf.profit_factor(p),
        "sqn": perf.sqn(p, start_bal),
        "sharpe": perf.sharpe(p, start, end, start_bal),
        "sortino": perf.sortino(p, start, end, start_bal),
        "market_change": result.market_change,
        "rejected_signals": result.rejected_signals,
        "avg_stake_amount": float(t["stake_amount"].mean()) if n else 0.0,
        "total_volume": float((t["stake_amount"] * 2).sum()) if n else 0.0,
        "holding_avg": _duration(float(t["trade_duration"].mean()) if n else 0.0),
        "winner_holding_avg": _duration(float(t.loc[p > 0, "trade_duration"].mean())
                                        if (p > 0).any() else 0.0),
        "loser_holding_avg": _duration(float(t.loc[p < 0, "trade_duration"].mean())
                                       if (p < 0).any() else 0.0),
    }
    m.update(_drawdown(t, start_bal))
    m["calmar"] = perf.calmar(p, start, end, start_bal, m["max_drawdown_account"]) if n else 0.0
    pairs = list(result.pairs)
    m["results_per_pair"] = _table(t, "pair", pairs, start_bal, total=True)
    reasons = list(dict.fromkeys(t["exit_reason"].tolist()))
    m["exit_reason_summary"] = _table(t, "exit_reason", reasons, start_bal, total=True)
    tags = list(dict.fromkeys(t["enter_tag"].tolist()))
    m["results_per_enter_tag"] = _table(t, "enter_tag", tags, start_bal, total=True)
    ranked = [r for r in m["results_per_pair"] if r["key"] != "TOTAL" and r["trades"]]
    m["best_pair"] = ranked[0]["key"] if ranked else None
    m["worst_pair"] = ranked[-1]["key"] if ranked else None
    if n:
        best, worst = t.loc[t["profit_ratio"].idxmax()], t.loc[t["profit_ratio"].idxmin()]
        m["best_trade"] = {"pair": best["pair"], "profit_ratio": float(best["profit_ratio"])}
        m["worst_trade"] = {"pair": worst["pair"], "profit_ratio": float(worst["profit_ratio"])}
    return _clean(m)


def _drawdown(t: pd.DataFrame, start_bal: float) -> dict[str, Any]:
    if len(t) == 0:
        return {"max_drawdown_account": 0.0, "max_relative_drawdown": 0.0, "max_drawdown_abs": 0.0,
                "drawdown_start": None, "drawdown_end": None, "drawdown_duration": "0:00:00",
                "max_drawdown_high": 0.0, "max_drawdown_low": 0.0}
    dd = max_drawdown(t, start_bal)
    rel = max_drawdown(t, start_bal, relative=True)
    return {
        "max_drawdown_account": dd.relative_account_drawdown,
        "max_relative_drawdown": rel.relative_account_drawdown,
        "max_drawdown_abs": dd.drawdown_abs,
        "drawdown_start": pd.Timestamp(dd.high_date).isoformat(),
        "drawdown_end": pd.Timestamp(dd.low_date).isoformat(),
        "drawdown_duration": str(pd.Timestamp(dd.low_date) - pd.Timestamp(dd.high_date)),
        "max_drawdown_high": dd.high_value,
        "max_drawdown_low": dd.low_value,
    }


def _clean(obj: Any) -> Any:
    """Make numpy scalars plain Python; NaN/inf become None (valid JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        f = float(obj)
        return f if math.isfinite(f) else None
    return obj
