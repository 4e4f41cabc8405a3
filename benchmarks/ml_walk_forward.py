"""Benchmark: MLBasic's walk-forward backtest on every 1h pair of the shared Binance data.

The built-in ``MLBasic`` strategy with its defaults (nothing tuned on this data: LightGBM, 120-day
rolling training window, retrained every 30 days, Platt-calibrated ``P(close higher in 12h)``,
enter at ``P >= 0.58``) runs through the real backtest: models are trained inside the run and
every prediction is out of sample. The report (trading metrics plus the out-of-sample accuracy,
AUC, Brier score and log-loss per pair) is written to ``--out``.

Usage::

    .venv/bin/python benchmarks/ml_walk_forward.py [--out benchmarks/results/ml_walk_forward.md]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.backtest.metrics import compute_metrics
from atb.backtest.report import report_text
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "binance"


def pairs_1h() -> list[str]:
    return sorted(f.name.replace("-1h.feather", "").replace("_", "/") for f in DATA.glob("*-1h.feather"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ml_walk_forward.md")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    pairs = pairs_1h()
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 5,
        "dry_run_wallet": 10_000, "fee": 0.001, "tradable_balance_ratio": 0.99,
        "exchange": {"name": "binance", "pair_whitelist": pairs}})
    strategy = load_strategy("MLBasic", cfg, None)
    t0 = time.perf_counter()
    res = run_backtest(cfg, strategy, BacktestInputs(datadir=DATA, pairs=tuple(pairs), timeframe="1h",
                                                     keep_candles=False, workers=args.workers),
                       load_data=load_data, trade_cls=Trade)
    seconds = time.perf_counter() - t0
    text = report_text(res, compute_metrics(res), width=150)
    cmd = "  .venv/bin/python benchmarks/ml_walk_forward.py"
    args.out.write_text(
        "# MLBasic walk-forward backtest, all 1h pairs\n\n"
        f"Command:\n\n```\n{cmd}\n```\n\nMachine: {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; {len(pairs)} pairs, {seconds:.0f} s wall "
        "(training included).\n\n```\n" + text + "```\n")
    ml = res.strategy_report["ml out-of-sample"]
    print(ml.to_string(index=False))
    print(f"{len(res.trades)} trades, {seconds:.0f} s; report in {args.out}")


if __name__ == "__main__":
    main()
