"""SmartOrderRouter: books -> plan -> LIMIT IOC children through each venue's OrderManager.

Venues are PaperExchanges in ``immediate`` fill mode (they hold the balances and fill the
children, at their last price) behind a small in-test book feed: PaperExchange's own
``fetch_order_book`` has a single synthetic level, so ``BookFeed`` serves hand-written
multi-level books for routing and delegates balances to the paper venue. The paper venue's last
price is set to the book's best ask/bid, so a child limited at its worst level fills there.
"""

from __future__ import annotations

import asyncio
import doctest
from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pytest

import atb.execution.smart_router as smart_router_mod
from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import ConfigError, TemporaryExchangeError
from atb.execution.models import BookSnapshot, Market
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange
from atb.execution.smart_router import RoutedOrder, SmartOrderRouter
from atb.orders.memory import InMemoryOrderStore
from atb.orders.state import OrderStatus

PAIR = "BTC/USDT"
SID = "s1"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def clock() -> datetime:
    return datetime(2024, 1, 1, tzinfo=UTC)


def mk(fee: str = "0", step: str = "0.001") -> Market:
    return Market(pair=PAIR, base="BTC", quote="USDT", price_tick=D("0.01"), amount_step=D(step),
                  taker_fee=D(fee), maker_fee=D(fee))


class BookFeed:
    """Market data of one venue: a fixed multi-level book, balances from the paper venue."""

    def __init__(self, paper: PaperExchange, asks=(), bids=(), fail: Exception | None = None) -> None:
        self.venue = paper.venue
        self.paper = paper
        self.book = BookSnapshot(pair=PAIR, timestamp=0, asks=tuple((D(p), D(a)) for p, a in asks),
                                 bids=tuple((D(p), D(a)) for p, a in bids))
        self.fail = fail
        self.book_calls = 0

    async def fetch_order_book(self, pair, limit=None):
        self.book_calls += 1
        if self.fail is not None:
            raise self.fail
        return self.book

    async def fetch_balance(self):
        return await self.paper.fetch_balance()


class LostResponsePaper(PaperExchange):
    """A venue whose create_order answer is lost (the order never arrives here)."""

    async def create_order(self, request):
        raise TemporaryExchangeError("connection reset")


def venue(name: str, *, asks=(), bids=(), fee="0", usdt="100000", btc="0", last=None,
          fail: Exception | None = None, cls=PaperExchange, market: Market | None = None):
    paper = cls({PAIR: market or mk(fee)}, PaperConfig(venue=name, fill_mode="immediate",
                                                        balances={"USDT": D(usdt), "BTC": D(btc)}))
    best_ask = D(asks[0][0]) if asks else None
    best_bid = D(bids[0][0]) if bids else None
    price = D(last) if last is not None else (best_ask or best_bid)
    paper.set_price(PAIR, price, 1_000, bid=best_bid or price, ask=best_ask or price)
    return paper, BookFeed(paper, asks, bids, fail)


def build(*venues, store=None):
    store = store or InMemoryOrderStore()
    managers = {p.venue: OrderManager(store, p, clock, venue=p.venue, strategy_id=SID) for p, _ in venues}
    feeds = {p.venue: f for p, f in venues}
    return SmartOrderRouter(managers, feeds), store


def route(router, side, amount, **kw) -> RoutedOrder:
    return asyncio.run(router.route(PAIR, side, D(amount), **kw))


def by_venue(routed: RoutedOrder) -> dict[str, tuple[D, D]]:
    return {o.venue: (o.request.amount, o.filled) for o in routed.orders}


def test_module_doctest():
    assert doctest.testmod(smart_router_mod).failed == 0


def test_buy_split_across_two_venues_as_limit_ioc_at_worst_price():
    a = venue("a", asks=[("100", "1"), ("101", "2")])
    b = venue("b", asks=[("100.5", "1"), ("102", "5")])
    router, store = build(a, b)
    routed = route(router, BUY, "2.5", tag="entry")
    # cheapest units: a@100 x1, b@100.5 x1, a@101 x0.5
    assert by_venue(routed) == {"a": (D("1.5"), D("1.5")), "b": (D("1"), D("1"))}
    for order, price, tag in zip(routed.orders, (D(101), D("100.5")), ("entry:sor:0", "entry:sor:1"),
                                 strict=True):
        assert order.request.order_type is OrderType.LIMIT and order.request.time_in_force is TimeInForce.IOC
        assert order.request.price == price and order.tag == tag and order.status is OrderStatus.FILLED
        assert store.get_order(order.client_order_id) == order
    assert routed.filled == D("2.5") and routed.unfilled == 0 and routed.pending == 0 and routed.complete
    # paper fills at its last price (the best ask): a 1.5 @ 100, b 1 @ 100.5
    assert routed.average_price == (D("1.5") * 100 + D("100.5")) / D("2.5")
    assert routed.plan.filled == D("2.5") and routed.skipped == () and routed.rejected == ()
    assert asyncio.run(a[0].fetch_balance())["BTC"].free == D("1.5")
    assert asyncio.run(b[0].fetch_balance())["BTC"].free == D(1)
    assert store.position(SID, PAIR).amount == D("2.5")


