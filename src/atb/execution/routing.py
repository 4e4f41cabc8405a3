"""Smart order routing: split one taker order across venues' order books (pure logic, no I/O).

Algorithm
---------
1. Every level on the side the order takes (asks for a buy, bids for a sell) of every active venue
   becomes a candidate, priced fee-inclusive: ``price * (1 + taker_fee)`` for a buy (what one unit
   costs), ``price * (1 - taker_fee)`` for a sell (what one unit brings). Levels beyond the limit
   price (compared with the raw venue price, as the venue would) are dropped.
2. The merged levels are walked best first (buy: ascending, sell: descending; ties by venue name),
   taking ``min(level amount, remaining, venue cap, venue balance)`` from each.
3. Repair for venue rules, repeated until no child is off its ``amount_step``: every venue whose
   amount is off its step and that is held there by its own limits (balance, book depth, a cap
   from an earlier pass, or a next level worse than the others') is capped at its largest
   whole-step amount (trimming its worst levels), and the walk is repeated, so the freed
   remainder flows to the next best levels. The venue that took the last units of the order
   (limited only by the amount left) is not capped in that pass: it absorbs the remainder the
   others free. Only when it is the one venue still off its step is it capped too, and its excess
   goes on to the next levels. Then a child below ``min_amount`` or ``min_notional`` is dropped
   (the smallest first) and the walk is repeated without that venue. The multi-venue repair is
   also run capping every off-step venue in the same pass (that one included). Neither order wins
   in every case (the remainder may land on a venue whose coarse step or minimums then reject
   it), so the one filling more, then at the better value, is kept (the first on ties).
4. The same is done for each venue alone; the result filling the most base amount, then at the
   best fee-inclusive value, is returned (the multi-venue plan wins ties), so the plan is never
   worse than the best single venue for the amount it fills.

Why greedy is optimal
---------------------
With proportional (linear) taker fees every base unit on a level has one fee-inclusive price and
the total cost of a fixed amount ``Q`` is the sum of the prices of the units taken. Choosing ``Q``
units from a multiset to minimise a sum is solved by taking the ``Q`` cheapest: if a plan took a
dearer unit while leaving a cheaper one, swapping them lowers the cost (exchange argument; this is
the fractional knapsack with unit weights). Per-venue caps in base keep the feasible set a
polymatroid, on which greedy stays optimal for a linear objective; a quote budget for buys is such
a cap because, within a venue, the cheapest units are always the right ones to spend it on.
Amount steps and minimums make the problem integral (knapsack-like); step 3 is a heuristic repair
and step 4 bounds it by the best single venue.

Limits: the plan is a snapshot. It ignores latency, book changes between snapshot and arrival,
hidden liquidity, partial fills and other takers; the fee is the taker fee only.

Examples
--------
>>> from decimal import Decimal as D
>>> from atb.core.enums import OrderSide
>>> from atb.execution.models import BookSnapshot, Market
>>> mk = dict(pair="BTC/USDT", base="BTC", quote="USDT", price_tick=D("0.01"), amount_step=D("0.001"))
>>> markets = {"a": Market(**mk, taker_fee=D("0.001")), "b": Market(**mk, taker_fee=D("0.002"))}
>>> books = {"a": BookSnapshot(pair="BTC/USDT", timestamp=0, bids=(), asks=((D(100), D(1)),)),
...          "b": BookSnapshot(pair="BTC/USDT", timestamp=0, bids=(), asks=((D(99), D(1)),))}
>>> plan = route_order(side=OrderSide.BUY, amount=D("1.5"), books=books, markets=markets)
>>> [(c.venue, c.amount) for c in plan.children]
[('a', Decimal('0.5')), ('b', Decimal('1'))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import NamedTuple

from atb.core.enums import OrderSide
from atb.errors import ConfigError
from atb.execution.models import BookSnapshot, Market

__all__ = ["ChildOrder", "RoutePlan", "route_order"]

_ZERO = Decimal(0)
_Fills = dict[str, list[tuple[Decimal, Decimal]]]  # venue -> [(price, amount)] in walk order


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildOrder:
    """One venue's share of a routed order.

    Attributes
    ----------
    venue : str
        Venue name (key of the ``books`` mapping).
    side : OrderSide
        Side of the parent order.
    amount : Decimal
        Base currency; a multiple of the venue's ``amount_step`` meeting its minimums.
    worst_price : Decimal
        Quote currency; the deepest level taken, the limit price to send the child with.
    average_price : Decimal
        Quote currency; expected volume-weighted fill price, fees excluded.
    notional : Decimal
        Quote currency; ``sum(price * amount)`` over the levels taken.
    fee : Decimal
        Quote currency; ``notional * taker_fee``.
    levels : tuple[tuple[Decimal, Decimal], ...]
        ``(price, amount)`` taken per book level, best first.
    """

    venue: str
    side: OrderSide
    amount: Decimal
    worst_price: Decimal
    average_price: Decimal
    notional: Decimal
    fee: Decimal
    levels: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutePlan:
    """The execution plan for one order across venues (expected values from the snapshot).

    Attributes
    ----------
    pair : str
        Pair of the books.
    side : OrderSide
        Buy or sell.
    requested : Decimal
        Base currency asked for.
    limit_price : Decimal or None
        Quote currency; no level beyond it is taken.
    children : tuple[ChildOrder, ...]
        One child per venue used, sorted by venue name.
    filled : Decimal
        Base currency the children add up to (``<= requested``).
    unfilled : Decimal
        Base currency left over: ``requested - filled``.
    notional : Decimal
        Quote currency, fees excluded.
    fee : Decimal
        Quote currency, summed over children.
    average_price : Decimal or None
        Quote currency per base unit, fee-inclusive: ``(notional + fee) / filled`` for a buy,
        ``(notional - fee) / filled`` for a sell; None when nothing fills.
    best_single_venue : str or None
        The venue that alone fills the most (then at the best fee-inclusive value).
    best_single_filled : Decimal
        Base currency that venue alone fills.
    best_single_average_price : Decimal or None
        Quote currency, fee-inclusive average of that venue alone.
    savings : Decimal
        Quote currency gained by the plan over the best single venue on the amount both fill
        (``min(filled, best_single_filled)``, the best units of each): spend saved for a buy,
        extra proceeds for a sell. Zero when the plan is that venue. Negative only when the plan
        fills more than that venue can and, to do so under steps/minimums, skips some of the
        cheapest units.
    """

    pair: str
    side: OrderSide
    requested: Decimal
    limit_price: Decimal | None
    children: tuple[ChildOrder, ...]
    filled: Decimal
    unfilled: Decimal
    notional: Decimal
    fee: Decimal
    average_price: Decimal | None
    best_single_venue: str | None
    best_single_filled: Decimal
    best_single_average_price: Decimal | None
    savings: Decimal


class _Level(NamedTuple):
    effective: Decimal  # fee-inclusive price, quote per base unit
    venue: str
    price: Decimal
    amount: Decimal


def route_order(*, side: OrderSide, amount: Decimal, books: Mapping[str, BookSnapshot],
                markets: Mapping[str, Market], limit_price: Decimal | None = None,
                balances: Mapping[str, Decimal] | None = None) -> RoutePlan:
    """Split a taker order across venues for the best fee-inclusive price.

    Parameters
    ----------
    side : OrderSide
        Buy (takes asks) or sell (takes bids).
    amount : Decimal
        Base currency to fill, > 0.
    books : Mapping[str, BookSnapshot]
        Order book per venue, all for one pair.
    markets : Mapping[str, Market]
        Trading rules per venue (fees, ``amount_step``, minimums); inactive markets are skipped.
    limit_price : Decimal, optional
        Quote currency; a buy takes no ask above it, a sell no bid below it.
    balances : Mapping[str, Decimal], optional
        Available funds per venue: quote currency for a buy (covering
        ``price * amount * (1 + taker_fee)``), base currency for a sell. When given, a venue
        missing from it has no funds.

    Returns
    -------
    RoutePlan
        Children, totals, fee-inclusive average and the comparison with the best single venue.

    Raises
    ------
    ConfigError
        ``amount`` or ``limit_price`` not > 0, a venue without a market, or books for different pairs.
    """
    pair = _validate(amount, books, markets, limit_price)
    levels = _merged_levels(side, books, markets, limit_price)
    venues = sorted({lv.venue for lv in levels})
    spare = _allocate(side, amount, levels, markets, balances, spare_last=True)
    cap_all = _allocate(side, amount, levels, markets, balances, spare_last=False)
    multi = cap_all if _best(side, markets, [("spare", spare), ("all", cap_all)]) == "all" else spare
    singles = {v: _allocate(side, amount, [lv for lv in levels if lv.venue == v], markets, balances)
               for v in venues}
    best_venue = _best(side, markets, [(v, singles[v]) for v in venues])
    best_single: _Fills = singles[best_venue] if best_venue is not None else {}
    chosen_key = _best(side, markets, [("", multi), *[(v, singles[v]) for v in venues]])
    chosen = singles[chosen_key] if chosen_key else multi
    children = tuple(_child(side, v, chosen[v], markets[v]) for v in sorted(chosen))
    filled = sum((c.amount for c in children), _ZERO)
    notional = sum((c.notional for c in children), _ZERO)
    fee = sum((c.fee for c in children), _ZERO)
    single_filled = _filled(best_single)
    common = min(filled, single_filled)
    gain = _value_of_best(side, chosen, markets, common) - _value_of_best(side, best_single, markets, common)
    return RoutePlan(
        pair=pair, side=side, requested=amount, limit_price=limit_price, children=children,
        filled=filled, unfilled=amount - filled, notional=notional, fee=fee,
        average_price=_average(side, notional, fee, filled),
        best_single_venue=best_venue, best_single_filled=single_filled,
        best_single_average_price=_average(side, *_totals(best_single, markets), single_filled),
        savings=-gain if side is OrderSide.BUY else gain,
    )


def _validate(amount: Decimal, books: Mapping[str, BookSnapshot], markets: Mapping[str, Market],
              limit_price: Decimal | None) -> str:
    if not amount > 0:
        raise ConfigError(f"route: invalid value for 'amount': {amount!r} (must be > 0)")
    if limit_price is not None and not limit_price > 0:
        raise ConfigError(f"route: invalid value for 'limit_price': {limit_price!r} (must be > 0)")
    pairs = {book.pair for book in books.values()}
    if len(pairs) > 1:
        raise ConfigError(f"route: invalid value for 'books': several pairs {sorted(pairs)}")
    for venue in books:
        if venue not in markets:
            raise ConfigError(f"route: missing value for 'markets[{venue!r}]'")
    return pairs.pop() if pairs else ""


def _effective(side: OrderSide, price: Decimal, market: Market) -> Decimal:
    fee = market.taker_fee
    return price * (1 + fee) if side is OrderSide.BUY else price * (1 - fee)


def _merged_levels(side: OrderSide, books: Mapping[str, BookSnapshot], markets: Mapping[str, Market],
                   limit_price: Decimal | None) -> list[_Level]:
    buy = side is OrderSide.BUY
    levels: list[_Level] = []
    for venue, book in books.items():
        market = markets[venue]
        if not market.active:
            continue
        for price, size in book.asks if buy else book.bids:
            if price <= 0 or size <= 0:
                continue
            if limit_price is not None and (price > limit_price if buy else price < limit_price):
                continue
            levels.append(_Level(_effective(side, price, market), venue, price, size))
    if buy:
        levels.sort(key=lambda lv: (lv.effective, lv.venue, lv.price))
    else:
        levels.sort(key=lambda lv: (-lv.effective, lv.venue, -lv.price))
    return levels


def _floor_div(numerator: Decimal, denominator: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.rounding = ROUND_FLOOR
        return numerator / denominator


def _floor_step(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value // step) * step


def _walk(side: OrderSide, amount: Decimal, levels: Iterable[_Level], caps: Mapping[str, Decimal],
          budgets: Mapping[str, Decimal] | None) -> tuple[_Fills, str | None]:
    """Greedy walk over merged levels; ``caps`` in base, ``budgets`` quote (buy) / base (sell).

    Returns the fills and the venue whose take used up the order (None when it is not filled).
    """
    remaining = amount
    last: str | None = None
    room = dict(caps)
    funds = {v: max(b, _ZERO) for v, b in budgets.items()} if budgets is not None else None
    fills: _Fills = {}
    for lv in levels:
        if remaining <= 0:
            break
        take = min(lv.amount, remaining, room.get(lv.venue, remaining))
        unit_cost = lv.effective if side is OrderSide.BUY else Decimal(1)
        if funds is not None:
            take = min(take, _floor_div(funds.get(lv.venue, _ZERO), unit_cost))
        if take <= 0:
            continue
        fills.setdefault(lv.venue, []).append((lv.price, take))
        remaining -= take
        last = lv.venue
        if lv.venue in room:
            room[lv.venue] -= take
        if funds is not None:
            funds[lv.venue] = max(funds.get(lv.venue, _ZERO) - take * unit_cost, _ZERO)
    return fills, (last if remaining <= 0 else None)


def _trim(fills: list[tuple[Decimal, Decimal]], target: Decimal) -> list[tuple[Decimal, Decimal]]:
    """Keep the first ``target`` base units of a venue's fills (drop from the worst end)."""
    kept: list[tuple[Decimal, Decimal]] = []
    left = target
    for price, size in fills:
        if left <= 0:
            break
        kept.append((price, min(size, left)))
        left -= min(size, left)
    return kept


