"""Terminal report of a backtest in freqtrade's shape (rich tables).

Four blocks, titled as freqtrade titles them: "BACKTESTING REPORT" (one row per pair),
"ENTER TAG STATS", "EXIT REASON STATS" and "SUMMARY METRICS". Values come from
:func:`atb.backtest.metrics.compute_metrics`; this module only formats them.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from atb.backtest.results import BacktestResult

__all__ = ["fmt_coin", "render_report", "render_strategy_report", "report_text", "strategy_sections"]

#: Decimals shown for amounts in a stake currency (freqtrade ``DECIMALS_PER_COIN``; default 3).
_COIN_DECIMALS = {"BTC": 8, "ETH": 5}


def fmt_coin(value: float | None, currency: str, *, with_currency: bool = True) -> str:
    """Amount in ``currency`` with freqtrade's decimals (8 for BTC, 5 for ETH, else 3).

    Examples
    --------
    >>> fmt_coin(1234.56789, "USDT")
    '1234.568 USDT'
    >>> fmt_coin(0.000123, "BTC", with_currency=False)
    '0.00012300'
    """
    if value is None:
        return "-"
    text = f"{value:.{_COIN_DECIMALS.get(currency, 3)}f}"
    return f"{text} {currency}" if with_currency else text


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def _date(value: str | None) -> str:
    return "-" if value is None else f"{pd.Timestamp(value):%Y-%m-%d %H:%M:%S}"


def _wdl(row: dict[str, Any]) -> str:
    """The "Win  Draw  Loss  Win%" cell of freqtrade's tables."""
    winrate = f"{row['winrate'] * 100:.1f}" if row["trades"] else "0"
    return f"{row['wins']:>4}  {row['draws']:>4}  {row['losses']:>4}  {winrate:>5}"


def _stats_table(title: str, first: str, rows: list[dict[str, Any]], stake: str) -> Table:
    table = Table(title=title, title_style="bold")
    for col in (first, "Trades", "Avg Profit %", f"Tot Profit {stake}", "Tot Profit %",
                "Avg Duration", "Win  Draw  Loss  Win%"):
        table.add_column(col, justify="left" if col == first else "right")
    for r in rows:
        table.add_row(str(r["key"]), str(r["trades"]), f"{r['profit_mean_pct']:.2f}",
                      fmt_coin(r["profit_total_abs"], stake, with_currency=False),
                      f"{r['profit_total_pct']:.2f}", r["duration_avg"], _wdl(r),
                      end_section=r["key"] == "TOTAL")
    return table


def _trade_cell(trade: dict[str, Any] | None) -> str:
    return "-" if not trade else f"{trade['pair']} {trade['profit_ratio'] * 100:.2f}%"


def _summary_rows(m: dict[str, Any], stake: str) -> list[tuple[str, str]]:
    wdl = f"{m['wins']} / {m['draws']} / {m['losses']}"
    return [
        ("Backtesting from", _date(m["backtest_start"])),
        ("Backtesting to", _date(m["backtest_end"])),
        ("Max open trades", str(m["max_open_trades"])),
        ("", ""),
        ("Total/Daily Avg Trades", f"{m['total_trades']} / {m['trades_per_day']}"),
        ("Starting balance", fmt_coin(m["starting_balance"], stake)),
        ("Final balance", fmt_coin(m["final_balance"], stake)),
        ("Absolute profit", fmt_coin(m["profit_total_abs"], stake)),
        ("Total profit %", _pct(m["profit_total"])),
        ("CAGR %", _pct(m["cagr"])),
        ("Sortino", _num(m["sortino"])),
        ("Sharpe", _num(m["sharpe"])),
        ("Calmar", _num(m["calmar"])),
        ("SQN", _num(m["sqn"])),
        ("Profit factor", _num(m["profit_factor"])),
        ("Expectancy (Ratio)", f"{_num(m['expectancy'])} ({_num(m['expectancy_ratio'])})"),
        ("Avg. stake amount", fmt_coin(m["avg_stake_amount"], stake)),
        ("Total trade volume", fmt_coin(m["total_volume"], stake)),
        ("", ""),
        ("Best Pair", f"{m['best_pair']} {_pct(m['best_pair_profit_total'])}"
         if m["best_pair"] else "-"),
        ("Worst Pair", f"{m['worst_pair']} {_pct(m['worst_pair_profit_total'])}"
         if m["worst_pair"] else "-"),
        ("Best trade", _trade_cell(m["best_trade"])),
        ("Worst trade", _trade_cell(m["worst_trade"])),
        ("Best day", fmt_coin(m["backtest_best_day_abs"], stake)),
        ("Worst day", fmt_coin(m["backtest_worst_day_abs"], stake)),
        ("Days win/draw/lose", f"{m['winning_days']} / {m['draw_days']} / {m['losing_days']}"),
        ("Win / Draw / Loss (Win%)", f"{wdl} ({_pct(m['winrate'])})"),
        ("Avg. Duration", m["holding_avg"]),
        ("Avg. Duration Winners", m["winner_holding_avg"]),
        ("Avg. Duration Loser", m["loser_holding_avg"]),
        ("Rejected Entry signals", str(m["rejected_signals"])),
        ("", ""),
        ("Max % of account underwater", _pct(m["max_relative_drawdown"])),
        ("Absolute Drawdown (Account)", _pct(m["max_drawdown_account"])),
        ("Absolute Drawdown", fmt_coin(m["max_drawdown_abs"], stake)),
        ("Drawdown high", fmt_coin(m["max_drawdown_high"], stake)),
        ("Drawdown low", fmt_coin(m["max_drawdown_low"], stake)),
        ("Drawdown Start", _date(m["drawdown_start"])),
        ("Drawdown End", _date(m["drawdown_end"])),
        ("Drawdown Duration", m["drawdown_duration"]),
        ("Market change", _pct(m["market_change"])),
    ]


