"""A fake async ccxt-like exchange, injected into CcxtExchange (no patching of ccxt)."""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

import ccxt

from atb.core.enums import OrderSide, OrderType
from atb.execution.ccxt import CcxtExchange, CircuitBreaker, RetryPolicy
from atb.orders.models import OrderRequest


class FakeCcxt:
    """Just enough of ccxt's async exchange for the adapter.

    ``faults[method]`` is a list of exceptions raised by the next calls of that method. A fault
    given as ``("after", exc)`` for ``create_order`` places the order first, then raises (the
    lost response); ``("malformed", None)`` places it and returns what ccxt makes of a truncated
    body (``info`` is the raw text, every field None).
    """

    precisionMode = 4  # TICK_SIZE

    def __init__(self, exchange_id: str = "binance", *, has: dict[str, bool] | None = None) -> None:
        self.id = exchange_id
        self.has = {"fetchClosedOrders": True, "fetchPositions": False, **(has or {})}
        self.orders: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, list[Any]] = {}
        self.calls: Counter[str] = Counter()
        self.sent: list[tuple[Any, ...]] = []
        self.last_response_headers: dict[str, str] | None = None
        self.closed = False
        self._next_id = 1

    def milliseconds(self) -> int:
        return 1_700_000_000_000

    def amount_to_precision(self, symbol: str, amount: float) -> str:
        return str(Decimal(str(amount)).quantize(Decimal("0.00001"), rounding="ROUND_DOWN"))

    def price_to_precision(self, symbol: str, price: float) -> str:
        return str(Decimal(str(price)).quantize(Decimal("0.01")))

    def _fault(self, method: str) -> Any:
        self.calls[method] += 1
        queue = self.faults.get(method)
        return queue.pop(0) if queue else None

    def _raise(self, method: str) -> None:
        fault = self._fault(method)
        if fault is not None:
            raise fault

    async def load_markets(self) -> dict[str, Any]:
        self._raise("load_markets")
        return {"BTC/USDT": {
            "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "active": True,
            "precision": {"amount": 0.00001, "price": 0.01},
            "limits": {"amount": {"min": 0.00001}, "cost": {"min": 5.0}},
            "maker": 0.001, "taker": 0.001}}

    async def fetch_balance(self) -> dict[str, Any]:
        self._raise("fetch_balance")
        return {"info": {}, "USDT": {"free": 900.5, "used": 99.5, "total": 1000.0},
                "BTC": {"free": 0.1, "used": 0.0, "total": 0.1},
                "free": {}, "used": {}, "total": {"USDT": 1000.0, "BTC": 0.1}}

    async def create_order(self, symbol: str, type: str, side: str, amount: float,  # noqa: A002
                           price: float | None = None,
                           params: dict[str, Any] | None = None) -> dict[str, Any]:
        fault = self._fault("create_order")
        params = dict(params or {})
        self.sent.append((symbol, type, side, amount, price, params))
        if fault is not None and not isinstance(fault, tuple):
            raise fault
        cid = params.get("newClientOrderId") or params.get("clientOrderId")
        if cid in self.orders and self.orders[cid]["status"] == "open":
            raise ccxt.DuplicateOrderId("binance Duplicate order sent.")
        order = {"id": str(self._next_id), "clientOrderId": cid, "symbol": symbol, "type": type,
                 "side": side, "amount": amount, "price": price, "timestamp": self.milliseconds(),
                 "status": "closed" if type == "market" else "open",
                 "filled": amount if type == "market" else 0.0,
                 "average": 50_000.0 if type == "market" else None,
                 "fee": {"cost": 0.05, "currency": "USDT"} if type == "market" else None,
                 "trades": ([{"id": f"t{self._next_id}", "price": 50_000.0, "amount": amount,
                              "fee": {"cost": 0.05, "currency": "USDT"}, "takerOrMaker": "taker",
                              "timestamp": self.milliseconds(), "side": side}]
                            if type == "market" else [])}
        self._next_id += 1
        self.orders[cid] = order
        if fault is not None and fault[0] == "malformed":
            return {"info": '{"symbol": "BTCUSDT", "orderId": 1, "cli', "id": None, "status": None}
        if fault is not None:
            raise fault[1]  # placed, but the response is lost
        return dict(order)

    async def fetch_order(self, id: str, symbol: str | None = None,  # noqa: A002
                          params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._raise("fetch_order")
        cid = (params or {}).get("origClientOrderId") or (params or {}).get("clientOrderId")
        if cid not in self.orders:
            raise ccxt.OrderNotFound("binance Order does not exist.")
        return dict(self.orders[cid])

    async def cancel_order(self, id: str, symbol: str | None = None,  # noqa: A002
                           params: dict[str, Any] | None = None) -> dict[str, Any]:
        self._raise("cancel_order")
        cid = (params or {}).get("origClientOrderId")
        if cid is None:
            cid = next((c for c, o in self.orders.items() if o["id"] == id), None)
        order = self.orders.get(cid) if cid else None
        if order is None or order["status"] != "open":
            raise ccxt.OrderNotFound("binance Unknown order sent.")
        order["status"] = "canceled"
        return dict(order)

    async def fetch_open_orders(self, symbol: str | None = None, since: int | None = None,
                                limit: int | None = None) -> list[dict[str, Any]]:
        self._raise("fetch_open_orders")
        return [dict(o) for o in self.orders.values() if o["status"] == "open"]

    async def fetch_closed_orders(self, symbol: str | None = None, since: int | None = None,
                                  limit: int | None = None) -> list[dict[str, Any]]:
        self._raise("fetch_closed_orders")
        return [dict(o) for o in self.orders.values() if o["status"] != "open"]

    async def close(self) -> None:
        self.closed = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeSleep:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.delays: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.clock is not None:
            self.clock.now += seconds
        await asyncio.sleep(0)


def make_client(fake: FakeCcxt, *, attempts: int = 4, threshold: int = 10,
                clock: FakeClock | None = None, sleep: FakeSleep | None = None,
                **kwargs: Any) -> CcxtExchange:
    clock = clock or FakeClock()
    return CcxtExchange(
        fake, retry=RetryPolicy(max_attempts=attempts, max_total_s=60, initial_delay_s=0.01,
                                max_delay_s=0.05, jitter_s=0.0),
        breaker=CircuitBreaker(fake.id, failure_threshold=threshold, cool_down_s=5, clock=clock),
        sleep=sleep or FakeSleep(), **kwargs)


def request(cid: str = "atb-1", *, order_type: OrderType = OrderType.MARKET, **kw: Any) -> OrderRequest:
    base: dict[str, Any] = {"client_order_id": cid, "pair": "BTC/USDT", "side": OrderSide.BUY,
                            "order_type": order_type, "amount": Decimal("0.0123456")}
    if order_type != OrderType.MARKET:
        base["price"] = Decimal("49999.999")
    base.update(kw)
    return OrderRequest(**base)
