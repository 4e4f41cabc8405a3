"""Smart order routing: hand-computed plans and a seeded random-book property test."""

from __future__ import annotations

import doctest
from collections import defaultdict
from decimal import Decimal as D

import numpy as np
import pytest

import atb.execution.routing as routing_mod
from atb.core.enums import OrderSide
from atb.errors import ConfigError
from atb.execution.models import BookSnapshot, Market
from atb.execution.routing import RoutePlan, route_order

PAIR = "BTC/USDT"
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def mk(fee="0", step="0.001", min_amount="0", min_notional="0", active=True) -> Market:
    return Market(pair=PAIR, base="BTC", quote="USDT", price_tick=D("0.01"), amount_step=D(step),
                  min_amount=D(min_amount), min_notional=D(min_notional), taker_fee=D(fee),
                  maker_fee=D(fee), active=active)


def bk(asks=(), bids=(), pair=PAIR) -> BookSnapshot:
    return BookSnapshot(pair=pair, timestamp=0, asks=tuple((D(p), D(a)) for p, a in asks),
                        bids=tuple((D(p), D(a)) for p, a in bids))


def amounts(plan: RoutePlan) -> dict[str, D]:
    return {c.venue: c.amount for c in plan.children}


def test_module_doctest():
    assert doctest.testmod(routing_mod).failed == 0


def test_fee_adjusted_price_beats_raw_price():
    # raw 99.95 at b is better, but 99.95 * 1.003 = 100.24985 > 100 * 1.001 = 100.1
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.003")}
    books = {"a": bk(asks=[("100", "0.6")]), "b": bk(asks=[("99.95", "1")])}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets)
    assert amounts(plan) == {"a": D("0.6"), "b": D("0.4")}
    a, b = plan.children
    assert a.worst_price == D(100) and a.fee == D("0.06")
    assert b.notional == D("39.980") and b.fee == D("0.119940")
    assert plan.filled == D(1) and plan.unfilled == D(0)
    assert plan.average_price == D("100.1") * D("0.6") + D("100.24985") * D("0.4")


def test_sell_fee_adjusted():
    # a: 100 * 0.997 = 99.7 ; b: 99.8 * 0.999 = 99.7002 -> b first despite the lower bid
    markets = {"a": mk(fee="0.003"), "b": mk(fee="0.001")}
    books = {"a": bk(bids=[("100", "5")]), "b": bk(bids=[("99.8", "0.5")])}
    plan = route_order(side=SELL, amount=D(1), books=books, markets=markets)
    assert amounts(plan) == {"a": D("0.5"), "b": D("0.5")}
    assert plan.notional == D("99.9")
    assert plan.fee == D("0.150") + D("0.0499")
    assert plan.average_price == (D("99.9") - plan.fee) / 1


def three_venues():
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.002"), "c": mk(fee="0")}
    books = {
        "a": bk(asks=[("100", "0.5"), ("101", "1")]),
        "b": bk(asks=[("100.5", "0.3"), ("102", "5")]),
        "c": bk(asks=[("100.3", "0.4"), ("101.5", "2")]),
    }
    return markets, books


def test_three_venues_walk_and_savings():
    markets, books = three_venues()
    # fee-inclusive order: a@100 (100.1) 0.5, c@100.3 0.4, b@100.5 (100.701) 0.3, a@101 (101.101) ...
    plan = route_order(side=BUY, amount=D("1.5"), books=books, markets=markets)
    assert amounts(plan) == {"a": D("0.8"), "b": D("0.3"), "c": D("0.4")}
    a, b, c = plan.children
    assert a.levels == ((D(100), D("0.5")), (D(101), D("0.3")))
    assert a.worst_price == D(101) and a.notional == D("80.3") and a.fee == D("0.0803")
    assert a.average_price == D("80.3") / D("0.8")
    assert b.notional == D("30.15") and b.fee == D("0.0603")
    assert c.notional == D("40.12") and c.fee == D(0)
    assert plan.notional == D("150.57") and plan.fee == D("0.1406")
    assert plan.average_price == D("150.7106") / D("1.5")
    # alone: a 151 * 1.001 = 151.151 ; b 152.55 * 1.002 ; c 40.12 + 111.65 = 151.77 -> a is best
    assert plan.best_single_venue == "a" and plan.best_single_filled == D("1.5")
    assert plan.best_single_average_price == D("151.151") / D("1.5")
    assert plan.savings == D("151.151") - D("150.7106")


