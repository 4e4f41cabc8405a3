"""Self-contained HTML report of a backtest (plotly; opens offline).

One page: the title, the summary table, the per-pair table, the closed-trade equity curve above
its drawdown (underwater) curve, then one candlestick chart per pair with entry (triangle-up) and
exit (triangle-down) markers, when the result carries OHLC candles. plotly.js is embedded once,
inline, so the file needs no network.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from atb.backtest.metrics import equity_curve
from atb.backtest.report import fmt_coin
from atb.backtest.results import BacktestResult

__all__ = ["build_figures", "write_html_report"]

_SUMMARY = (
    ("Total trades", "total_trades", "int"), ("Starting balance", "starting_balance", "coin"),
    ("Final balance", "final_balance", "coin"), ("Absolute profit", "profit_total_abs", "coin"),
    ("Total profit", "profit_total", "pct"), ("CAGR", "cagr", "pct"), ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"), ("Calmar", "calmar", "num"), ("SQN", "sqn", "num"),
    ("Profit factor", "profit_factor", "num"), ("Expectancy", "expectancy", "num"),
    ("Win rate", "winrate", "pct"), ("Max drawdown (account)", "max_drawdown_account", "pct"),
    ("Max drawdown", "max_drawdown_abs", "coin"), ("Drawdown start", "drawdown_start", "str"),
    ("Drawdown end", "drawdown_end", "str"), ("Market change", "market_change", "pct"),
    ("Rejected entry signals", "rejected_signals", "int"),
)
_PAIR_COLUMNS = (("Pair", "key"), ("Trades", "trades"), ("Avg profit %", "profit_mean_pct"),
                 ("Tot profit", "profit_total_abs"), ("Tot profit %", "profit_total_pct"),
                 ("Avg duration", "duration_avg"), ("Wins", "wins"), ("Draws", "draws"),
                 ("Losses", "losses"))


def _fmt(kind: str, value: Any, stake: str) -> str:
    if value is None:
        return "-"
    if kind == "coin":
        return fmt_coin(value, stake)
    if kind == "pct":
        return f"{value * 100:.2f} %"
    if kind == "num":
        return f"{value:.3f}"
    return str(value)


def _pair_figure(pair: str, candles: pd.DataFrame, trades: pd.DataFrame) -> Any:
    import plotly.graph_objects as go

    t = trades[trades["pair"] == pair]
    fig = go.Figure()
    fig.add_trace(go.Candlestick(x=candles["date"], open=candles["open"], high=candles["high"],
                                 low=candles["low"], close=candles["close"], name=pair))
    fig.add_trace(go.Scatter(x=t["open_date"], y=t["open_rate"], mode="markers", name="entry",
                             text=t["enter_tag"],
                             marker={"symbol": "triangle-up", "size": 10, "color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=t["close_date"], y=t["close_rate"], mode="markers", name="exit",
                             text=[f"{r} {p * 100:.2f}%" for r, p in zip(t["exit_reason"],
                                                                         t["profit_ratio"],
                                                                         strict=True)],
                             marker={"symbol": "triangle-down", "size": 10, "color": "#d62728"}))
    fig.update_layout(title=f"{pair}: {len(t)} trades", xaxis_rangeslider_visible=False, height=450)
    return fig


def _equity_figure(result: BacktestResult) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    eq = equity_curve(result)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35],
                        subplot_titles=("Equity (closed trades)", "Drawdown (underwater)"))
    fig.add_trace(go.Scatter(x=eq["date"], y=eq["balance"], name="balance", mode="lines"), 1, 1)
    fig.add_trace(go.Scatter(x=eq["date"], y=-eq["drawdown_relative"] * 100, name="drawdown %",
                             fill="tozeroy", mode="lines", line={"color": "#d62728"}), 2, 1)
    if result.risk is not None:
        from atb.backtest.risk_report import account_equity

        mtm = account_equity(result)
        fig.add_trace(go.Scatter(x=mtm.index, y=mtm.to_numpy(), name="equity (mark-to-market)",
                                 mode="lines", line={"color": "#2ca02c"}), 1, 1)
        for a, b in result.risk.halted_periods:
            fig.add_vrect(x0=a, x1=b, fillcolor="#d62728", opacity=0.15, line_width=0,
                          annotation_text="HALTED", annotation_position="top left", row="all", col=1)
    fig.update_layout(height=550)
    return fig


def build_figures(result: BacktestResult) -> list[Any]:
    """The report's plotly figures: equity/drawdown first, then one per pair with OHLC candles.

    Returns
    -------
    list of plotly.graph_objects.Figure
        Pair figures have three traces: ``candlestick``, ``entry`` markers (one per trade of the
        pair, at open date / open rate) and ``exit`` markers (close date / close rate).
    """
    figures = [_equity_figure(result)]
    for pair, candles in (result.candles or {}).items():
        if {"date", "open", "high", "low", "close"} <= set(candles.columns):
            figures.append(_pair_figure(pair, candles, result.trades))
    return figures


def _tables(result: BacktestResult, metrics: dict[str, Any]) -> list[str]:
    stake = result.stake_currency
    parts = ["<table class='summary'>"]
    for label, key, kind in _SUMMARY:
        value = html.escape(_fmt(kind, metrics.get(key), stake))
        parts.append(f"<tr><th>{label}</th><td>{value}</td></tr>")
    parts.append("</table><h2>Per pair</h2><table class='pairs'><tr>")
    parts += [f"<th>{label}</th>" for label, _ in _PAIR_COLUMNS]
    parts.append("</tr>")
    for row in metrics.get("results_per_pair", []):
        cells = [fmt_coin(row[k], stake, with_currency=False) if k == "profit_total_abs"
                 else str(row[k]) for _, k in _PAIR_COLUMNS]
        parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    parts.append("</table>")
    from atb.backtest.report import strategy_sections
    from atb.backtest.risk_report import risk_sections

    for title, header, rows in [*risk_sections(result), *strategy_sections(result)]:
        parts.append(f"<h2>{html.escape(title)}</h2><table class='risk'><tr>")
        parts += [f"<th>{html.escape(h)}</th>" for h in header]
        parts.append("</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    return parts


def write_html_report(result: BacktestResult, metrics: dict[str, Any], path: Path) -> None:
    """Write the report to ``path`` (one HTML file, plotly.js inline; parent folders created).

    Parameters
    ----------
    result : BacktestResult
        The run; ``result.candles`` (pair -> OHLC frame with a ``date`` column) adds the pair
        charts.
    metrics : dict
        :func:`atb.backtest.metrics.compute_metrics` of ``result``.
    path : Path
        Output file.
    """
    title = (f"{html.escape(result.strategy)} &middot; {html.escape(result.timeframe)} &middot; "
             f"{result.backtest_start:%Y-%m-%d} to {result.backtest_end:%Y-%m-%d}")
    parts = [f"<h1>{title}</h1>", *_tables(result, metrics)]
    for i, fig in enumerate(build_figures(result)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>atb backtest report</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:left}"
            "table.pairs td{text-align:right}</style></head><body>"
            + "\n".join(parts) + "</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
