"""Self-contained HTML report (plotly): candles with trades, equity, drawdown, summary."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from atb.backtest.metrics import equity_curve
from atb.backtest.results import BacktestResult

__all__ = ["write_html_report"]

_SUMMARY_KEYS = (
    "total_trades", "profit_total_abs", "profit_total", "cagr", "sharpe", "sortino", "calmar",
    "sqn", "profit_factor", "expectancy", "winrate", "max_drawdown_account", "max_drawdown_abs",
    "market_change", "rejected_signals",
)


_PERCENT_KEYS = {"profit_total", "cagr", "winrate", "max_drawdown_account", "market_change"}


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{value * 100:.2f} %" if key in _PERCENT_KEYS else f"{value:,.4f}"
    return str(value)


def _pair_figure(pair: str, candles: pd.DataFrame, trades: pd.DataFrame) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Candlestick(x=candles["date"], open=candles["open"], high=candles["high"],
                                 low=candles["low"], close=candles["close"], name=pair))
    t = trades[trades["pair"] == pair]
    fig.add_trace(go.Scatter(x=t["open_date"], y=t["open_rate"], mode="markers", name="entry",
                             marker={"symbol": "triangle-up", "size": 9, "color": "#1f77b4"}))
    fig.add_trace(go.Scatter(x=t["close_date"], y=t["close_rate"], mode="markers", name="exit",
                             text=t["exit_reason"],
                             marker={"symbol": "triangle-down", "size": 9, "color": "#d62728"}))
    fig.update_layout(title=f"{pair}: {len(t)} trades", xaxis_rangeslider_visible=False,
                      height=450)
    return fig


def _equity_figure(result: BacktestResult) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    eq = equity_curve(result)
    start = pd.DataFrame({"date": [pd.Timestamp(result.backtest_start)],
                          "balance": [result.starting_balance], "drawdown_relative": [0.0]})
    eq = pd.concat([start, eq], ignore_index=True)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35],
                        subplot_titles=("Equity (closed trades)", "Drawdown (underwater)"))
    fig.add_trace(go.Scatter(x=eq["date"], y=eq["balance"], name="balance", mode="lines"), 1, 1)
    fig.add_trace(go.Scatter(x=eq["date"], y=-eq["drawdown_relative"] * 100, name="drawdown %",
                             fill="tozeroy", mode="lines", line={"color": "#d62728"}), 2, 1)
    fig.update_layout(height=550)
    return fig


def write_html_report(result: BacktestResult, metrics: dict[str, Any], path: Path) -> None:
    """Write one HTML file (plotly.js embedded: it opens offline).

    Sections: summary table, equity and drawdown, then one candlestick chart per pair with entry
    and exit markers (when the result carries candles).
    """
    parts = [f"<h1>{html.escape(result.strategy)} &middot; {html.escape(result.timeframe)} &middot; "
             f"{result.backtest_start:%Y-%m-%d} to {result.backtest_end:%Y-%m-%d}</h1>",
             "<table class='summary'>"]
    for key in _SUMMARY_KEYS:
        parts.append(f"<tr><th>{key}</th><td>{html.escape(_fmt(key, metrics.get(key)))}</td></tr>")
    parts.append("</table>")
    figures = [_equity_figure(result)]
    for pair, candles in (result.candles or {}).items():
        if "open" in candles:
            figures.append(_pair_figure(pair, candles, result.trades))
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>atb backtest report</title>"
            "<style>body{font-family:sans-serif;margin:2em}table.summary td,table.summary th"
            "{padding:2px 10px;text-align:left}</style></head><body>"
            + "\n".join(parts) + "</body></html>")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(page, encoding="utf-8")