def test_limit_price_stops_the_walk():
    markets, books = three_venues()
    plan = route_order(side=BUY, amount=D("1.5"), books=books, markets=markets, limit_price=D("100.5"))
    assert amounts(plan) == {"a": D("0.5"), "b": D("0.3"), "c": D("0.4")}
    assert plan.filled == D("1.2") and plan.unfilled == D("0.3")
    assert all(c.worst_price <= D("100.5") for c in plan.children)
    # a alone fills the most (0.5 at 100): on those 0.5 the plan is a itself -> no savings
    assert plan.best_single_venue == "a" and plan.best_single_filled == D("0.5")
    assert plan.savings == D(0)


def test_limit_price_on_sell():
    markets = {"a": mk(), "b": mk()}
    books = {"a": bk(bids=[("100", "1"), ("98", "5")]), "b": bk(bids=[("99", "1")])}
    plan = route_order(side=SELL, amount=D(3), books=books, markets=markets, limit_price=D(99))
    assert amounts(plan) == {"a": D(1), "b": D(1)} and plan.unfilled == D(1)


def test_amount_step_rounding_reroutes_remainder():
    markets = {"a": mk(step="0.1"), "b": mk(step="0.001")}
    books = {"a": bk(asks=[("100", "0.25")]), "b": bk(asks=[("101", "10")])}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets)
    # greedy a 0.25 -> rounded down to 0.2, the 0.05 goes to b
    assert amounts(plan) == {"a": D("0.2"), "b": D("0.8")}
    assert plan.filled == D(1)


def test_funds_limited_venue_off_step_is_capped_alone():
    # a can afford 150.05 / 100.1 = 1.49900... -> 1.49 in whole steps; b takes the other 0.51.
    # Capping b at its pre-repair 0.50 in the same pass would fill only 1.99 and lose to b alone.
    markets = {"a": mk(fee="0.001", step="0.01"), "b": mk(fee="0.001", step="0.01")}
    books = {"a": bk(asks=[("100", "10")]), "b": bk(asks=[("101", "10")])}
    plan = route_order(side=BUY, amount=D(2), books=books, markets=markets,
                       balances={"a": D("150.05"), "b": D(1000)})
    assert amounts(plan) == {"a": D("1.49"), "b": D("0.51")}
    a, b = plan.children
    assert a.notional + a.fee == D("149.149") <= D("150.05")
    assert b.notional + b.fee == D("51.56151")
    assert plan.filled == D(2) and plan.unfilled == D(0)
    # b alone: 2 * 101 * 1.001 = 202.202
    assert plan.best_single_venue == "b" and plan.savings == D("202.202") - D("200.71051")


def test_base_funds_limited_sell_off_step_is_capped_alone():
    markets = {"a": mk(step="0.01"), "b": mk(step="0.01")}
    books = {"a": bk(bids=[("101", "10")]), "b": bk(bids=[("100", "10")])}
    plan = route_order(side=SELL, amount=D(2), books=books, markets=markets,
                       balances={"a": D("1.4995"), "b": D(5)})
    assert amounts(plan) == {"a": D("1.49"), "b": D("0.51")}
    assert plan.filled == D(2) and plan.savings == D("1.49")


def test_depth_limited_venue_off_step_is_capped_alone():
    # a's whole book is 1.495 (not a whole number of 0.01 steps): a 1.49, b the other 0.51
    markets = {"a": mk(step="0.01"), "b": mk(step="0.01")}
    books = {"a": bk(asks=[("100", "1.495")]), "b": bk(asks=[("101", "10")])}
    plan = route_order(side=BUY, amount=D(2), books=books, markets=markets)
    assert amounts(plan) == {"a": D("1.49"), "b": D("0.51")}
    assert plan.filled == D(2) and plan.notional == D("200.51")
    assert plan.best_single_venue == "b" and plan.savings == D("1.49")


def test_step_repair_iterates_until_every_child_is_on_step():
    # a depth-limited at 1.495 -> 1.49; b (step 0.1) then takes 0.51, off its step -> 0.5;
    # the last 0.01 goes to c.
    markets = {"a": mk(step="0.01"), "b": mk(step="0.1"), "c": mk(step="0.001")}
    books = {"a": bk(asks=[("100", "1.495")]), "b": bk(asks=[("101", "10")]),
             "c": bk(asks=[("102", "10")])}
    plan = route_order(side=BUY, amount=D(2), books=books, markets=markets)
    assert amounts(plan) == {"a": D("1.49"), "b": D("0.5"), "c": D("0.01")}
    assert plan.filled == D(2) and plan.notional == D("200.52")


