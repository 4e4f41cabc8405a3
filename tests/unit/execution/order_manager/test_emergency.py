"""Emergency exit: cancel open orders, close positions with market orders, never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from atb.core.enums import OrderSide
from atb.execution.order_manager import EMERGENCY_EXIT_TAG
from atb.orders.events import FlattenRequested
from atb.orders.state import OrderStatus

from ._kit import PAIR, SID, build, buy, run, sell_limit

S = OrderStatus
D = Decimal


def test_emergency_exit_cancels_and_closes():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    run(om.submit(pair="ETH/USDT", side=OrderSide.BUY, order_type="market", amount=D(3), tag="entry"))
    limit = run(sell_limit(om, "0.5", "150"))
    res = run(om.emergency_exit([PAIR]))
    assert [o.client_order_id for o in res.cancelled] == [limit.client_order_id]
    (exit_order,) = res.exits
    assert exit_order.tag == EMERGENCY_EXIT_TAG and exit_order.status is S.FILLED
    assert exit_order.request.side is OrderSide.SELL and exit_order.request.amount == D(1)
    assert store.position(SID, PAIR).amount == 0 == venue.balances["BTC"]
    assert store.position(SID, "ETH/USDT").amount == D(3)  # not targeted
    assert run(om.emergency_exit()).exits[0].request.pair == "ETH/USDT"
    assert all(p.amount == 0 for p in store.positions(SID))


def test_emergency_exit_twice_with_unknown_first_exit_never_sells_twice():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    venue.lose_next_response()
    first = run(om.emergency_exit())
    assert first.exits[0].status is S.SUBMITTED
    second = run(om.emergency_exit())
    assert second.exits == ()
    run(om.reconcile())
    assert store.position(SID, PAIR).amount == 0 == venue.balances["BTC"]
    assert len([c for c in venue.create_calls if store.get_order(c).tag == EMERGENCY_EXIT_TAG]) == 1


def test_base_fee_exit_is_capped_at_the_venue_balance():
    om, store, venue, clock = build(fee_in_base=True)
    run(buy(om, "1"))
    res = run(om.emergency_exit())
    assert res.exits[0].status is S.FILLED and res.exits[0].request.amount == D("0.999")
    assert venue.balances["BTC"] == 0
    assert run(om.reconcile()).balance_mismatches == ()


def test_flatten_requested_from_the_risk_engine():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    event = FlattenRequested("max_drawdown", 1000.0, datetime(2024, 1, 1, tzinfo=UTC))
    res = run(om.on_flatten_requested(event))
    assert len(res.exits) == 1 and store.position(SID, PAIR).amount == 0
