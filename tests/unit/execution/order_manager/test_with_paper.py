"""The order manager against the PaperExchange adapter (the venue of paper trading)."""

from __future__ import annotations

from decimal import Decimal

from atb.core.enums import OrderSide, OrderType
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.orders.memory import InMemoryOrderStore
from atb.orders.state import OrderStatus
from atb.testing.fake_venue import ManualClock

from ._kit import PAIR, SID, run

D = Decimal


def test_paper_round_trip_and_restart():
    clock = ManualClock()
    ex = PaperExchange(paper_markets([PAIR]), PaperConfig(balances={"USDT": D(10000)}, fill_mode="immediate"))
    ex.set_price(PAIR, D(100), 1_000)
    store = InMemoryOrderStore()
    om = OrderManager(store, ex, clock, venue="paper", strategy_id=SID)
    entry = run(om.submit(pair=PAIR, side=OrderSide.BUY, order_type=OrderType.MARKET, amount=D(2), tag="e"))
    run(om.on_venue_updates(ex.advance_to(2_000)))
    run(om.poll_open_orders())
    assert store.get_order(entry.client_order_id).status is OrderStatus.FILLED
    limit = run(om.submit(pair=PAIR, side=OrderSide.SELL, order_type=OrderType.LIMIT, amount=D(1),
                          price=D(105), tag="x"))
    run(om.on_venue_updates(ex.set_price(PAIR, D(106), 3_000)))
    assert store.get_order(limit.client_order_id).status is OrderStatus.FILLED
    assert store.position(SID, PAIR).amount == D(1)
    report = run(OrderManager(store, ex, clock, venue="paper", strategy_id=SID).start())
    assert report.consistent, report
    res = run(om.emergency_exit())
    run(om.on_venue_updates(ex.advance_to(4_000)))
    run(om.poll_open_orders())
    assert store.get_order(res.exits[0].client_order_id).status is OrderStatus.FILLED
    assert store.position(SID, PAIR).amount == 0
    assert run(om.reconcile()).consistent