def test_capping_every_off_step_venue_at_once_is_kept_when_it_fills_more():
    # walk: a 1.6, b 0.8 (b, c tie at 103; b first by name).
    # sparing b: a -> 1, b 1.4 -> 1, c 0.4 < c's minimum 1 -> dropped -> fills only 2.
    # capping a -> 1 and b -> 0 together: c takes 1.4 -> fills 2.4 (c alone fills 2.3).
    markets = {"a": mk(step="1"), "b": mk(step="1"), "c": mk(step="0.01", min_amount="1")}
    books = {"a": bk(asks=[("102", "1.6")]), "b": bk(asks=[("103", "1.9")]), "c": bk(asks=[("103", "2.3")])}
    plan = route_order(side=BUY, amount=D("2.4"), books=books, markets=markets)
    assert amounts(plan) == {"a": D(1), "c": D("1.4")}
    assert plan.filled == D("2.4") and plan.notional == D("246.2")
    assert plan.best_single_venue == "c" and plan.best_single_filled == D("2.3")


def test_amount_step_leaves_unfilled_when_nowhere_to_go():
    plan = route_order(side=BUY, amount=D("0.37"), books={"a": bk(asks=[("100", "1")])},
                       markets={"a": mk(step="0.1")})
    assert amounts(plan) == {"a": D("0.3")} and plan.unfilled == D("0.07")


def test_min_notional_reroutes_to_next_venue():
    markets = {"a": mk(min_notional="10"), "b": mk()}
    books = {"a": bk(asks=[("100", "0.05")]), "b": bk(asks=[("101", "10")])}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets)
    # a's child would be 0.05 * 100 = 5 USDT < 10: dropped, its amount goes to b
    assert amounts(plan) == {"b": D(1)}
    assert plan.best_single_venue == "b" and plan.savings == D(0)


def test_min_amount_reroutes_to_next_venue():
    markets = {"a": mk(min_amount="0.5"), "b": mk(), "c": mk()}
    books = {"a": bk(asks=[("100", "0.3")]), "b": bk(asks=[("101", "0.4")]), "c": bk(asks=[("102", "9")])}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets)
    assert amounts(plan) == {"b": D("0.4"), "c": D("0.6")}


def test_single_venue_beats_dropping_a_child_below_minimum():
    # multi walk: a 1@90 + b 2@100, but a's 1 < min 2 -> drop a -> b 3 for 300.
    # a alone meets its minimum: 90 + 2 * 101 = 292, which is better.
    markets = {"a": mk(min_amount="2"), "b": mk()}
    books = {"a": bk(asks=[("90", "1"), ("101", "10")]), "b": bk(asks=[("100", "10")])}
    plan = route_order(side=BUY, amount=D(3), books=books, markets=markets)
    assert amounts(plan) == {"a": D(3)} and plan.notional == D(292)
    assert plan.best_single_venue == "a" and plan.savings == D(0)


def test_quote_balance_caps_a_buy():
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.001")}
    books = {"a": bk(asks=[("100", "10")]), "b": bk(asks=[("101", "10")])}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets,
                       balances={"a": D("50.05"), "b": D(1000)})
    assert amounts(plan) == {"a": D("0.5"), "b": D("0.5")}
    a = plan.children[0]
    assert a.notional + a.fee == D("50.05")


def test_base_balance_caps_a_sell_and_missing_venue_has_none():
    markets = {"a": mk(), "b": mk(), "c": mk()}
    books = {"a": bk(bids=[("100", "10")]), "b": bk(bids=[("99", "10")]), "c": bk(bids=[("105", "10")])}
    plan = route_order(side=SELL, amount=D(1), books=books, markets=markets,
                       balances={"a": D("0.3"), "b": D(5)})
    assert amounts(plan) == {"a": D("0.3"), "b": D("0.7")}


def test_single_venue_equals_walking_its_book():
    books = {"x": bk(asks=[("100", "0.5"), ("101", "0.5"), ("102", "1")])}
    plan = route_order(side=BUY, amount=D("1.2"), books=books, markets={"x": mk(fee="0.001")})
    (child,) = plan.children
    assert child.levels == ((D(100), D("0.5")), (D(101), D("0.5")), (D(102), D("0.2")))
    assert child.notional == D("120.9") and child.worst_price == D(102)
    assert plan.average_price == D("120.9") * D("1.001") / D("1.2")
    assert plan.best_single_venue == "x" and plan.savings == D(0)
    assert plan.best_single_average_price == plan.average_price