def _meets_minimums(fills: list[tuple[Decimal, Decimal]], market: Market) -> bool:
    size = sum((a for _, a in fills), _ZERO)
    notional = sum((p * a for p, a in fills), _ZERO)
    return size > 0 and size >= market.min_amount and notional >= market.min_notional


def _allocate(side: OrderSide, amount: Decimal, levels: list[_Level], markets: Mapping[str, Market],
              balances: Mapping[str, Decimal] | None, *, spare_last: bool = True) -> _Fills:
    """Greedy walk, then the step/minimum repair (module docstring, step 3).

    With ``spare_last`` the venue that took the order's last units is capped only when it is the
    one venue left off its step; without, every off-step venue is capped in the same pass.
    """
    dropped: set[str] = set()
    # Caps only go down, so a capped venue stays at its cap unless it takes the order's last units:
    # each pass either caps a venue for the first time or moves the last level taken further down
    # the merged list, which bounds the passes. The final trim keeps the result valid regardless.
    passes = len(levels) + len({lv.venue for lv in levels}) + 1
    while True:
        caps: dict[str, Decimal] = dict.fromkeys(dropped, _ZERO)
        fills, last = _walk(side, amount, levels, caps, balances)
        for _ in range(passes):
            short: dict[str, Decimal] = {}
            for v, f in fills.items():
                size = _filled({v: f})
                rounded = _floor_step(size, markets[v].amount_step)
                if rounded != size:
                    short[v] = rounded
            if not short:
                break
            if spare_last and last in short and len(short) > 1:
                # the venue that took the last units absorbs what the others free: not capped yet
                del short[last]
            caps.update(short)
            fills, last = _walk(side, amount, levels, caps, balances)
        fills = {v: _trim(f, _floor_step(_filled({v: f}), markets[v].amount_step)) for v, f in fills.items()}
        fills = {v: f for v, f in fills.items() if f}
        below = sorted((_filled({v: f}), v) for v, f in fills.items() if not _meets_minimums(f, markets[v]))
        if not below:
            return fills
        dropped.add(below[0][1])