def test_fees_decide_the_venue():
    cheap_but_costly = venue("a", asks=[("99.9", "5")], fee="0.01")  # 99.9 * 1.01 = 100.899
    dearer_but_cheap = venue("b", asks=[("100", "5")], fee="0.001")  # 100 * 1.001 = 100.1
    router, _ = build(cheap_but_costly, dearer_but_cheap)
    routed = route(router, BUY, "2")
    assert by_venue(routed) == {"b": (D(2), D(2))}


def test_sell_split_across_three_venues_within_base_balances():
    a = venue("a", bids=[("101", "3")], btc="0.5")
    b = venue("b", bids=[("100", "3")], btc="2")
    c = venue("c", bids=[("99", "3")], btc="2")
    router, _ = build(a, b, c)
    routed = route(router, SELL, "3", tag="exit")
    assert by_venue(routed) == {"a": (D("0.5"), D("0.5")), "b": (D(2), D(2)), "c": (D("0.5"), D("0.5"))}
    assert all(o.request.side is SELL for o in routed.orders)
    assert routed.filled == D(3) and routed.average_price == (D("50.5") + 200 + D("49.5")) / 3


def test_quote_balance_caps_a_buy_and_the_lock_at_the_worst_price_fits():
    # a: 1 @ 100 + 1 @ 110 costs 210 = its whole balance, but a limit at 110 locks 2 * 110 = 220;
    # the router shrinks a's budget until amount * 110 <= 210 and moves the rest to b
    a = venue("a", asks=[("100", "1"), ("110", "1")], usdt="210")
    b = venue("b", asks=[("120", "5")], usdt="10000")
    router, _ = build(a, b)
    routed = route(router, BUY, "2")
    assert routed.rejected == () and routed.filled == D(2)
    amount_a = by_venue(routed)["a"][0]
    assert D("1.9") < amount_a < D(2) and amount_a * 110 <= 210
    assert by_venue(routed)["b"][0] == D(2) - amount_a


def test_funds_off_the_step_still_split_in_whole_steps():
    # 150.05 USDT buys 1.5005 BTC at 100: the budget is cut to 1.5 (step 0.001) so b takes 0.5
    # (a raw budget would leave the two-venue plan a step short and lose to b alone)
    a = venue("a", asks=[("100", "5")], usdt="150.05")
    b = venue("b", asks=[("101", "5")])
    router, _ = build(a, b)
    routed = route(router, BUY, "2")
    assert by_venue(routed) == {"a": (D("1.5"), D("1.5")), "b": (D("0.5"), D("0.5"))}


def test_sell_base_balance_off_the_step_is_rounded_down():
    a = venue("a", bids=[("101", "5")], btc="0.5004")
    b = venue("b", bids=[("100", "5")], btc="5")
    router, _ = build(a, b)
    routed = route(router, SELL, "1")
    assert by_venue(routed) == {"a": (D("0.5"), D("0.5")), "b": (D("0.5"), D("0.5"))}


def test_without_balances_the_venue_rejects_and_the_remainder_is_reported_not_resent():
    a = venue("a", asks=[("100", "1")])
    broke = venue("b", asks=[("99", "1")], usdt="0")
    router, store = build(a, broke)
    routed = route(router, BUY, "2", use_balances=False)
    assert by_venue(routed) == {"a": (D(1), D(1)), "b": (D(1), D(0))}
    (rejected,) = routed.rejected
    assert rejected.venue == "b" and store.get_order(rejected.client_order_id).status is OrderStatus.REJECTED
    assert routed.filled == D(1) and routed.unfilled == D(1) and routed.pending == 0
    assert len(store.open_orders(SID)) == 0 and len(routed.orders) == 2  # nothing re-sent
    assert [d.action for d in store.decisions(SID)] == ["order_rejected"]


def test_with_balances_the_broke_venue_gets_nothing():
    a = venue("a", asks=[("100", "1")])
    broke = venue("b", asks=[("99", "1")], usdt="0")
    router, _ = build(a, broke)
    routed = route(router, BUY, "2")
    assert by_venue(routed) == {"a": (D(1), D(1))}
    assert routed.plan.unfilled == D(1) and routed.unfilled == D(1)