def _summary_table(m: dict[str, Any], stake: str) -> Table:
    table = Table(title="SUMMARY METRICS", title_style="bold")
    table.add_column("Metric")
    table.add_column("Value")
    for name, value in _summary_rows(m, stake):
        table.add_row(name, value)
    return table


def render_report(result: BacktestResult, metrics: dict[str, Any],
                  console: Console | None = None) -> None:
    """Print the four report blocks to ``console`` (a new stdout console when None).

    Parameters
    ----------
    result : BacktestResult
        The run (stake currency, strategy name).
    metrics : dict
        :func:`atb.backtest.metrics.compute_metrics` of ``result``.
    console : rich.console.Console, optional
        Where to print; a non-terminal stdout gets a 160-column console so tables are not cut.
    """
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)
    stake = result.stake_currency
    console.print(f"Result for strategy {result.strategy}")
    console.print(_stats_table("BACKTESTING REPORT", "Pair", metrics["results_per_pair"], stake))
    console.print(_stats_table("ENTER TAG STATS", "Enter Tag", metrics["results_per_enter_tag"],
                               stake))
    console.print(_stats_table("EXIT REASON STATS", "Exit Reason", metrics["exit_reason_summary"],
                               stake))
    console.print(_summary_table(metrics, stake))
    from atb.backtest.risk_report import render_risk_report

    render_risk_report(result, console)
    render_strategy_report(result, console)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4f}"
    return "-" if value is None else str(value)


def strategy_sections(result: BacktestResult) -> list[tuple[str, list[str], list[list[str]]]]:
    """``(title, header, rows)`` of each strategy report section, cells formatted as text."""
    out = []
    for title, frame in result.strategy_report.items():
        if frame.empty:
            continue
        rows = [[_cell(r[c]) for c in frame.columns] for r in frame.to_dict("records")]
        if "n" in frame.columns and len(frame) > 1:
            rows.append([_cell(v) for v in _weighted_row(frame).values()])
        out.append((title.upper(), [str(c) for c in frame.columns], rows))
    return out


def render_strategy_report(result: BacktestResult, console: Console) -> None:
    """Print the strategy's own report sections (``result.strategy_report``), one table each.

    A numeric column whose section has an ``n`` column gets an ``ALL`` row with the
    ``n``-weighted mean (for counts, the sum).
    """
    for title, frame in result.strategy_report.items():
        if frame.empty:
            continue
        table = Table(title=title.upper(), title_style="bold")
        for col in frame.columns:
            table.add_column(str(col), justify="left" if col == "pair" else "right")
        rows = frame.to_dict("records")
        for r in rows:
            table.add_row(*(_cell(r[c]) for c in frame.columns), end_section=r is rows[-1])
        if "n" in frame.columns and len(frame) > 1:
            table.add_row(*(_cell(v) for v in _weighted_row(frame).values()))
        console.print(table)


def _weighted_row(frame: pd.DataFrame) -> dict[str, Any]:
    """``ALL`` row: sums of integer columns, ``n``-weighted means of float columns."""
    weights = pd.to_numeric(frame["n"], errors="coerce").fillna(0).to_numpy(dtype=float)
    out: dict[str, Any] = {}
    for col in frame.columns:
        values = frame[col]
        if col == "pair":
            out[col] = "ALL"
        elif pd.api.types.is_integer_dtype(values):
            out[col] = int(values.sum())
        elif pd.api.types.is_float_dtype(values) and weights.sum() > 0:
            v = values.to_numpy(dtype=float)
            ok = ~pd.isna(v)
            out[col] = float((v[ok] * weights[ok]).sum() / weights[ok].sum()) if ok.any() else None
        else:
            out[col] = None
    return out


def report_text(result: BacktestResult, metrics: dict[str, Any], width: int = 160) -> str:
    """The report as plain text (no colour codes), ``width`` columns wide."""
    console = Console(record=True, width=width, file=io.StringIO(), color_system=None)
    render_report(result, metrics, console)
    return console.export_text()
