"""Reconciliation: orphans, balances, fills recovery, the pure decision rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from atb.core.enums import OrderSide, OrderType
from atb.execution.order_manager import OrderManager
from atb.execution.reconcile import (
    client_id_prefix,
    compare_balances,
    decide_order,
    decide_orphans,
    reconcile,
)
from atb.orders.models import Order, OrderRequest
from atb.orders.state import OrderStatus

from ._kit import PAIR, SID, build, buy, run, sell_limit

S = OrderStatus


def _request(cid: str, amount: str = "0.2", price: str = "130") -> OrderRequest:
    return OrderRequest(client_order_id=cid, pair=PAIR, side=OrderSide.SELL, order_type=OrderType.LIMIT,
                        amount=Decimal(amount), price=Decimal(price))


def test_prefix_matches_the_store_ids():
    om, store, _, _ = build()
    assert store.next_client_order_id(SID).startswith(client_id_prefix(SID))
    assert not store.next_client_order_id("other").startswith(client_id_prefix(SID))


def test_orphan_with_our_prefix_is_adopted_and_foreign_orders_ignored():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    orphan = venue.inject_order(_request(client_id_prefix(SID) + "zzzz-99"))
    venue.fill(orphan.client_order_id, Decimal("0.05"))
    venue.inject_order(_request("manual-order-1"))
    report = run(om.reconcile())
    (act,) = report.of_kind("orphan_adopted")
    assert act.client_order_id == orphan.client_order_id
    adopted = store.get_order(orphan.client_order_id)
    assert adopted.status is S.PARTIALLY_FILLED and adopted.tag == "orphan_adopted"
    assert adopted.filled == Decimal("0.05")
    assert store.get_order("manual-order-1") is None
    assert store.position(SID, PAIR).amount == Decimal("0.95") == venue.balances["BTC"]
    # adopted orders are followed like any other
    venue.fill(orphan.client_order_id)
    run(om.poll_open_orders())
    assert store.get_order(orphan.client_order_id).status is S.FILLED
    assert run(om.reconcile()).consistent


def test_orphan_cancel_policy_records_then_cancels():
    _, store, venue, clock = build()
    om = OrderManager(store, venue, clock, venue="fake", strategy_id=SID, orphan_policy="cancel")
    run(buy(om, "1"))
    orphan = venue.inject_order(_request(client_id_prefix(SID) + "zzzz-98"))
    report = run(om.reconcile())
    assert [a.kind for a in report.actions] == ["orphan_cancelled"]
    assert venue.venue_order(orphan.client_order_id).status is S.CANCELLED
    assert store.get_order(orphan.client_order_id).status is S.CANCELLED


def test_balance_mismatch_is_reported():
    om, store, venue, _ = build()
    run(buy(om, "1"))
    venue.balances["BTC"] += Decimal("0.3")  # someone else traded on the account
    report = run(om.reconcile())
    (mm,) = report.balance_mismatches
    assert (mm.currency, mm.expected, mm.venue, mm.difference) == ("BTC", Decimal(1), Decimal("1.3"),
                                                                  Decimal("0.3"))
    assert not report.consistent
    snap = store.latest_balances("fake")
    assert snap is not None and snap.total("BTC") == Decimal("1.3")
    # a baseline of holdings atb does not manage removes it
    again = run(reconcile(store, venue, strategy_id=SID, venue="fake", now=om.clock(),
                          baseline={"BTC": Decimal("0.3")}))
    assert again.balance_mismatches == ()


def test_base_currency_fees_are_not_a_mismatch():
    om, store, venue, _ = build(fee_in_base=True)
    run(buy(om, "1"))
    assert venue.balances["BTC"] == Decimal("0.999")
    assert store.position(SID, PAIR).amount == Decimal(1)
    assert run(om.reconcile()).balance_mismatches == ()


def test_compare_balances_tolerance():
    exp = {"BTC": Decimal(1), "ETH": Decimal(0)}
    assert compare_balances(exp, {"BTC": Decimal("1.000000001")}) == []
    assert [m.currency for m in compare_balances(exp, {"BTC": Decimal("1.01")})] == ["BTC"]
    assert compare_balances(exp, {"BTC": Decimal("1.01")}, rel_tol=Decimal("0.02")) == []
    assert [m.currency for m in compare_balances(exp, {"BTC": Decimal(1), "ETH": Decimal(2)})] == ["ETH"]


def test_decide_order_rules():
    om, store, venue, clock = build()
    now = clock()
    base = Order(request=_request("c1"), status=S.SUBMITTED, venue="fake", strategy_id=SID,
                 created_at=now, updated_at=now)
    assert decide_order(base, None, now=now + timedelta(seconds=5), grace_s=30) == "waiting"
    assert decide_order(base, None, now=now + timedelta(seconds=30), grace_s=30) == "rejected_not_found"
    assert decide_order(base.with_status(S.OPEN, now), None, now=now, grace_s=30) == "missing"
    new = Order(request=_request("c2"), status=S.NEW, venue="fake", strategy_id=SID, created_at=now,
                updated_at=now)
    assert decide_order(new, None, now=now, grace_s=30) == "rejected_never_sent"
    run(buy(om, "1"))
    vo = venue.inject_order(_request("c1"))
    assert decide_order(base, vo, now=now, grace_s=30) == "apply"
    pre = client_id_prefix(SID)
    venue_open = [replace(vo, client_order_id=pre + "x"), replace(vo, client_order_id=pre + "y"), vo]
    out = decide_orphans({pre + "x": base.with_status(S.REJECTED, now)}, venue_open, prefix=pre,
                         policy="adopt")
    assert [(a, v.client_order_id) for a, v in out] == [("resurrected_cancelled", pre + "x"),
                                                        ("orphan_adopted", pre + "y")]
    out = decide_orphans({}, venue_open, prefix=pre, policy="cancel")
    assert [a for a, _ in out] == ["orphan_cancelled", "orphan_cancelled"]


def test_terminal_order_with_missing_fills_recovers_them():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    o = run(sell_limit(om, "0.5", "120"))
    vo = venue.fill(o.client_order_id)
    # a crash-like gap: the order was saved filled but its fill never recorded
    store.save_order(store.get_order(o.client_order_id).with_status(
        S.FILLED, clock(), filled=vo.filled, average=vo.average, fee=vo.fee))
    assert store.position(SID, PAIR).amount == Decimal(1)
    report = run(om.reconcile())
    assert [a.kind for a in report.actions] == ["fills_recovered"]
    assert store.position(SID, PAIR).amount == Decimal("0.5") == venue.balances["BTC"]