def test_inactive_market_and_empty_books():
    markets = {"a": mk(active=False), "b": mk()}
    books = {"a": bk(asks=[("1", "10")]), "b": bk()}
    plan = route_order(side=BUY, amount=D(1), books=books, markets=markets)
    assert plan.children == () and plan.unfilled == D(1)
    assert plan.average_price is None and plan.best_single_venue is None and plan.savings == D(0)


@pytest.mark.parametrize("kwargs", [
    {"amount": D(0)},
    {"amount": D(1), "limit_price": D(0)},
    {"amount": D(1), "books": {"zz": bk()}},
    {"amount": D(1), "books": {"a": bk(), "b": bk(pair="ETH/USDT")}},
])
def test_invalid_input_raises_config_error(kwargs):
    call = {"side": BUY, "books": {"a": bk()}, "markets": {"a": mk(), "b": mk()}} | kwargs
    with pytest.raises(ConfigError):
        route_order(**call)


# ---------------------------------------------------------------- property test, seeded random books

def _random_case(rng: np.random.Generator):
    venues = ["v0", "v1", "v2"][: int(rng.integers(1, 4))]
    markets, books, balances = {}, {}, {}
    for v in venues:
        markets[v] = mk(fee=str(rng.choice(["0", "0.0005", "0.001", "0.002"])),
                        step=str(rng.choice(["0.001", "0.01", "0.1"])),
                        min_amount=str(rng.choice(["0", "0.01", "0.1"])),
                        min_notional=str(rng.choice(["0", "5", "20"])))
        n = int(rng.integers(0, 6))
        asks = np.sort(rng.integers(10_000, 10_300, n))
        bids = np.sort(rng.integers(9_700, 10_000, n))[::-1]
        books[v] = BookSnapshot(
            pair=PAIR, timestamp=0,
            asks=tuple((D(int(p)) / 100, D(int(rng.integers(1, 800))) / 1000) for p in asks),
            bids=tuple((D(int(p)) / 100, D(int(rng.integers(1, 800))) / 1000) for p in bids))
    side = BUY if rng.random() < 0.5 else SELL
    for v in venues:
        quote_funds, base_funds = D(int(rng.integers(0, 30_000))) / 100, D(int(rng.integers(0, 3000))) / 1000
        balances[v] = quote_funds if side is BUY else base_funds
    limit = D(int(rng.integers(9_800, 10_200))) / 100 if rng.random() < 0.3 else None
    amount = D(int(rng.integers(1, 2500))) / 1000
    return side, amount, books, markets, (balances if rng.random() < 0.4 else None), limit


def _better_or_equal(side, mine, other):
    return mine <= other if side is BUY else mine >= other


def test_property_random_books():
    rng = np.random.default_rng(20240601)
    for _ in range(300):
        side, amount, books, markets, balances, limit = _random_case(rng)
        plan = route_order(side=side, amount=amount, books=books, markets=markets,
                           limit_price=limit, balances=balances)
        assert plan.filled <= amount and plan.filled + plan.unfilled == amount
        # savings can only be negative when the plan fills more than any venue alone
        assert plan.savings >= 0 or plan.filled > plan.best_single_filled
        assert plan.filled >= plan.best_single_filled
        for c in plan.children:
            m = markets[c.venue]
            assert c.amount > 0 and c.amount % m.amount_step == 0
            assert c.amount >= m.min_amount and c.notional >= m.min_notional
            if limit is not None:
                assert c.worst_price <= limit if side is BUY else c.worst_price >= limit
            if balances is not None:
                assert (c.notional + c.fee if side is BUY else c.amount) <= balances[c.venue]
            depth: dict[D, D] = defaultdict(D)
            for p, a in books[c.venue].asks if side is BUY else books[c.venue].bids:
                depth[p] += a
            for p, a in c.levels:
                depth[p] -= a
            assert min(depth.values()) >= 0
        if plan.filled == 0:
            continue
        for v in books:
            alone = route_order(side=side, amount=plan.filled, books={v: books[v]}, markets=markets,
                                limit_price=limit, balances=balances)
            if alone.filled == plan.filled:
                assert _better_or_equal(side, plan.average_price, alone.average_price)