def _filled(fills: _Fills) -> Decimal:
    return sum((a for f in fills.values() for _, a in f), _ZERO)


def _totals(fills: _Fills, markets: Mapping[str, Market]) -> tuple[Decimal, Decimal]:
    """Notional and fee in quote currency."""
    notional = fee = _ZERO
    for venue, f in fills.items():
        venue_notional = sum((p * a for p, a in f), _ZERO)
        notional += venue_notional
        fee += venue_notional * markets[venue].taker_fee
    return notional, fee


def _value(side: OrderSide, fills: _Fills, markets: Mapping[str, Market]) -> Decimal:
    """Fee-inclusive spend (buy) or proceeds (sell), quote currency."""
    notional, fee = _totals(fills, markets)
    return notional + fee if side is OrderSide.BUY else notional - fee


def _best(side: OrderSide, markets: Mapping[str, Market], candidates: list[tuple[str, _Fills]]) -> str | None:
    """Key of the candidate filling most, then at the best value; the first wins ties."""
    best: tuple[Decimal, Decimal] | None = None
    best_key: str | None = None
    for key, fills in candidates:
        filled = _filled(fills)
        if filled <= 0:
            continue
        value = _value(side, fills, markets)
        score = (filled, -value if side is OrderSide.BUY else value)
        if best is None or score > best:
            best, best_key = score, key
    return best_key


