"""CcxtExchange over an injected fake ccxt object: idempotent create, retries, breaker, lookups."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import pytest
from ccxt_fakes import FakeCcxt, FakeClock, FakeSleep, make_client, request

from atb.core.enums import OrderType
from atb.errors import (
    CircuitOpenError,
    ConfigError,
    ExchangeError,
    InsufficientFundsError,
    OrderNotFoundError,
    RateLimitError,
    TemporaryExchangeError,
)
from atb.execution.ccxt import create_ccxt_exchange
from atb.execution.ports import ExchangeClient
from atb.orders.state import OrderStatus


def run(coro):
    return asyncio.run(coro)


def test_satisfies_the_port():
    assert isinstance(make_client(FakeCcxt()), ExchangeClient)


def test_market_buy_sends_the_client_id_with_the_venue_param_and_precision():
    fake = FakeCcxt()
    order = run(make_client(fake).create_order(request()))
    (symbol, kind, side, amount, price, params), = fake.sent
    assert (symbol, kind, side, amount, price) == ("BTC/USDT", "market", "buy", 0.01234, None)
    assert params == {"newClientOrderId": "atb-1"}
    assert order.status is OrderStatus.FILLED and order.client_order_id == "atb-1"
    assert order.fee == Decimal("0.05") and len(order.fills) == 1


@pytest.mark.parametrize("lost", [ccxt.RequestTimeout("timeout"), ccxt.NetworkError("reset"),
                                  ccxt.BadResponse("malformed"), ValueError("Expecting value")])
def test_lost_response_is_resolved_by_lookup_not_resend(lost):
    fake = FakeCcxt()
    fake.faults["create_order"] = [("after", lost)]
    order = run(make_client(fake).create_order(request()))
    assert fake.calls["create_order"] == 1  # never resent
    assert fake.calls["fetch_order"] == 1
    assert len(fake.orders) == 1 and order.status is OrderStatus.FILLED and order.venue_order_id == "1"


def test_malformed_create_answer_is_not_taken_for_an_order():
    fake = FakeCcxt()
    fake.faults["create_order"] = [("malformed", None)]
    order = run(make_client(fake).create_order(request()))
    assert fake.calls["create_order"] == 1 and fake.calls["fetch_order"] == 1
    assert order.venue_order_id == "1" and order.status is OrderStatus.FILLED


def test_request_that_never_arrived_is_resent_once():
    fake = FakeCcxt()
    fake.faults["create_order"] = [ccxt.RequestTimeout("connect timeout")]
    order = run(make_client(fake).create_order(request(order_type=OrderType.LIMIT)))
    assert fake.calls["create_order"] == 2 and fake.calls["fetch_order"] == 1
    assert len(fake.orders) == 1 and order.status is OrderStatus.OPEN


def test_lookup_failing_temporarily_is_retried_before_any_resend():
    fake = FakeCcxt()
    fake.faults["create_order"] = [("after", ccxt.RequestTimeout("t"))]
    fake.faults["fetch_order"] = [ccxt.ExchangeNotAvailable("503")]
    order = run(make_client(fake).create_order(request()))
    assert fake.calls["create_order"] == 1 and fake.calls["fetch_order"] == 2
    assert order.status is OrderStatus.FILLED


def test_duplicate_on_resend_returns_the_existing_order():
    fake = FakeCcxt()
    run(make_client(fake).create_order(request(order_type=OrderType.LIMIT)))
    again = run(make_client(fake).create_order(request(order_type=OrderType.LIMIT)))  # after a crash
    assert len(fake.orders) == 1 and again.venue_order_id == "1"


def test_scan_fallback_for_venues_without_lookup_by_client_id():
    fake = FakeCcxt("kraken")
    fake.faults["create_order"] = [("after", ccxt.RequestTimeout("t"))]
    order = run(make_client(fake).create_order(request("k1")))
    assert fake.calls["fetch_order"] == 0
    assert fake.calls["fetch_open_orders"] == 1 and fake.calls["fetch_closed_orders"] == 1
    assert fake.calls["create_order"] == 1 and order.client_order_id == "k1"
    assert fake.sent[0][5] == {"clientOrderId": "k1"}


def test_no_way_to_verify_raises_instead_of_resending():
    fake = FakeCcxt("kraken", has={"fetchClosedOrders": False})
    fake.faults["create_order"] = [("after", ccxt.RequestTimeout("t"))]
    with pytest.raises(ExchangeError, match="cannot tell whether order k1 exists"):
        run(make_client(fake).create_order(request("k1")))
    assert fake.calls["create_order"] == 1


def test_business_errors_are_not_retried():
    fake = FakeCcxt()
    fake.faults["create_order"] = [ccxt.InsufficientFunds("binance Account has insufficient balance")]
    with pytest.raises(InsufficientFundsError):
        run(make_client(fake).create_order(request()))
    assert fake.calls["create_order"] == 1 and fake.calls["fetch_order"] == 0


def test_rate_limit_retried_with_backoff_then_raised_and_breaker_opens():
    fake = FakeCcxt()
    fake.faults["fetch_balance"] = [ccxt.RateLimitExceeded("429")] * 10
    clock, sleep = FakeClock(), FakeSleep()
    client = make_client(fake, attempts=3, threshold=3, clock=clock, sleep=sleep)
    with pytest.raises(RateLimitError):
        run(client.fetch_balance())
    assert fake.calls["fetch_balance"] == 3 and len(sleep.delays) == 2
    assert sleep.delays[1] > sleep.delays[0]  # exponential
    assert client.breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        run(client.fetch_balance())
    assert fake.calls["fetch_balance"] == 3  # failed fast, nothing sent
    clock.now += 5
    fake.faults["fetch_balance"] = []
    assert run(client.fetch_balance())["USDT"].free == Decimal("900.5")
    assert client.breaker.state == "closed"


def test_retry_after_is_respected():
    fake = FakeCcxt()
    fake.faults["fetch_balance"] = [ccxt.RateLimitExceeded("429")]
    fake.last_response_headers = {"Retry-After": "2"}
    sleep = FakeSleep()
    run(make_client(fake, sleep=sleep).fetch_balance())
    assert sleep.delays == [2.0]


def test_total_time_budget_bounds_retries():
    fake = FakeCcxt()
    fake.faults["fetch_balance"] = [ccxt.RequestTimeout("t")] * 10
    fake.last_response_headers = None
    client = make_client(fake, attempts=10)
    client.retry_policy = type(client.retry_policy)(max_attempts=10, max_total_s=0.0,
                                                    initial_delay_s=1.0, jitter_s=0.0)
    with pytest.raises(TemporaryExchangeError):
        run(client.fetch_balance())
    assert fake.calls["fetch_balance"] == 1


def test_breaker_opening_mid_create_stops_retries():
    fake = FakeCcxt()
    fake.faults["create_order"] = [ccxt.ExchangeNotAvailable("502")] * 5
    fake.faults["fetch_order"] = [ccxt.ExchangeNotAvailable("502")] * 5
    client = make_client(fake, attempts=10, threshold=2)
    with pytest.raises(TemporaryExchangeError) as info:
        run(client.create_order(request()))
    assert not isinstance(info.value, CircuitOpenError)
    assert client.breaker.state == "open" and fake.calls["create_order"] == 1


def test_fetch_and_cancel_by_client_id():
    fake = FakeCcxt()
    client = make_client(fake)
    run(client.create_order(request(order_type=OrderType.LIMIT)))
    assert run(client.fetch_order("BTC/USDT", "atb-1")).status is OrderStatus.OPEN
    assert [o.client_order_id for o in run(client.fetch_open_orders("BTC/USDT"))] == ["atb-1"]
    cancelled = run(client.cancel_order("BTC/USDT", "atb-1"))
    assert cancelled.status is OrderStatus.CANCELLED
    # a second cancel (e.g. a retried one whose first answer was lost) reports the final state
    assert run(client.cancel_order("BTC/USDT", "atb-1")).status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotFoundError):
        run(client.fetch_order("BTC/USDT", "nope"))
    with pytest.raises(OrderNotFoundError):
        run(client.cancel_order("BTC/USDT", "nope"))


def test_cancel_by_scan_uses_the_venue_id():
    fake = FakeCcxt("coinbase")
    client = make_client(fake)
    run(client.create_order(request("c1", order_type=OrderType.LIMIT)))
    assert run(client.cancel_order("BTC/USDT", "c1")).status is OrderStatus.CANCELLED


def test_markets_cached_and_converted():
    fake = FakeCcxt()
    client = make_client(fake)
    markets = run(client.load_markets())
    run(client.load_markets())
    assert fake.calls["load_markets"] == 1
    assert markets["BTC/USDT"].price_tick == Decimal("0.01")


def test_invalid_client_id_refused_before_sending():
    fake = FakeCcxt("okx")
    with pytest.raises(ConfigError):
        run(make_client(fake).create_order(request("has-dash")))
    assert not fake.sent


def test_rest_polling_fallback_without_websocket():
    fake = FakeCcxt()
    sleep = FakeSleep()
    client = make_client(fake, sleep=sleep, poll_interval_s=0.5)
    run(client.create_order(request(order_type=OrderType.LIMIT)))
    updates = run(client.watch_orders())
    assert [o.client_order_id for o in updates] == ["atb-1"] and sleep.delays[-1] == 0.5
    assert run(client.fetch_positions()) == []


def test_close_closes_rest_and_ws():
    fake, ws = FakeCcxt(), FakeCcxt()
    run(make_client(fake, ws_exchange=ws).close())
    assert fake.closed and ws.closed


def test_factory_builds_real_ccxt_clients_without_network():
    with pytest.raises(ConfigError, match="not a ccxt exchange id"):
        create_ccxt_exchange("nope-exchange")

    async def build():
        ex = create_ccxt_exchange("kraken", config_overrides={"timeout": 1000})
        try:
            assert ex.venue == "kraken" and ex._rest.enableRateLimit and ex._rest.timeout == 1000
            assert ex._ws is not None and ex.capabilities.max_client_id_length == 18
        finally:
            await ex.close()
        ex = create_ccxt_exchange("binance", websocket=False)
        await ex.close()
        assert ex._ws is None
    run(build())
