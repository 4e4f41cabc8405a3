"""Live mode on real candles: prices arrive inside each candle, exits are decided on them.

A PaperExchange in ``immediate`` mode stands in for the venue (market orders fill at the last
price). For every candle the feed sends its prices in a realistic order (open, then the extreme
nearer the open, the other extreme, close) to ``engine.on_price`` and then closes the candle.
Checks: entries fill at the price of the candle's open moment, stop-loss/ROI exits are taken on
the price update that crossed the level (not at the candle's close), the venue's balances equal
the store's trades, and the update-to-decision latency is recorded for every price.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from atb.backtest.markets import load_markets
from atb.config.freqtrade import load_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.execution.feeds import Candle
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.live.bot import BotPortfolio, TradingBot
from atb.live.engine import TradingEngine
from atb.live.runner import StrategyRunner
from atb.orders.memory import InMemoryOrderStore
from atb.risk.config import load_risk_config
from atb.risk.engine import RiskEngine
from atb.strategy.loader import load_strategy

_REPO = Path(__file__).resolve().parents[3]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "rsi_bb_meanrev__binance_1h"
PAIRS = ("BTC/USDT", "ETH/USDT", "DOGE/USDT")
HOUR_MS = 3_600_000


def _path(o: float, h: float, lo: float, c: float) -> list[float]:
    return [o, lo, h, c] if abs(o - lo) <= abs(h - o) else [o, h, lo, c]


def test_live_mode_exits_on_prices_inside_the_candle() -> None:
    case = json.loads((CASE / "case.json").read_text())
    config = load_freqtrade_config(CASE / "config.json")
    config["exchange"]["pair_whitelist"] = list(PAIRS)
    strategy = load_strategy(case["strategy"], config, _SHARED / "parity" / "strategies")
    infos = load_markets(CASE / "markets.json")
    startup = strategy.startup_candle_count
    data = load_data(_SHARED / "data" / "binance", list(PAIRS), "1h",
                     timerange=TimeRange.parse("20250101-20250201"), startup_candles=startup)
    markets = paper_markets(PAIRS, infos, fee=0.001)
    markets = {p: m.__class__(**{**{f: getattr(m, f) for f in m.__dataclass_fields__},
                                 "price_tick": Decimal("1e-8")}) for p, m in markets.items()}
    paper = PaperExchange(markets, PaperConfig(fill_mode="immediate",
                                               balances={"USDT": Decimal(100_000)}))
    runner = StrategyRunner(strategy, config, {p: df.iloc[: startup + 1] for p, df in data.items()},
                            markets=infos)
    for p, df in data.items():  # the venue's last price before the first candle opens
        t0 = int(df["date"].iloc[startup].value // 1_000_000)
        paper.set_price(p, float(df["close"].iloc[startup]), t0 + HOUR_MS)
    clock = {"now": datetime(2025, 1, 1, tzinfo=UTC)}
    portfolio = BotPortfolio(runner, 100_000.0)
    risk = RiskEngine(load_risk_config({"rules": []}), portfolio, max_open_trades=3,
                      stoploss=strategy.stoploss, clock=lambda: clock["now"])
    store = InMemoryOrderStore()
    manager = OrderManager(store, paper, lambda: clock["now"], venue="paper", strategy_id="live")
    bot = TradingBot("live", runner, risk, portfolio, manager, store, markets, order_style="market")
    engine = TradingEngine([bot], timeframe_ms=HOUR_MS)
    n = min(len(df) for df in data.values())
    crossings: list[tuple[str, float]] = []

    async def main() -> None:
        await engine.start()  # the first candle opens: entries on the warm-up signals
        for i in range(startup + 1, n):
            t_ms = int(data[PAIRS[0]]["date"].iloc[i].value // 1_000_000)
            clock["now"] = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
            for p, df in data.items():
                row = df.iloc[i]
                for k, px in enumerate(_path(row["open"], row["high"], row["low"], row["close"])):
                    paper.set_price(p, float(px), t_ms + 1 + k)
                    if await engine.on_price(p, float(px)):
                        crossings.append((p, float(px)))
            group = [Candle(pair=p, timeframe="1h", open_time_ms=t_ms, open=float(df["open"].iloc[i]),
                            high=float(df["high"].iloc[i]), low=float(df["low"].iloc[i]),
                            close=float(df["close"].iloc[i]), volume=float(df["volume"].iloc[i]))
                     for p, df in data.items()]
            clock["now"] = datetime.fromtimestamp((t_ms + HOUR_MS) / 1000, tz=UTC)
            for c in group:
                paper.set_price(c.pair, c.close, t_ms + HOUR_MS)
            await engine.process_group(t_ms, group)

    asyncio.run(main())
    assert bot.errors == []
    closed = store.closed_trades("live")
    assert len(closed) >= 5
    assert crossings, "no exit was taken on a price inside a candle"
    reasons = {t.exit_reason for t in closed}
    assert "roi" in reasons
    # every price update was timed (update-to-decision)
    assert engine.stats.prices == (n - startup - 1) * len(PAIRS) * 4
    assert len(engine.stats.price_latencies_ms) == engine.stats.prices
    # the venue's money equals the store's trades
    bal = asyncio.run(paper.fetch_balance())
    profit = sum((t.profit_abs for t in closed), Decimal(0))
    open_cost = sum((t.open_rate * t.amount * Decimal("1.001") for t in store.open_trades("live")),
                    Decimal(0))
    assert float(bal["USDT"].total) == pytest.approx(100_000 + float(profit) - float(open_cost), abs=1e-6)
    for p in PAIRS:
        base = p.split("/")[0]
        held = store.position("live", p).amount
        assert bal.get(base) is None and held == 0 or bal[base].total == held
