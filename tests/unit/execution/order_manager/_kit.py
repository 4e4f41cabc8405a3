"""Shared builders for the order-manager tests (real components around the fake venue)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, TypeVar

from atb.core.enums import OrderSide, OrderType
from atb.execution.order_manager import OrderManager
from atb.orders.memory import InMemoryOrderStore
from atb.orders.models import Order
from atb.orders.ports import OrderStore
from atb.testing.fake_venue import FakeVenue, ManualClock

T = TypeVar("T")
D = Decimal
PAIR = "BTC/USDT"
SID = "strat-1"


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def build(*, store: OrderStore | None = None, venue: FakeVenue | None = None,
          clock: ManualClock | None = None, grace_s: float = 30.0, **venue_kw: Any
          ) -> tuple[OrderManager, InMemoryOrderStore, FakeVenue, ManualClock]:
    clock = clock or ManualClock()
    store = store or InMemoryOrderStore()
    venue = venue or FakeVenue(clock, **venue_kw)
    om = OrderManager(store, venue, clock, venue="fake", strategy_id=SID, grace_s=grace_s)
    return om, store, venue, clock  # type: ignore[return-value]


async def buy(om: OrderManager, amount: str, **kw: Any) -> Order:
    return await om.submit(pair=PAIR, side=OrderSide.BUY, order_type=OrderType.MARKET, amount=D(amount),
                           tag=kw.pop("tag", "entry"), **kw)


async def sell_limit(om: OrderManager, amount: str, price: str, tag: str = "exit") -> Order:
    return await om.submit(pair=PAIR, side=OrderSide.SELL, order_type=OrderType.LIMIT, amount=D(amount),
                           price=D(price), tag=tag)
