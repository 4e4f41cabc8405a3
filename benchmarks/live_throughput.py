"""Benchmark: market-data throughput and update-to-decision latency of the live engine.

200 strategy instances (the three freqtrade reference strategies and the test suite's
``ChurnStrategy``, which trades every few candles, round-robin over the 12 pairs of the shared 5m
Binance data) run in ONE process in live mode: each price update goes through
``TradingEngine.on_price`` (every bot on that pair runs the backtest's exit rules on the candle
seen so far; exits become market orders on a PaperExchange), and every 5m candle close runs all
200 strategies' analyses and the loop's entry step (``process_group``), with orders written to a
SQLite order store.

Price updates are generated from the real candles (each candle becomes a path open -> nearer
extreme -> other extreme -> close, linearly interpolated) and offered OPEN-LOOP at a fixed rate
(default 5,000 updates/s): update ``j`` arrives at ``start + j / rate`` whatever the engine is
doing; its latency is the time from its arrival to the end of its processing (decision and any
order sent). Candle closes run as their own task when a candle's updates are all out, so price
updates keep flowing while the 200 analyses run: the engine yields between bots, and the
market-data consumer drains its backlog before it lets the next analysis run (it waits - and so
yields - only when it is ahead of the arrivals).

Usage::

    .venv/bin/python benchmarks/live_throughput.py [--rate 5000] [--bots 200] [--candles 12]
        [--out benchmarks/results/live_throughput.md]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.execution.feeds import Candle
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.live.bot import BotPortfolio, TradingBot
from atb.live.engine import TradingEngine
from atb.live.runner import StrategyRunner
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore
from atb.risk.config import load_risk_config
from atb.risk.engine import RiskEngine
from atb.strategy.loader import load_strategy

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data" / "binance"
STRATEGIES = (("SampleStrategy", SHARED / "parity" / "strategies"),
              ("RsiBbMeanReversion", SHARED / "parity" / "strategies"),
              ("EmaCrossTrailing", SHARED / "parity" / "strategies"),
              ("ChurnStrategy", REPO / "tests" / "fixtures" / "strategies"))
TF_MS = 300_000


def pairs_5m() -> list[str]:
    return sorted(f.name.replace("-5m.feather", "").replace("_", "/") for f in DATA.glob("*-5m.feather"))


def path(o: float, h: float, lo: float, c: float, n: int) -> np.ndarray:
    pts = [o, lo, h, c] if abs(o - lo) <= abs(h - o) else [o, h, lo, c]
    seg = max(n // 3, 1)
    return np.concatenate([np.linspace(pts[k], pts[k + 1], seg, endpoint=k == 2) for k in range(3)])


def build(n_bots: int, n_candles: int, store) -> tuple:
    pairs = pairs_5m()
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": 50, "max_open_trades": 3, "dry_run_wallet": 1000,
        "fee": 0.001, "timeframe": "5m", "exchange": {"name": "binance", "pair_whitelist": pairs}})
    picks = [STRATEGIES[i % len(STRATEGIES)] for i in range(n_bots)]
    strategies = [load_strategy(name, dict(cfg), spath) for name, spath in picks]
    startup = max(s.startup_candle_count for s in strategies)
    data = load_data(DATA, pairs, "5m", startup_candles=0)
    first = min(len(df) for df in data.values()) - (startup + 1 + n_candles)
    data = {p: df.iloc[first:].reset_index(drop=True) for p, df in data.items()}
    markets = paper_markets(pairs, fee=0.001)
    markets = {p: m.__class__(**{**{f: getattr(m, f) for f in m.__dataclass_fields__},
                                 "price_tick": Decimal("1e-8")}) for p, m in markets.items()}
    paper = PaperExchange(markets, PaperConfig(fill_mode="immediate",
                                               balances={"USDT": Decimal(1000 * n_bots)}))
    for p, df in data.items():
        t0 = int(df["date"].iloc[startup].value // 1_000_000)
        paper.set_price(p, float(df["close"].iloc[startup]), t0 + TF_MS)
    clock = {"now": datetime(2025, 1, 1, tzinfo=UTC)}
    bots = []
    for i, strategy in enumerate(strategies):
        pair = pairs[i % len(pairs)]
        runner = StrategyRunner(strategy, cfg, {pair: data[pair].iloc[: startup + 1]}, window=500)
        portfolio = BotPortfolio(runner, 1000.0)
        risk = RiskEngine(load_risk_config({}), portfolio, max_open_trades=3,
                          stoploss=strategy.stoploss, clock=lambda: clock["now"])
        sid = f"bot{i:03d}"
        manager = OrderManager(store, paper, lambda: clock["now"], venue="paper", strategy_id=sid)
        bots.append(TradingBot(sid, runner, risk, portfolio, manager, store, {pair: markets[pair]},
                               order_style="market"))
    engine = TradingEngine(bots, timeframe_ms=TF_MS)
    return engine, paper, data, startup, clock


async def run(args: argparse.Namespace, store) -> dict:
    engine, paper, data, startup, clock = build(args.bots, args.candles, store)
    await engine.start()
    pairs = sorted(data)
    closed_loop = args.rate <= 0
    rate = 5000.0 if closed_loop else args.rate
    per_pair = max(int(rate * args.candle_seconds / len(pairs)), 3)
    lat: list[float] = []
    closes: list[float] = []
    interval = 0.0 if closed_loop else 1.0 / args.rate
    last_done = 0.0
    j = 0
    pending: list[asyncio.Task] = []

    async def close_candle(t_ms: int, group: list[Candle]) -> None:
        t0 = time.perf_counter()
        await engine.process_group(t_ms, group)
        closes.append(time.perf_counter() - t0)

    start = time.perf_counter()
    for i in range(startup + 1, startup + 1 + args.candles):
        t_ms = int(data[pairs[0]]["date"].iloc[i].value // 1_000_000)
        clock["now"] = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
        paths = {p: path(*(float(data[p][c].iloc[i]) for c in ("open", "high", "low", "close")),
                         per_pair) for p in pairs}
        for k in range(per_pair):
            for p in pairs:
                px = float(paths[p][min(k, len(paths[p]) - 1)])
                now = time.perf_counter()
                arrival = now if closed_loop else start + j * interval
                if now < arrival:
                    await asyncio.sleep(arrival - now)
                paper.set_price(p, px, t_ms + 1 + k)
                await engine.on_price(p, px)
                last_done = time.perf_counter()
                lat.append(last_done - arrival)
                j += 1
                if closed_loop and j % 256 == 0:
                    await asyncio.sleep(0)  # no arrivals to wait for: let the candle close run
                # market data first: a backlog is drained before the candle close (running as
                # its own task, yielding between bots) gets the loop back

        group = [Candle(pair=p, timeframe="5m", open_time_ms=t_ms,
                        open=float(data[p]["open"].iloc[i]), high=float(data[p]["high"].iloc[i]),
                        low=float(data[p]["low"].iloc[i]), close=float(data[p]["close"].iloc[i]),
                        volume=float(data[p]["volume"].iloc[i])) for p in pairs]
        for c in group:
            paper.set_price(c.pair, c.close, t_ms + TF_MS)
        if pending:
            await asyncio.gather(*pending)
            pending.clear()
        pending.append(asyncio.create_task(close_candle(t_ms, group)))
    await asyncio.gather(*pending)
    wall = time.perf_counter() - start
    a = np.asarray(lat) * 1000.0
    return {"updates": j, "wall_s": wall, "rate_offered": args.rate,
            "throughput": j / (last_done - start),
            "p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "p999": float(np.percentile(a, 99.9)), "max": float(a.max()),
            "closes": closes, "bots": len(engine.bots), "pairs": len(pairs),
            "entries": engine.stats.entries, "exits": engine.stats.exits,
            "orders": len(store.orders())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=5000.0)
    ap.add_argument("--bots", type=int, default=200)
    ap.add_argument("--candles", type=int, default=12)
    ap.add_argument("--candle-seconds", type=float, default=60.0,
                    help="wall seconds of price updates per candle (time compression)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(None, Path(tmp))
        res = asyncio.run(run(args, SqlOrderStore(create_session_factory(db))))
        db.dispose()
    closes = np.asarray(res["closes"]) * 1000.0
    ok = res["throughput"] >= 5000 * 0.999 and res["p99"] < 50.0
    offered = (f"{res['updates']:,} price updates offered at {res['rate_offered']:,.0f}/s"
               if args.rate > 0 else f"{res['updates']:,} price updates offered as fast as taken")
    lines = [
        f"bots {res['bots']} on {res['pairs']} pairs, {args.candles} candles of 5m, " + offered,
        f"throughput {res['throughput']:,.0f} updates/s (first arrival to last update processed; "
        f"{res['wall_s']:.1f} s wall with the last candle close)",
        f"update-to-decision latency ms: p50 {res['p50']:.3f}  p99 {res['p99']:.3f}  "
        f"p99.9 {res['p999']:.2f}  max {res['max']:.1f}",
        f"candle close (200 analyses + entry step + orders) ms: median {np.median(closes):.0f}  "
        f"max {closes.max():.0f}",
        f"entries {res['entries']}, exits {res['exits']}, orders in the store {res['orders']}",
        f"target (>= 5,000/s and p99 < 50 ms): {'met' if ok else 'NOT met'}",
    ]
    print("\n".join(lines))
    if args.out is not None:
        cmd = ("  .venv/bin/python benchmarks/live_throughput.py "
               f"--rate {args.rate:.0f} --bots {args.bots} --candles {args.candles} "
               f"--candle-seconds {args.candle_seconds:g} --out {args.out}")
        args.out.write_text(
            "# Live engine: market-data throughput and latency\n\nCommand:\n\n```\n" + cmd + "\n```\n\n"
            f"Machine: {platform.machine()}, `nproc` 2, Python {platform.python_version()}.\n\n```\n"
            + "\n".join(lines) + "\n```\n")


if __name__ == "__main__":
    main()
