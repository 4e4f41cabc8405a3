"""CcxtExchange with ccxt's real binance client against the local Binance emulator (127.0.0.1).

Covers the order path end to end (markets, market/limit orders, cancel, errors) and, with faults
injected, the bounded retries, the circuit breaker and the idempotent create: with 30 % of the
requests failing (timeouts, 429, 5xx, disconnects, malformed bodies, lost responses) every order
exists exactly once on the venue.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest

from atb.config.secrets import Credentials
from atb.core.enums import OrderSide, OrderType
from atb.errors import (
    CircuitOpenError,
    InsufficientFundsError,
    OrderNotFoundError,
    RateLimitError,
    TemporaryExchangeError,
)
from atb.execution.ccxt import CcxtExchange, CircuitBreaker, RetryPolicy, create_ccxt_exchange
from atb.orders.models import OrderRequest
from atb.orders.state import OrderStatus
from atb.testing.emulator import BinanceEmulator, EmulatorConfig, FaultConfig

PAIR = "BTC/USDT"
#: Small delays so the suite stays fast; Retry-After (1 s from the emulator) is capped too.
FAST_RETRY = RetryPolicy(max_attempts=8, max_total_s=20.0, initial_delay_s=0.01, max_delay_s=0.05,
                         jitter_s=0.01, max_retry_after_s=0.05)


@pytest.fixture(scope="module")
def btc_1h(shared_dir) -> pd.DataFrame:
    df = pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather")
    return df[df["date"] < pd.Timestamp("2024-03-01", tz="UTC")].reset_index(drop=True)


Scenario = Callable[[BinanceEmulator, CcxtExchange], Awaitable[Any]]


def run(candles: pd.DataFrame, scenario: Scenario, *, retry: RetryPolicy = FAST_RETRY,
        threshold: int = 10, faults: FaultConfig | None = None, seed: int = 1) -> Any:
    cfg = EmulatorConfig(pairs=(PAIR,), candles={PAIR: candles}, timeframe="1h",
                         balances={"USDT": Decimal(10000)}, seed=seed,
                         faults=faults or FaultConfig())

    async def main() -> Any:
        async with BinanceEmulator(cfg) as emu:
            config = {**emu.ccxt_config(), "timeout": 2000}
            creds = Credentials(exchange_id="binance", key=config["apiKey"], secret=config["secret"])
            client = create_ccxt_exchange(
                "binance", config_overrides=config, credentials=creds, retry=retry, websocket=False,
                breaker=CircuitBreaker("binance", failure_threshold=threshold, cool_down_s=60))
            try:
                return await scenario(emu, client)
            finally:
                await client.close()

    return asyncio.run(main())


def req(cid: str, order_type: OrderType = OrderType.MARKET, amount: str = "0.01",
        price: Decimal | None = None, side: OrderSide = OrderSide.BUY) -> OrderRequest:
    return OrderRequest(client_order_id=cid, pair=PAIR, side=side, order_type=order_type,
                        amount=Decimal(amount), price=price)


async def last_close(client: CcxtExchange) -> Decimal:
    candles = await client.fetch_ohlcv(PAIR, "1h", limit=1)
    return Decimal(str(candles[-1][4]))


def test_markets_balance_and_market_buy_filled_with_fills_and_fee(btc_1h):
    async def scenario(emu, client):
        markets = await client.load_markets()
        balance = await client.fetch_balance()
        order = await client.create_order(req("mkt-1"))
        return markets, balance, order, await client.fetch_balance()

    markets, before, order, after = run(btc_1h, scenario)
    m = markets[PAIR]
    assert (m.base, m.quote) == ("BTC", "USDT")
    assert m.price_tick > 0 and m.amount_step > 0 and m.min_notional >= 0
    assert before["USDT"].free == Decimal(10000)
    assert order.status is OrderStatus.FILLED and order.client_order_id == "mkt-1"
    assert order.filled == Decimal("0.01") and order.average is not None and order.fee > 0
    assert order.fills and sum(f.amount for f in order.fills) == Decimal("0.01")
    assert all(f.client_order_id == "mkt-1" and f.fee > 0 for f in order.fills)
    assert after["BTC"].free == Decimal("0.01")


def test_limit_rests_then_fills_on_advance(btc_1h):
    async def scenario(emu, client):
        close = await last_close(client)
        placed = await client.create_order(req("lim-1", OrderType.LIMIT, price=(close * Decimal("0.995"))
                                               .quantize(Decimal("0.01"))))
        open_orders = await client.fetch_open_orders(PAIR)
        for _ in range(200):
            emu.advance(1)
            fetched = await client.fetch_order(PAIR, "lim-1")
            if fetched.status is OrderStatus.FILLED:
                break
        return placed, open_orders, fetched

    placed, open_orders, fetched = run(btc_1h, scenario)
    assert placed.status is OrderStatus.OPEN and [o.client_order_id for o in open_orders] == ["lim-1"]
    assert fetched.status is OrderStatus.FILLED and fetched.filled == Decimal("0.01")


def test_cancel_and_open_orders(btc_1h):
    async def scenario(emu, client):
        close = await last_close(client)
        await client.create_order(req("lim-2", OrderType.LIMIT, price=(close / 2).quantize(Decimal("0.01"))))
        cancelled = await client.cancel_order(PAIR, "lim-2")
        return cancelled, await client.fetch_open_orders(PAIR), await client.fetch_order(PAIR, "lim-2")

    cancelled, open_orders, fetched = run(btc_1h, scenario)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.client_order_id == "lim-2"
    assert open_orders == [] and fetched.status is OrderStatus.CANCELLED


def test_insufficient_funds_and_unknown_orders(btc_1h):
    async def scenario(emu, client):
        out = {}
        for name, call in (("funds", client.create_order(req("big-1", amount="1000"))),
                           ("fetch", client.fetch_order(PAIR, "never-sent")),
                           ("cancel", client.cancel_order(PAIR, "never-sent"))):
            try:
                await call
            except Exception as exc:  # noqa: BLE001 - collected for the assertions
                out[name] = exc
        return out, emu.orders()

    errors, orders = run(btc_1h, scenario)
    assert isinstance(errors["funds"], InsufficientFundsError)
    assert isinstance(errors["fetch"], OrderNotFoundError)
    assert isinstance(errors["cancel"], OrderNotFoundError)
    assert not [o for o in orders if o["clientOrderId"] == "big-1" and o["status"] != "REJECTED"]


def test_persistent_429_raises_rate_limit_after_bounded_retries_and_opens_breaker(btc_1h):
    retry = RetryPolicy(max_attempts=3, max_total_s=10, initial_delay_s=0.01, max_delay_s=0.02,
                        jitter_s=0.0, max_retry_after_s=0.05)

    async def scenario(emu, client):
        await client.load_markets()
        emu.set_faults(FaultConfig(failure_rate=1.0, kinds=("429",)))
        with pytest.raises(RateLimitError) as first:
            await client.fetch_balance()
        hits = emu.faults_injected.get("429", 0)
        with pytest.raises(CircuitOpenError):
            await client.create_order(req("after-open"))
        return first.value, hits, emu.faults_injected.get("429", 0), client.breaker.state, emu.orders()

    err, hits, hits_after, state, orders = run(btc_1h, scenario, retry=retry, threshold=3)
    assert hits == 3 and hits_after == 3  # 3 attempts, then fail-fast: nothing more sent
    assert state == "open"
    assert not isinstance(err, CircuitOpenError) and "emulator-test-key" not in str(err)
    assert orders == []


def test_idempotent_create_under_30_percent_faults_places_each_order_exactly_once(btc_1h):
    faults = FaultConfig(failure_rate=0.3, timeout_s=0.2,
                         kinds=("timeout", "429", "5xx", "disconnect", "malformed", "lost_response"))
    n_orders = 50

    async def scenario(emu, client):
        await client.load_markets()
        emu.set_faults(faults)
        results: dict[str, Any] = {}
        for i in range(n_orders):
            cid = f"idem-{i:03d}"
            try:
                results[cid] = await client.create_order(req(cid, amount="0.001"))
            except TemporaryExchangeError as exc:
                results[cid] = exc  # unknown fate: reconciliation below (as the engine does)
        injected = emu.faults_injected
        emu.set_faults(FaultConfig())
        client.breaker.record_success()
        for cid, result in list(results.items()):
            if isinstance(result, Exception):
                try:
                    results[cid] = await client.fetch_order(PAIR, cid)
                except OrderNotFoundError:
                    results[cid] = await client.create_order(req(cid, amount="0.001"))
        return results, injected, emu.orders()

    results, injected, orders = run(btc_1h, scenario, threshold=50)
    per_id = Counter(o["clientOrderId"] for o in orders)
    assert set(per_id) == {f"idem-{i:03d}" for i in range(n_orders)}
    assert max(per_id.values()) == 1, [cid for cid, n in per_id.items() if n > 1]
    assert all(r.status is OrderStatus.FILLED for r in results.values())
    assert set(injected) == set(faults.kinds)  # every fault kind was exercised
    assert injected["lost_response"] > 0 and sum(injected.values()) >= 10


def test_watch_ohlcv_through_ccxt_pro(btc_1h):
    cfg = EmulatorConfig(pairs=(PAIR,), candles={PAIR: btc_1h}, timeframe="1h")

    async def main() -> Any:
        async with BinanceEmulator(cfg) as emu:
            client = create_ccxt_exchange("binance", config_overrides=emu.ccxt_config(), retry=FAST_RETRY)
            try:
                assert client._ws is not None
                before = emu.now_ms
                watcher = asyncio.ensure_future(client.watch_ohlcv(PAIR, "1h"))
                await asyncio.sleep(0.3)  # subscribed
                emu.advance(1)
                return before, await asyncio.wait_for(watcher, 5)
            finally:
                await client.close()

    before, update = asyncio.run(main())
    assert update and len(update[-1]) == 6
    assert update[-1][0] >= before - 3_600_000  # the candle the advance produced, not an old one
