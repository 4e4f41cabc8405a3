"""Venue updates: duplicates, stale reports, conflicts, resurrected orders."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from atb.errors import OrderStateError
from atb.execution._apply import UpdateKind, classify_update, normalise_status
from atb.orders.state import OrderStatus

from ._kit import PAIR, SID, build, buy, run, sell_limit

S = OrderStatus


def test_duplicate_updates_are_idempotent():
    om, store, venue, _ = build()
    run(buy(om, "1"))
    o = run(sell_limit(om, "0.4", "110"))
    venue.fill(o.client_order_id, Decimal("0.2"))
    batch = list(run(venue.watch_orders()))
    for _ in range(3):
        run(om.on_venue_updates(batch + batch))
    stored = store.get_order(o.client_order_id)
    assert stored.status is S.PARTIALLY_FILLED and stored.filled == Decimal("0.2")
    assert len(store.fills(client_order_id=o.client_order_id)) == 1
    assert store.position(SID, PAIR).amount == Decimal("0.8")


def test_stale_update_is_ignored():
    om, store, venue, _ = build()
    run(buy(om, "1"))
    o = run(sell_limit(om, "0.4", "110"))
    open_view = venue.venue_order(o.client_order_id)
    venue.fill(o.client_order_id)
    run(om.on_venue_updates(run(venue.watch_orders())))
    assert store.get_order(o.client_order_id).status is S.FILLED
    before = store.get_order(o.client_order_id)
    assert run(om.on_venue_update(open_view)) == before  # late "open": ignored
    partial = replace(open_view, status=S.PARTIALLY_FILLED, filled=Decimal("0.1"))
    assert run(om.on_venue_update(partial)) == before  # less filled: ignored
    assert classify_update(before, partial) is UpdateKind.STALE


def test_terminal_order_rejects_a_different_terminal_status():
    om, store, venue, _ = build()
    filled = run(buy(om, "1"))
    bad = replace(venue.venue_order(filled.client_order_id), status=S.CANCELLED)
    with pytest.raises(OrderStateError):
        run(om.on_venue_update(bad))
    assert store.get_order(filled.client_order_id).status is S.FILLED


def test_unknown_order_update_is_left_to_reconciliation():
    om, store, venue, _ = build()
    run(buy(om, "1"))
    vo = venue.venue_order(next(iter(venue.orders)))
    assert run(om.on_venue_update(replace(vo, client_order_id="someone-else"))) is None


def test_normalise_status():
    om, store, venue, _ = build()
    o = run(buy(om, "1"))
    vo = venue.venue_order(o.client_order_id)
    assert normalise_status(replace(vo, status=S.OPEN, filled=Decimal("0.5"))) is S.PARTIALLY_FILLED
    assert normalise_status(replace(vo, status=S.OPEN, filled=Decimal(1))) is S.FILLED
    assert normalise_status(replace(vo, status=S.PARTIALLY_FILLED, filled=Decimal(0))) is S.OPEN
    assert normalise_status(replace(vo, status=S.SUBMITTED, filled=Decimal(0))) is S.SUBMITTED


def test_order_arriving_after_grace_is_cancelled_and_its_fills_kept():
    om, store, venue, clock = build(grace_s=5)
    run(buy(om, "1"))
    venue.fail_next()
    o = run(sell_limit(om, "0.3", "110"))
    clock.advance(6)
    run(om.reconcile())
    assert store.get_order(o.client_order_id).status is S.REJECTED
    # the request shows up late on the venue and partly fills
    venue.inject_order(o.request)
    venue.fill(o.client_order_id, Decimal("0.1"))
    report = run(om.reconcile())
    assert [a.kind for a in report.actions] == ["resurrected_cancelled"]
    assert venue.venue_order(o.client_order_id).status is S.CANCELLED
    stored = store.get_order(o.client_order_id)
    assert stored.status is S.REJECTED and stored.filled == Decimal("0.1")
    assert store.position(SID, PAIR).amount == Decimal("0.9") == venue.balances["BTC"]
    assert report.consistent


def test_resurrected_order_seen_through_watch_orders_is_cancelled():
    om, store, venue, clock = build(grace_s=5)
    run(buy(om, "1"))
    venue.fail_next()
    o = run(sell_limit(om, "0.3", "110"))
    clock.advance(6)
    run(om.reconcile())
    vo = venue.inject_order(o.request)
    assert run(om.on_venue_update(vo)).status is S.REJECTED
    assert venue.venue_order(o.client_order_id).status is S.CANCELLED
