"""Terminal report in freqtrade's shape (rich tables)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table

from atb.backtest.results import BacktestResult

__all__ = ["render_report", "report_text"]


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _stats_table(title: str, first: str, rows: list[dict[str, Any]], stake: str) -> Table:
    table = Table(title=title, title_style="bold")
    for col in (first, "Trades", "Avg Profit %", f"Tot Profit {stake}", "Tot Profit %",
                "Avg Duration", "Win  Draw  Loss  Win%"):
        table.add_column(col, justify="left" if col == first else "right")
    for r in rows:
        wl = f"{r['wins']:>4}  {r['draws']:>4}  {r['losses']:>4}  {r['winrate'] * 100:5.1f}"
        table.add_row(str(r["key"] or "OTHER"), str(r["trades"]), f"{r['profit_mean_pct']:.2f}",
                      f"{r['profit_total_abs']:.3f}", f"{r['profit_total_pct']:.2f}",
                      r["duration_avg"], wl)
    return table


def _summary_table(result: BacktestResult, m: dict[str, Any]) -> Table:
    stake = result.stake_currency
    table = Table(title="SUMMARY METRICS", title_style="bold")
    table.add_column("Metric")
    table.add_column("Value")
    best = m.get("best_trade") or {}
    worst = m.get("worst_trade") or {}
    rows = [
        ("Backtesting from", m["backtest_start"]), ("Backtesting to", m["backtest_end"]),
        ("Max open trades", str(m["max_open_trades"])), ("", ""),
        ("Total/Daily Avg Trades", f"{m['total_trades']} / {m['trades_per_day']}"),
        ("Starting balance", f"{m['starting_balance']:.3f} {stake}"),
        ("Final balance", f"{m['final_balance']:.3f} {stake}"),
        ("Absolute profit", f"{m['profit_total_abs']:.3f} {stake}"),
        ("Total profit %", f"{m['profit_total'] * 100:.2f}%"),
        ("CAGR %", f"{m['cagr'] * 100:.2f}%"),
        ("Sortino", _fmt(m["sortino"], 2)), ("Sharpe", _fmt(m["sharpe"], 2)),
        ("Calmar", _fmt(m["calmar"], 2)), ("SQN", _fmt(m["sqn"], 2)),
        ("Profit factor", _fmt(m["profit_factor"], 2)),
        ("Expectancy (Ratio)", f"{_fmt(m['expectancy'], 2)} ({_fmt(m['expectancy_ratio'], 2)})"),
        ("Avg. stake amount", f"{m['avg_stake_amount']:.3f} {stake}"),
        ("Total trade volume", f"{m['total_volume']:.3f} {stake}"), ("", ""),
        ("Best Pair", str(m.get("best_pair"))), ("Worst Pair", str(m.get("worst_pair"))),
        ("Best trade", f"{best.get('pair', '-')} {best.get('profit_ratio', 0) * 100:.2f}%"),
        ("Worst trade", f"{worst.get('pair', '-')} {worst.get('profit_ratio', 0) * 100:.2f}%"),
        ("Win / Draw / Loss", f"{m['wins']} / {m['draws']} / {m['losses']}"),
        ("Avg. Duration Winners", m["winner_holding_avg"]),
        ("Avg. Duration Loser", m["loser_holding_avg"]),
        ("Rejected Entry signals", str(m["rejected_signals"])), ("", ""),
        ("Max % of account underwater", f"{m['max_relative_drawdown'] * 100:.2f}%"),
        ("Absolute Drawdown (Account)", f"{m['max_drawdown_account'] * 100:.2f}%"),
        ("Absolute Drawdown", f"{m['max_drawdown_abs']:.3f} {stake}"),
        ("Drawdown high", f"{m['max_drawdown_high']:.3f} {stake}"),
        ("Drawdown low", f"{m['max_drawdown_low']:.3f} {stake}"),
        ("Drawdown Start", str(m["drawdown_start"])), ("Drawdown End", str(m["drawdown_end"])),
        ("Drawdown Duration", m["drawdown_duration"]),
        ("Market change", f"{m['market_change'] * 100:.2f}%"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    return table


def render_report(result: BacktestResult, metrics: dict[str, Any], console: Console | None = None) -> None:
    """Print the report: per-pair, enter-tag and exit-reason tables, then summary metrics."""
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    stake = result.stake_currency
    console.print(_stats_table("BACKTESTING REPORT", "Pair", metrics["results_per_pair"], stake))
    console.print(_stats_table("ENTER TAG STATS", "Enter Tag", metrics["results_per_enter_tag"], stake))
    console.print(_stats_table("EXIT REASON STATS", "Exit Reason", metrics["exit_reason_summary"],
                               stake))
    console.print(_summary_table(result, metrics))


def report_text(result: BacktestResult, metrics: dict[str, Any], width: int = 140) -> str:
    """The report as plain text (no colours)."""
    console = Console(record=True, width=width, file=io.StringIO())
    render_report(result, metrics, console)
    return console.export_text()