def _value_of_best(side: OrderSide, fills: _Fills, markets: Mapping[str, Market], amount: Decimal) -> Decimal:
    """Fee-inclusive value of the best ``amount`` base units among ``fills``, quote currency."""
    units = [(_effective(side, p, markets[v]), a) for v, f in fills.items() for p, a in f]
    units.sort(key=lambda u: u[0], reverse=side is OrderSide.SELL)
    total = _ZERO
    left = amount
    for effective, size in units:
        if left <= 0:
            break
        take = min(size, left)
        total += effective * take
        left -= take
    return total


def _average(side: OrderSide, notional: Decimal, fee: Decimal, filled: Decimal) -> Decimal | None:
    if filled <= 0:
        return None
    return (notional + fee if side is OrderSide.BUY else notional - fee) / filled


def _child(side: OrderSide, venue: str, fills: list[tuple[Decimal, Decimal]], market: Market) -> ChildOrder:
    size = sum((a for _, a in fills), _ZERO)
    notional = sum((p * a for p, a in fills), _ZERO)
    worst = max(p for p, _ in fills) if side is OrderSide.BUY else min(p for p, _ in fills)
    return ChildOrder(venue=venue, side=side, amount=size, worst_price=worst, average_price=notional / size,
                      notional=notional, fee=notional * market.taker_fee, levels=tuple(fills))