def test_failing_book_fetch_skips_the_venue_and_reports_it():
    a = venue("a", asks=[("100", "1")])
    down = venue("b", asks=[("90", "5")], fail=TemporaryExchangeError("book timeout"))
    router, _ = build(a, down)
    routed = route(router, BUY, "1")
    assert by_venue(routed) == {"a": (D(1), D(1))}
    (skip,) = routed.skipped
    assert (skip.venue, skip.stage) == ("b", "book") and "TemporaryExchangeError" in skip.reason
    assert down[1].book_calls == 1


def test_unknown_pair_skips_the_venue():
    other = Market(pair="ETH/USDT", base="ETH", quote="USDT", price_tick=D("0.01"), amount_step=D("0.001"))
    a = venue("a", asks=[("100", "1")])
    paper_b = PaperExchange({"ETH/USDT": other}, PaperConfig(venue="b", fill_mode="immediate"))
    router, _ = build(a, (paper_b, BookFeed(paper_b, asks=[("90", "1")])))
    routed = route(router, BUY, "1")
    assert by_venue(routed) == {"a": (D(1), D(1))}
    assert [(s.venue, s.stage) for s in routed.skipped] == [("b", "market")]


def test_book_moved_ioc_expires_unfilled_and_does_not_rest():
    moved = venue("a", asks=[("100", "2")], last="101")  # the venue trades at 101 by now
    router, store = build(moved)
    routed = route(router, BUY, "2")
    (order,) = routed.orders
    assert order.status is OrderStatus.EXPIRED and order.filled == 0
    assert routed.unfilled == D(2) and routed.average_price is None
    assert asyncio.run(moved[0].fetch_open_orders()) == [] and store.open_orders(SID) == []


def test_lost_response_is_pending_not_unfilled():
    lost = venue("a", asks=[("100", "1")], cls=LostResponsePaper)
    b = venue("b", asks=[("101", "1")])
    router, _ = build(lost, b)
    routed = route(router, BUY, "2")
    status = {o.venue: o.status for o in routed.orders}
    assert status == {"a": OrderStatus.SUBMITTED, "b": OrderStatus.FILLED}
    assert routed.filled == D(1) and routed.pending == D(1) and routed.unfilled == 0


def test_nothing_to_route_sends_nothing():
    down = venue("a", asks=[("100", "1")], fail=TemporaryExchangeError("down"))
    router, store = build(down)
    routed = route(router, BUY, "1", tag="x")
    assert routed.orders == () and routed.unfilled == D(1) and routed.filled == 0
    assert routed.plan.children == () and store.open_orders(SID) == []


def test_limit_price_bounds_the_levels():
    a = venue("a", asks=[("100", "1"), ("105", "5")])
    router, _ = build(a)
    routed = route(router, BUY, "3", limit_price=D(101))
    assert by_venue(routed) == {"a": (D(1), D(1))} and routed.unfilled == D(2)


def test_invalid_arguments():
    a = venue("a", asks=[("100", "1")])
    router, _ = build(a)
    with pytest.raises(ConfigError, match="amount"):
        route(router, BUY, "0")
    with pytest.raises(ConfigError, match="limit_price"):
        route(router, BUY, "1", limit_price=D(0))
    om = router.managers["a"]
    with pytest.raises(ConfigError, match="exchanges"):
        SmartOrderRouter({"a": om}, {"b": a[1]})
    with pytest.raises(ConfigError, match="managers"):
        SmartOrderRouter({}, {})
    with pytest.raises(ConfigError, match="book_depth"):
        SmartOrderRouter({"a": om}, {"a": a[1]}, book_depth=0)


@pytest.mark.parametrize("seed", range(12))
def test_random_books_never_exceed_the_requested_amount(seed):
    rng = np.random.default_rng(seed)
    venues = []
    for name in ("a", "b", "c"):
        top = D(int(rng.integers(9_900, 10_100))) / 100
        asks = [(top + D(i) / 10, D(int(rng.integers(1, 2_000))) / 1_000) for i in range(4)]
        usdt = D(int(rng.integers(0, 400)))
        venues.append(venue(name, asks=asks, fee=str(rng.choice(["0", "0.001", "0.002"])), usdt=usdt))
    router, store = build(*venues)
    amount = D(int(rng.integers(1, 6_000))) / 1_000
    routed = route(router, BUY, str(amount))
    sent = sum((o.request.amount for o in routed.orders), D(0))
    assert sent <= amount and routed.filled <= amount
    assert routed.filled + routed.pending + routed.unfilled == amount
    assert routed.rejected == () and routed.pending == 0  # funds and lock were respected
    assert routed.filled == routed.plan.filled == sent  # unchanged books: every child fills
    assert store.position(SID, PAIR).amount == routed.filled
