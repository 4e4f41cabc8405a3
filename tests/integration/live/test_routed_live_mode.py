"""Live mode across two venues: every order is routed by price and split across the venues' books.

Same run as ``test_live_mode.py`` (real candles, prices inside each candle, PaperExchanges in
``immediate`` mode), with a :class:`~atb.execution.smart_router.SmartOrderRouter` over two venues:
venue ``b`` quotes every price 0.3 % above venue ``a``, and ``a`` holds only 150 USDT, so entries
(100 USDT stake) buy on ``a`` first and the rest on ``b``; exits sell where the bid is best (``b``)
what each venue holds. PaperExchange's own book has one level sized by the last candle's volume
(zero on tickers alone), so ``Venue`` wraps each paper venue: a three-level book around its last
price for routing, orders and balances delegated to the paper venue (which fills a marketable
limit at its last price). Checks: entries fill in full (``a`` first), exits sell each venue's
holding, the store's position equals the venues' base balances after every candle, no client id
is sent twice, and an entry decision processed again sends nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from atb.backtest.markets import load_markets
from atb.config.freqtrade import load_freqtrade_config
from atb.core.enums import OrderSide
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.execution.feeds import Candle
from atb.execution.models import BookSnapshot
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.execution.smart_router import RoutedOrder, SmartOrderRouter
from atb.live.bot import BotPortfolio, TradingBot, routed_children
from atb.live.engine import TradingEngine
from atb.live.runner import StrategyRunner
from atb.live.stepper import EntryDecision
from atb.orders.memory import InMemoryOrderStore
from atb.risk.config import load_risk_config
from atb.risk.engine import RiskEngine
from atb.strategy.loader import load_strategy

_REPO = Path(__file__).resolve().parents[3]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "rsi_bb_meanrev__binance_1h"
PAIRS = ("BTC/USDT", "ETH/USDT", "DOGE/USDT")
HOUR_MS = 3_600_000
TICK = D("1e-8")
B_MARKUP = D("1.003")
A_USDT = D(150)
B_USDT = D(100_000)

Free = dict[str, dict[str, D]]  # venue -> currency -> free balance


class Venue:
    """A paper venue behind a deeper book: three levels each side from its last price."""

    def __init__(self, paper: PaperExchange) -> None:
        self.paper = paper
        self.venue = paper.venue
        self.sent: list[str] = []  # client ids of every create_order, in order

    def __getattr__(self, name: str) -> Any:
        return getattr(self.paper, name)

    async def create_order(self, request: Any) -> Any:
        self.sent.append(request.client_order_id)
        return await self.paper.create_order(request)

    async def fetch_order_book(self, pair: str, limit: int | None = None) -> BookSnapshot:
        t = await self.paper.fetch_ticker(pair)
        assert t.bid is not None and t.ask is not None
        size = (D(10_000_000) / t.ask).quantize(TICK)
        asks = tuple(((t.ask * (1 + D("0.0005") * i)).quantize(TICK), size) for i in range(3))
        bids = tuple(((t.bid * (1 - D("0.0005") * i)).quantize(TICK), size) for i in range(3))
        return BookSnapshot(pair=pair, timestamp=t.timestamp, bids=bids, asks=asks)


def _path(o: float, h: float, lo: float, c: float) -> list[float]:
    return [o, lo, h, c] if abs(o - lo) <= abs(h - o) else [o, h, lo, c]


def _px(price: float) -> D:
    return D(repr(float(price))).quantize(TICK)


def test_routed_live_mode_splits_orders_across_venues() -> None:
    case = json.loads((CASE / "case.json").read_text())
    config = load_freqtrade_config(CASE / "config.json")
    config["exchange"]["pair_whitelist"] = list(PAIRS)
    strategy = load_strategy(case["strategy"], config, _SHARED / "parity" / "strategies")
    infos = load_markets(CASE / "markets.json")
    startup = strategy.startup_candle_count
    data = load_data(_SHARED / "data" / "binance", list(PAIRS), "1h",
                     timerange=TimeRange.parse("20250101-20250201"), startup_candles=startup)
    markets = {p: replace(m, price_tick=TICK) for p, m in paper_markets(PAIRS, infos, fee=0.001).items()}
    a, b = (Venue(PaperExchange(markets, PaperConfig(venue=v, fill_mode="immediate",
                                                     balances={"USDT": usdt})))
            for v, usdt in (("a", A_USDT), ("b", B_USDT)))

    def set_price(pair: str, price: float, t_ms: int) -> None:
        a.paper.set_price(pair, _px(price), t_ms)
        b.paper.set_price(pair, (_px(price) * B_MARKUP).quantize(TICK), t_ms)

    runner = StrategyRunner(strategy, config, {p: df.iloc[: startup + 1] for p, df in data.items()},
                            markets=infos)
    for p, df in data.items():  # the venues' last prices before the first candle opens
        t0 = int(df["date"].iloc[startup].value // 1_000_000)
        set_price(p, float(df["close"].iloc[startup]), t0 + HOUR_MS)
    clock = {"now": datetime(2025, 1, 1, tzinfo=UTC)}
    portfolio = BotPortfolio(runner, float(A_USDT + B_USDT))
    risk = RiskEngine(load_risk_config({"rules": []}), portfolio, max_open_trades=3,
                      stoploss=strategy.stoploss, clock=lambda: clock["now"])
    store = InMemoryOrderStore()
    managers = {v.venue: OrderManager(store, v, lambda: clock["now"], venue=v.venue,  # type: ignore[arg-type]
                                      strategy_id="live") for v in (a, b)}
    router = SmartOrderRouter(managers, {"a": a, "b": b})  # type: ignore[dict-item]
    bot = TradingBot("live", runner, risk, portfolio, managers["a"], store, markets, order_style="market",
                     router=router)
    engine = TradingEngine([bot], timeframe_ms=HOUR_MS)

    # -- spies: every route with the venues' free balances around it; every entry processed twice
    routes: list[tuple[RoutedOrder, Free, Free]] = []
    original_route = router.route

    async def route(pair: str, side: OrderSide, amount: D, **kw: Any) -> RoutedOrder:
        before = await _free(a, b)
        routed = await original_route(pair, side, amount, **kw)
        routes.append((routed, before, await _free(a, b)))
        return routed

    router.route = route  # type: ignore[method-assign]
    original_entry = bot._entry
    entries: list[EntryDecision] = []
    resent: list[str] = []

    async def entry_twice(e: EntryDecision) -> None:
        await original_entry(e)
        entries.append(e)
        state = (len(a.sent) + len(b.sent), len(store.orders("live")), await _free(a, b))
        await original_entry(e)  # the candle processed again (e.g. after a crash): nothing is sent
        if (len(a.sent) + len(b.sent), len(store.orders("live")), await _free(a, b)) != state:
            resent.append(f"{e.pair}:{e.at_ns}")

    bot._entry = entry_twice  # type: ignore[method-assign]

    positions_checked = 0
    n = min(len(df) for df in data.values())

    async def main() -> None:
        nonlocal positions_checked
        await engine.start()  # the first candle opens: entries on the warm-up signals
        for i in range(startup + 1, n):
            t_ms = int(data[PAIRS[0]]["date"].iloc[i].value // 1_000_000)
            clock["now"] = datetime.fromtimestamp(t_ms / 1000, tz=UTC)
            for p, df in data.items():
                row = df.iloc[i]
                for k, px in enumerate(_path(row["open"], row["high"], row["low"], row["close"])):
                    set_price(p, float(px), t_ms + 1 + k)
                    await engine.on_price(p, float(px))
            group = [Candle(pair=p, timeframe="1h", open_time_ms=t_ms, open=float(df["open"].iloc[i]),
                            high=float(df["high"].iloc[i]), low=float(df["low"].iloc[i]),
                            close=float(df["close"].iloc[i]), volume=float(df["volume"].iloc[i]))
                     for p, df in data.items()]
            clock["now"] = datetime.fromtimestamp((t_ms + HOUR_MS) / 1000, tz=UTC)
            for c in group:
                set_price(c.pair, c.close, t_ms + HOUR_MS)
            await engine.process_group(t_ms, group)
            for p in PAIRS:  # the store's position is what the venues hold, after every candle
                assert store.position("live", p).amount == await _base_total(p, a, b), (p, t_ms)
            positions_checked += 1

    asyncio.run(main())
    assert bot.errors == []
    assert positions_checked == n - startup - 1
    assert resent == [] and entries

    # -- no client id was sent twice, on either venue; every stored order reached its venue ------
    sent = a.sent + b.sent
    assert len(sent) == len(set(sent))
    assert set(sent) == {o.client_order_id for o in store.orders("live")}

    _check_entries(routes, markets, n_entries=len(entries))
    _check_exits(routes)

    _check_money(store, a, b)

async def _free(*venues: Venue) -> Free:
    """Free balance per venue and currency."""
    return {v.venue: {c: bal.free for c, bal in (await v.paper.fetch_balance()).items()} for v in venues}


def _check_entries(routes: list[tuple[RoutedOrder, Free, Free]], markets: dict[str, Any], *,
                   n_entries: int) -> None:
    """Every entry filled in full, on venue a first; some entries split across a and b."""
    buys = [(r, before, after) for r, before, after in routes if r.side is OrderSide.BUY]
    assert len(buys) == n_entries > 0
    split = 0
    for r, before, after in buys:
        assert r.complete and r.unfilled == 0 and r.pending == 0, r
        venues = [o.venue for o in r.orders]
        assert venues in (["a"], ["b"], ["a", "b"])
        parent = (r.orders[0].tag or "").rsplit(":sor:", 1)[0]
        assert parent.startswith(f"entry:{r.pair}:")
        assert [o.tag for o in r.orders] == [f"{parent}:sor:{k}" for k in range(len(venues))]
        if "b" in venues:  # a could not pay for the whole order and spent what it could first
            b_child = next(o for o in r.orders if o.venue == "b")
            assert b_child.request.price is not None
            a_ask = b_child.request.price / B_MARKUP
            market = markets[r.pair]
            lock = 1 + max(market.maker_fee, market.taker_fee)
            assert before["a"]["USDT"] < r.requested * a_ask * lock
            assert after["a"]["USDT"] < max(market.amount_step * a_ask, market.min_notional) * lock * 2
        if venues == ["a", "b"]:
            split += 1
            assert r.orders[0].average is not None and r.orders[1].average is not None
            assert r.orders[0].average < r.orders[1].average
    assert split >= 1, "no entry was split across the venues"


def _check_exits(routes: list[tuple[RoutedOrder, Free, Free]]) -> None:
    """Every exit filled in full; a full exit sells exactly what each venue holds."""
    sells = [(r, before) for r, before, _ in routes if r.side is OrderSide.SELL]
    full = 0
    for r, before in sells:
        base = r.pair.split("/")[0]
        held = {v: before[v].get(base, D(0)) for v in ("a", "b")}
        assert r.complete, r
        if r.requested == sum(held.values()):
            full += 1
            assert {o.venue: o.filled for o in r.orders} == {v: h for v, h in held.items() if h > 0}
    assert full >= 1 and sum(len(r.orders) == 2 for r, _ in sells) >= 1


def _check_money(store: InMemoryOrderStore, a: Venue, b: Venue) -> None:
    """The venues' quote money equals the store's trades (fees of every child counted)."""
    closed = store.closed_trades("live")
    assert len(closed) >= 5 and all(t.profit_abs is not None for t in closed)
    assert {t.venue for t in closed} >= {"a+b"}
    profit = sum((t.profit_abs for t in closed if t.profit_abs is not None), D(0))
    open_cost = D(0)
    for t in store.open_trades("live"):
        entry = store.get_order(t.entry_client_order_id)
        assert entry is not None and entry.tag is not None
        for child in routed_children(store.orders("live", t.pair), entry.tag.rsplit(":sor:", 1)[0]):
            open_cost += sum((f.cost + f.fee for f in store.fills(child.client_order_id)), D(0))
    free = asyncio.run(_free(a, b))
    assert float(free["a"]["USDT"] + free["b"]["USDT"]) == pytest.approx(
        float(A_USDT + B_USDT + profit - open_cost), abs=1e-6)



async def _base_total(pair: str, *venues: Venue) -> D:
    """Base currency of ``pair`` the venues hold (total)."""
    base = pair.split("/")[0]
    total = D(0)
    for v in venues:
        held = (await v.paper.fetch_balance()).get(base)
        total += held.total if held is not None else D(0)
    return total
