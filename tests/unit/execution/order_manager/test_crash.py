"""Crash simulation: kill the process at every store write and venue call, restart, check invariants.

A scripted session runs against a store and a venue wrapped so that the k-th step raises
:class:`Crash` (a ``BaseException``: nothing in the manager may swallow it). Steps are every
store write and every order call to the venue, each both *before* it takes effect and *after*
(the write is committed / the venue acted, but the process dies before seeing the result). After
the crash a new manager is built on the same store (the restart), reconciles, waits past the
grace period and reconciles again; then the invariants must hold.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from atb.execution.brackets import BracketSpec, OcoBracket, TakeProfitLevel
from atb.execution.order_manager import OrderManager
from atb.orders.memory import InMemoryOrderStore
from atb.orders.state import OrderStatus, is_terminal
from atb.testing.fake_venue import FakeVenue, ManualClock

from ._kit import PAIR, SID, buy, run, sell_limit

D = Decimal
_WRITES = ("next_client_order_id", "save_order", "add_fill", "record_decision", "save_balances")
_VENUE_CALLS = ("create_order", "cancel_order")


class Crash(BaseException):
    """The process dies here."""


class Fuse:
    def __init__(self, at: int) -> None:
        self.at, self.n = at, 0

    def step(self) -> None:
        self.n += 1
        if self.n == self.at:
            raise Crash


class CrashingStore:
    def __init__(self, inner: InMemoryOrderStore, fuse: Fuse) -> None:
        self._inner, self._fuse = inner, fuse

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in _WRITES:
            return attr

        def wrapped(*a: Any, **kw: Any) -> Any:
            self._fuse.step()                # crash before the write
            out = attr(*a, **kw)
            self._fuse.step()                # crash after the commit
            return out
        return wrapped


class CrashingVenue:
    def __init__(self, inner: FakeVenue, fuse: Fuse) -> None:
        self._inner, self._fuse = inner, fuse
        self.venue = inner.venue

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name not in _VENUE_CALLS:
            return attr

        async def wrapped(*a: Any, **kw: Any) -> Any:
            self._fuse.step()                # crash before sending
            out = await attr(*a, **kw)
            self._fuse.step()                # the venue acted; the response never arrives
            return out
        return wrapped


async def _script(om: OrderManager, venue: FakeVenue) -> None:
    await buy(om, "1")
    tp = await sell_limit(om, "0.4", "110")
    venue.set_price(PAIR, D(111))              # fills on the venue; the store learns from updates
    await om.on_venue_updates(await venue.watch_orders())
    assert tp.client_order_id
    other = await sell_limit(om, "0.3", "130")
    await om.cancel(other.client_order_id)
    br = OcoBracket(om, BracketSpec(bracket_id="b1", pair=PAIR, amount=D("0.6"), stop_price=D(100),
                                    take_profits=(TakeProfitLevel(price=D(120), fraction=D("0.5")),)))
    await br.sync()
    venue.fill(br.status().take_profits[0].client_order_id, D("0.1"), D(120))
    await om.on_venue_updates(await venue.watch_orders())
    await br.sync()
    await om.emergency_exit()


def _check_invariants(store: Any, venue: FakeVenue) -> None:
    # every order the venue has is in the store, with the venue's status and filled amount
    for cid in venue.orders:
        local = store.get_order(cid)
        assert local is not None, f"venue order {cid} missing from the store"
        view = venue.venue_order(cid)
        assert local.filled == view.filled, cid
        assert local.status == view.status or local.status is OrderStatus.REJECTED, cid
        assert len(store.fills(client_order_id=cid)) == len(view.fills), cid
    # no client id was placed twice (the venue refuses duplicates: at most one rejected re-send)
    assert len(set(venue.orders)) == len(venue.orders)
    # local orders the venue never saw are terminal (rejected), none is left unknown
    for o in store.orders(SID):
        if o.client_order_id not in venue.orders:
            assert o.status is OrderStatus.REJECTED, o
        assert o.status is not OrderStatus.SUBMITTED
    # fills-based position equals the venue's balance
    assert store.position(SID, PAIR).amount == venue.balances.get("BTC", D(0))
    # nothing open on the venue that the store does not follow
    open_local = {o.client_order_id for o in store.open_orders(SID)}
    open_venue = {cid for cid, o in venue.orders.items() if not is_terminal(o.status)}
    assert open_venue == open_local


def _session(crash_at: int, open_store: Callable[[], Any] | None = None) -> tuple[bool, Any, FakeVenue]:
    """Run the script with a crash at step ``crash_at``; ``open_store`` reopens a durable store."""
    clock = ManualClock()
    store: Any = open_store() if open_store else InMemoryOrderStore()
    venue = FakeVenue(clock)
    fuse = Fuse(crash_at)
    om = OrderManager(CrashingStore(store, fuse), CrashingVenue(venue, fuse),  # type: ignore[arg-type]
                      clock, venue="fake", strategy_id=SID, grace_s=30)
    crashed = False
    try:
        run(_script(om, venue))
    except Crash:
        crashed = True
    clock.advance(1)
    if open_store is not None:
        store = open_store()  # the restarted process opens the database again
    restarted = OrderManager(store, venue, clock, venue="fake", strategy_id=SID, grace_s=30)
    run(restarted.start())
    clock.advance(31)
    report = run(restarted.reconcile())
    assert report.consistent, report
    _check_invariants(store, venue)
    # and the restarted process can still flatten everything
    run(restarted.emergency_exit())
    run(restarted.reconcile())
    _check_invariants(store, venue)
    assert store.position(SID, PAIR).amount == 0
    return crashed, store, venue


def test_session_without_crash_is_consistent():
    crashed, store, venue = _session(crash_at=0)
    assert not crashed


def test_crash_at_every_step_restarts_consistent():
    n = 1
    while True:
        crashed, _, _ = _session(crash_at=n)
        if not crashed:
            break
        n += 1
    assert n > 40  # the script has many steps; each was a crash point


@pytest.mark.parametrize("crash_at", [3, 4, 5, 6])
def test_crash_around_the_first_create(crash_at):
    crashed, store, venue = _session(crash_at)
    assert crashed
    assert len(venue.create_calls) == len(set(venue.create_calls))
