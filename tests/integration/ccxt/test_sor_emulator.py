"""Smart order routing and gap monitoring across two Binance emulators (127.0.0.1) through ccxt.

Two emulators replay the same BTC/USDT candles; the "dear" one has every price scaled by 1.005
(0.5 %, enough to beat two 0.1 % taker fees, so the gap monitor has a net gap to find). Each
venue is reached through :class:`~atb.execution.ccxt.CcxtExchange` with ccxt's real binance
client. The cheap venue's USDT balance cannot pay for the whole order, so the router fills as
much as the cheap venue's funds allow there (its limit-order lock included) and the rest on the
dear venue.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from atb.config.secrets import Credentials
from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.execution.ccxt import CircuitBreaker, RetryPolicy, create_ccxt_exchange
from atb.execution.gap_monitor import PriceGapMonitor
from atb.execution.order_manager import OrderManager
from atb.execution.smart_router import SmartOrderRouter
from atb.orders.memory import InMemoryOrderStore
from atb.orders.state import OrderStatus
from atb.testing.emulator import BinanceEmulator, EmulatorConfig

PAIR = "BTC/USDT"
SCALE = 1.005
FAST_RETRY = RetryPolicy(max_attempts=3, max_total_s=5.0, initial_delay_s=0.01, max_delay_s=0.05,
                         jitter_s=0.01, max_retry_after_s=0.05)


@pytest.fixture(scope="module")
def btc_1h(shared_dir) -> pd.DataFrame:
    df = pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather")
    return df[df["date"] < pd.Timestamp("2024-03-01", tz="UTC")].reset_index(drop=True)


def scaled(df: pd.DataFrame, factor: float) -> pd.DataFrame:
    out = df.copy()
    for col in ("open", "high", "low", "close"):
        out[col] = out[col] * factor
    return out


def run_two_venues(candles: pd.DataFrame, scenario: Any, *, cheap_usdt: Decimal) -> Any:
    configs = {
        "cheap": EmulatorConfig(pairs=(PAIR,), candles={PAIR: candles}, timeframe="1h",
                                balances={"USDT": cheap_usdt}, seed=1),
        "dear": EmulatorConfig(pairs=(PAIR,), candles={PAIR: scaled(candles, SCALE)}, timeframe="1h",
                               balances={"USDT": Decimal(100_000)}, seed=2),
    }

    async def main() -> Any:
        async with AsyncExitStack() as stack:
            clients = {}
            for name, cfg in configs.items():
                emu = await stack.enter_async_context(BinanceEmulator(cfg))
                config = {**emu.ccxt_config(), "timeout": 2000}
                creds = Credentials(exchange_id="binance", key=config["apiKey"], secret=config["secret"])
                client = create_ccxt_exchange(
                    "binance", config_overrides=config, credentials=creds, retry=FAST_RETRY, websocket=False,
                    breaker=CircuitBreaker(name, failure_threshold=10, cool_down_s=60))
                stack.push_async_callback(client.close)
                clients[name] = client
            return await scenario(clients)

    return asyncio.run(main())


def test_route_buy_takes_the_cheap_venue_first_then_the_dear_one(btc_1h):
    store = InMemoryOrderStore()

    def clock() -> datetime:
        return datetime.now(UTC)

    async def scenario(clients):
        managers = {v: OrderManager(store, c, clock, venue=v, strategy_id="sor") for v, c in clients.items()}
        router = SmartOrderRouter(managers, clients, book_depth=20)
        book = await clients["cheap"].fetch_order_book(PAIR, 5)
        routed = await router.route(PAIR, OrderSide.BUY, Decimal("0.5"), tag="entry")
        balances = {v: await c.fetch_balance() for v, c in clients.items()}
        return book, routed, balances

    book, routed, balances = run_two_venues(btc_1h, scenario, cheap_usdt=Decimal(10_000))
    orders = {o.venue: o for o in routed.orders}
    assert set(orders) == {"cheap", "dear"} and routed.skipped == ()
    cheap, dear = orders["cheap"], orders["dear"]
    for order in (cheap, dear):
        assert order.status is OrderStatus.FILLED and order.filled == order.request.amount
        assert order.request.order_type is OrderType.LIMIT and order.request.time_in_force is TimeInForce.IOC
    # the cheap venue got as much as its 10 000 USDT lock allows, the dear venue the rest
    ask = book.asks[0][0]
    assert cheap.request.amount * cheap.request.price * Decimal("1.001") <= 10_000
    assert cheap.request.amount > Decimal(10_000) / (ask * Decimal("1.001")) - Decimal("0.001")
    assert dear.request.amount == Decimal("0.5") - cheap.request.amount
    assert cheap.average is not None and dear.average is not None and cheap.average < dear.average
    assert routed.filled == Decimal("0.5") and routed.unfilled == 0 and routed.rejected == ()
    assert balances["cheap"]["BTC"].free == cheap.filled and balances["cheap"]["USDT"].free < 10
    assert store.position("sor", PAIR).amount == Decimal("0.5")
    assert sorted(o.tag for o in routed.orders) == ["entry:sor:0", "entry:sor:1"]


def test_gap_monitor_finds_the_gap_between_the_two_emulators(btc_1h):
    alerts = []

    async def scenario(clients):
        markets = {v: await c.load_markets() for v, c in clients.items()}
        monitor = PriceGapMonitor(clients, markets, min_net_bps=Decimal(10), on_gap=alerts.append)
        books = await monitor.poll_once(PAIR)
        monitor_t = PriceGapMonitor(clients, markets, source="ticker")
        return books, await monitor_t.poll_once(PAIR)

    book_gaps, ticker_gaps = run_two_venues(btc_1h, scenario, cheap_usdt=Decimal(1_000))
    (gap,) = book_gaps
    assert (gap.buy_venue, gap.sell_venue) == ("cheap", "dear")
    assert Decimal(45) < gap.gross_bps < Decimal(55) and gap.net_bps > Decimal(25)
    assert gap.amount is not None and gap.amount > 0 and gap.expected_profit is not None
    assert alerts == [gap]
    assert [(g.buy_venue, g.sell_venue) for g in ticker_gaps] == [("cheap", "dear")]
