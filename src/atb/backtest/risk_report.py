"""Risk blocks of the backtest report: VaR/CVaR, risk-engine activity, performance by regime.

Data first (:func:`risk_sections` returns titled rows), so the terminal report
(:func:`render_risk_report`) and the HTML report show the same numbers.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from atb.backtest.results import BacktestResult
from atb.errors import DataError

__all__ = ["Section", "account_equity", "render_risk_report", "risk_sections"]

#: (title, column headers, rows of cell strings)
Section = tuple[str, list[str], list[list[str]]]


def account_equity(result: BacktestResult) -> pd.Series:
    """Account equity over time, quote currency, UTC index.

    The risk engine's mark-to-market equity at every candle close when it ran; otherwise the
    closed-trade balance (starting balance + cumulative ``profit_abs`` at each close date).
    """
    if result.risk is not None and not result.risk.equity.dropna().empty:
        return result.risk.equity.dropna()
    t = result.trades.sort_values("close_date", kind="mergesort")
    start = pd.Timestamp(result.backtest_start)
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    bal = result.starting_balance + t["profit_abs"].cumsum()
    eq = pd.concat([pd.Series([result.starting_balance], index=[start]),
                    pd.Series(bal.to_numpy(), index=pd.DatetimeIndex(t["close_date"]))])
    return eq.groupby(level=0).last()


def _daily(eq: pd.Series, end: Any) -> pd.Series:
    end_ts = pd.Timestamp(end)
    end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts.tz_convert("UTC")
    if end_ts > eq.index[-1]:
        eq = pd.concat([eq, pd.Series([eq.iloc[-1]], index=[end_ts])])
    return eq.resample("1D").last().ffill()


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _var_section(result: BacktestResult) -> Section:
    from atb.risk.metrics import compute_risk_metrics

    eq = account_equity(result)
    title = "RISK METRICS (1-day, " + (
        "mark-to-market equity)" if result.risk is not None else "closed-trade equity)")
    closes = result.risk.pair_closes if result.risk is not None else None
    benchmark = pair_returns = None
    if closes is not None and len(closes) > 2:
        rets = closes.pct_change(fill_method=None).iloc[1:]
        ref = "BTC/USDT" if "BTC/USDT" in rets else None
        if ref is not None:
            benchmark = rets[ref].dropna()
        if 2 <= rets.shape[1] <= 4:
            pair_returns = rets
    try:
        rm = compute_risk_metrics(_daily(eq, result.backtest_end), benchmark=benchmark,
                                  pair_returns=pair_returns)
    except DataError as exc:
        return title, ["Metric", "Value"], [["-", f"not available: {exc}"]]
    rows = [[k, v] for k, v in rm.to_rows()]
    if benchmark is not None:
        rows = [["Beta to BTC/USDT" if k.startswith("Beta") else k, v]
                for k, v in rows]
    if closes is not None and pair_returns is None and closes.shape[1] > 4:
        rows += _correlation_summary(closes)
    return title, ["Metric", "Value"], rows


def _correlation_summary(closes: pd.DataFrame) -> list[list[str]]:
    """Mean pairwise and the highest daily-return correlation (many pairs: no full matrix)."""
    from atb.risk.metrics import correlation_matrix

    rets = closes.pct_change(fill_method=None).iloc[1:]
    try:
        corr = correlation_matrix(rets)
    except DataError:
        return []
    vals = []
    cols = list(corr.columns)
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            v = corr.loc[a, b]
            if pd.notna(v):
                vals.append((float(v), a, b))
    if not vals:
        return []
    top = max(vals)
    mean = sum(v for v, _, _ in vals) / len(vals)
    return [["Mean pairwise correlation (daily)", f"{mean:.2f}"],
            [f"Highest correlation {top[1]} / {top[2]}", f"{top[0]:.2f}"]]


def _engine_section(result: BacktestResult) -> Section:
    r = result.risk
    cfg = r.config
    halted = sum(((b - a) for a, b in r.halted_periods), pd.Timedelta(0))
    rows = [
        ["Final trading state", str(r.state.iloc[-1]) if len(r.state) else "-"],
        ["Max drawdown (equity, mark-to-market)", _pct(r.max_drawdown())],
        ["Max drawdown limit", _pct(cfg["max_drawdown"]) if cfg.get("max_drawdown") else "off"],
        ["Daily loss limit", _pct(cfg["daily_loss_limit"]) if cfg.get("daily_loss_limit") else "off"],
        ["HALTED periods", f"{len(r.halted_periods)} ({halted})"],
        ["Emergency flattens", str(int((r.events["kind"] == "flatten").sum()))],
        ["Entry intents denied", str(int((r.events["kind"] == "denied").sum()))],
        ["Entry intents reduced", str(int((r.events["kind"] == "reduced").sum()))],
        ["Sizing", str(cfg["sizing"]["method"])],
    ]
    return "RISK ENGINE", ["Item", "Value"], rows


def _denials_section(result: BacktestResult) -> Section:
    tab = result.risk.denials_by_rule()
    rows = [[str(x.rule), str(x.denied), str(x.reduced)] for x in tab.itertuples()]
    return "DENIALS BY RULE", ["Rule", "Denied", "Reduced"], rows or [["-", "0", "0"]]


def _regime_section(result: BacktestResult) -> Section | None:
    r = result.risk
    if r is None or r.regime is None:
        return None
    from atb.regime.analysis import performance_by_regime

    labels = r.regime.dropna()
    perf = performance_by_regime(result.trades, labels)
    rows = []
    for name, x in perf.iterrows():
        rows.append([str(name), str(int(x["trades"])), f"{x['win_rate'] * 100:.1f}%",
                     f"{x['profit_mean_ratio'] * 100:.2f}%", f"{x['profit_abs']:.3f}",
                     f"{x['profit_total_share'] * 100:.1f}%"])
    return ("PERFORMANCE BY REGIME",
            ["Regime", "Trades", "Win%", "Avg profit", f"Tot profit {result.stake_currency}",
             "Share"], rows)


def risk_sections(result: BacktestResult) -> list[Section]:
    """The risk report blocks of ``result`` (VaR/CVaR always; the rest with a risk section)."""
    sections = [_var_section(result)]
    if result.risk is not None:
        sections += [_engine_section(result), _denials_section(result)]
        reg = _regime_section(result)
        if reg is not None:
            sections.append(reg)
    return sections


def render_risk_report(result: BacktestResult, console: Console) -> None:
    """Print :func:`risk_sections` as rich tables."""
    for title, header, rows in risk_sections(result):
        table = Table(title=title, title_style="bold")
        for h in header:
            table.add_column(h)
        for row in rows:
            table.add_row(*row)
        console.print(table)
