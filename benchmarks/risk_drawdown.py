"""Benchmark: the risk engine's max-drawdown limit on real data, with vs without the engine.

Runs two strategies (freqtrade's ``SampleStrategy`` from ``../shared/parity/strategies`` and the
built-in ``AtbEmaRsiTrend``) on every 1h pair in ``../shared/data/binance``, once without a risk
section and once with ``--risk-config`` (``max_drawdown`` limit, default 0.15). For each run it
measures the mark-to-market equity drawdown at every candle close and checks that, with the
engine, the drawdown never exceeds the limit by more than one candle's move (the equity change
over the breaching candle plus the gap to the next open, where the emergency exit fills).

Usage::

    .venv/bin/python benchmarks/risk_drawdown.py [--limit 0.15] [--out benchmarks/results/risk_drawdown.md]

Writes both full reports per strategy to ``--out`` and prints the summary table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.backtest.metrics import compute_metrics
from atb.backtest.report import report_text
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.risk.config import RiskConfig, load_risk_config
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data" / "binance"
STRATEGIES = [("SampleStrategy", SHARED / "parity" / "strategies"), ("AtbEmaRsiTrend", None)]


def pairs_1h() -> list[str]:
    return sorted(f.name.replace("-1h.feather", "").replace("_", "/") for f in DATA.glob("*-1h.feather"))


def run(strategy: str, path: Path | None, pairs: list[str], risk: RiskConfig | None):
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 5,
        "dry_run_wallet": 10_000, "fee": 0.001, "tradable_balance_ratio": 0.99,
        "exchange": {"name": "binance", "pair_whitelist": pairs}})
    strat = load_strategy(strategy, cfg, path)
    return run_backtest(cfg, strat, BacktestInputs(datadir=DATA, pairs=tuple(pairs), timeframe="1h",
                                                   keep_candles=False),
                        load_data=load_data, trade_cls=Trade, risk=risk)


def mtm_equity(result) -> pd.Series:
    """Mark-to-market equity at every candle close (the risk engine's, with every rule off)."""
    return result.risk.equity.dropna()


def max_dd(eq: pd.Series) -> float:
    return float((1.0 - eq / eq.cummax()).max())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=0.15)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "risk_drawdown.md")
    args = ap.parse_args()
    pairs = pairs_1h()
    observe = load_risk_config({"rules": []})  # measures MTM equity, enforces nothing
    limited = load_risk_config({"max_drawdown": args.limit})
    rows, reports = [], []
    for name, path in STRATEGIES:
        base = run(name, path, pairs, observe)
        lim = run(name, path, pairs, limited)
        eq0, eq1 = mtm_equity(base), mtm_equity(lim)
        dd0, dd1 = max_dd(eq0), max_dd(eq1)
        # the breaching candle: first close with drawdown >= limit, and the exit fill after it
        dd_series = 1.0 - eq1 / eq1.cummax()
        breach = dd_series[dd_series >= args.limit]
        move = np.nan
        if len(breach):
            k = eq1.index.get_loc(breach.index[0])
            nxt = min(k + 1, len(eq1) - 1)
            # equity change over the breaching candle and up to the flatten fill (next candle)
            move = float(abs(eq1.iloc[k] / eq1.iloc[k - 1] - 1) + abs(eq1.iloc[nxt] / eq1.iloc[k] - 1))
        holds = dd1 <= args.limit or (dd1 - args.limit) <= move + 1e-12
        rows.append((name, len(pairs), len(base.trades), dd0, len(lim.trades), dd1, args.limit,
                     dd1 - args.limit, move, holds,
                     int((lim.risk.events.kind == "denied").sum()), len(lim.risk.halted_periods)))
        for label, res in (("without risk engine", base), (f"max_drawdown {args.limit}", lim)):
            text = report_text(res, compute_metrics(res), width=130)
            reports.append(f"## {name}, {label}\n\n```\n{text}\n```\n")
    head = ("| strategy | pairs | trades (no risk) | MTM max DD (no risk) | trades (risk) "
            "| MTM max DD (risk) | limit | excess | breach-candle move | holds | denials | halts |\n|"
            + "---|" * 12)
    lines = [head] + [
        f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2%} | {r[4]} | {r[5]:.2%} | {r[6]:.0%} | {r[7]:+.2%} | "
        f"{r[8]:.2%} | {'yes' if r[9] else 'NO'} | {r[10]} | {r[11]} |" for r in rows]
    table = "\n".join(lines)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# Risk engine: max-drawdown limit on real data\n\nCommand: `.venv/bin/python "
        f"benchmarks/risk_drawdown.py --limit {args.limit}`\n\n{table}\n\n" + "\n".join(reports))
    return 0 if all(r[9] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
