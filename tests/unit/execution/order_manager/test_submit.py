"""Write-ahead submission, lost responses, failures before placing, venue rejections."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from atb.core.enums import OrderSide, OrderType
from atb.errors import InsufficientFundsError, TemporaryExchangeError
from atb.execution.order_manager import OrderManager
from atb.orders.models import Order, OrderRequest
from atb.orders.state import OrderStatus

from ._kit import PAIR, SID, build, buy, run, sell_limit

S = OrderStatus


def test_store_holds_submitted_before_the_venue_sees_the_request():
    om, store, venue, _ = build()
    seen: list[Order | None] = []
    venue.on_create = lambda req: seen.append(store.get_order(req.client_order_id))
    order = run(buy(om, "0.5"))
    assert len(seen) == 1 and seen[0] is not None
    assert seen[0].status is S.SUBMITTED
    assert seen[0].request == order.request
    assert order.status is S.FILLED and order.filled == Decimal("0.5")
    assert store.position(SID, PAIR).amount == Decimal("0.5")
    assert len(store.fills(client_order_id=order.client_order_id)) == 1


def test_lost_response_stays_submitted_then_reconcile_fills_with_one_venue_order():
    om, store, venue, clock = build()
    venue.lose_next_response()
    order = run(buy(om, "1"))
    assert order.status is S.SUBMITTED
    assert store.position(SID, PAIR).amount == 0
    clock.advance(1)
    report = run(OrderManager(store, venue, clock, venue="fake", strategy_id=SID).start())
    assert [a.kind for a in report.actions] == ["applied"]
    final = store.get_order(order.client_order_id)
    assert final is not None and final.status is S.FILLED
    assert venue.create_calls == [order.client_order_id]  # never re-sent
    assert len(venue.orders) == 1
    assert store.position(SID, PAIR).amount == Decimal(1) == venue.balances["BTC"]
    assert report.consistent


def test_failure_before_placing_is_rejected_only_after_grace():
    om, store, venue, clock = build(grace_s=30)
    venue.fail_next()
    order = run(buy(om, "1"))
    assert order.status is S.SUBMITTED
    clock.advance(10)
    report = run(om.reconcile())
    assert report.of_kind("waiting") and store.get_order(order.client_order_id).status is S.SUBMITTED
    clock.advance(25)
    report = run(om.reconcile())
    assert [a.kind for a in report.actions] == ["rejected_not_found"]
    assert store.get_order(order.client_order_id).status is S.REJECTED
    assert venue.create_calls == [order.client_order_id] and not venue.orders
    # a retry is the caller's decision, under a new client id
    again = run(buy(om, "1"))
    assert again.client_order_id != order.client_order_id and again.status is S.FILLED


def test_timeout_is_unknown_not_rejected():
    om, store, venue, _ = build()
    venue.fail_next(TemporaryExchangeError("timeout"))
    assert run(buy(om, "1")).status is S.SUBMITTED


def test_venue_rejection_is_stored_with_reason():
    om, store, venue, _ = build()
    venue.fail_next(InsufficientFundsError("not enough USDT"))
    order = run(buy(om, "1"))
    assert order.status is S.REJECTED
    (decision,) = store.decisions(SID)
    assert decision.action == "order_rejected" and decision.client_order_id == order.client_order_id
    assert decision.signals["error"] == "InsufficientFundsError"
    assert "not enough USDT" in (decision.risk_reason or "")


def test_new_order_left_by_a_crash_is_rejected_as_never_sent():
    om, store, venue, clock = build()
    cid = store.next_client_order_id(SID)
    req = OrderRequest(client_order_id=cid, pair=PAIR, side=OrderSide.BUY, order_type=OrderType.MARKET,
                       amount=Decimal(1))
    store.save_order(Order(request=req, status=S.NEW, venue="fake", strategy_id=SID,
                           created_at=clock(), updated_at=clock()))
    report = run(om.start())
    assert [a.kind for a in report.actions] == ["rejected_never_sent"]
    assert store.get_order(cid).status is S.REJECTED and not venue.create_calls


def test_limit_order_then_fill_via_poll_and_cancel():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    o = run(sell_limit(om, "0.4", "110"))
    assert o.status is S.OPEN and o.venue_order_id
    venue.fill(o.client_order_id, Decimal("0.1"))
    (polled,) = run(om.poll_open_orders())
    assert polled.status is S.PARTIALLY_FILLED and polled.filled == Decimal("0.1")
    cancelled = run(om.cancel(o.client_order_id))
    assert cancelled.status is S.CANCELLED and cancelled.filled == Decimal("0.1")
    assert run(om.cancel(o.client_order_id)) == cancelled  # terminal: unchanged
    assert store.position(SID, PAIR).amount == Decimal("0.9") == venue.balances["BTC"]


def test_cancel_of_new_order_rejects_without_calling_venue():
    om, store, venue, clock = build()
    cid = store.next_client_order_id(SID)
    req = OrderRequest(client_order_id=cid, pair=PAIR, side=OrderSide.BUY, order_type=OrderType.MARKET,
                       amount=Decimal(1))
    store.save_order(Order(request=req, status=S.NEW, venue="fake", strategy_id=SID,
                           created_at=clock(), updated_at=clock()))
    assert run(om.cancel(cid)).status is S.REJECTED


def test_fills_missing_from_the_response_are_fetched():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    limit = run(sell_limit(om, "0.5", "120"))
    vo = venue.fill(limit.client_order_id)
    bare = replace(vo, fills=())
    updated = run(om.on_venue_update(bare))
    assert updated is not None and updated.status is S.FILLED
    assert len(store.fills(client_order_id=limit.client_order_id)) == 1
    assert store.position(SID, PAIR).amount == Decimal("0.5")
