"""Smart order routing on the order path: books -> :func:`route_order` -> one IOC child per venue.

:class:`SmartOrderRouter` turns one parent order (pair, side, base amount) into child orders on
several venues:

1. Every venue's order book (and, unless disabled, its balances) is fetched concurrently
   (``asyncio.gather``). A venue whose book, balance or market fetch fails is skipped and named
   in :attr:`RoutedOrder.skipped` with the reason; the others are routed.
2. :func:`~atb.execution.routing.route_order` splits the amount across the books
   (fee-inclusive greedy walk, venue steps and minimums, free balances).
3. Each child is sent through its venue's :class:`~atb.execution.order_manager.OrderManager`
   (write-ahead, crash-safe) as a **LIMIT IOC** order at the child's ``worst_price``, tagged
   ``<tag>:sor:<k>`` (``k`` = child index in the plan, from 0). The children are sent
   concurrently.

Why a marketable limit at the worst level, IOC
----------------------------------------------
The plan is a snapshot. By the time a child arrives the book may have moved. A market order would
then walk as deep as needed, with unbounded slippage. A limit at the deepest level the plan took
fills the same levels if the book is unchanged, and never at a worse price if it moved: the
slippage is capped at the plan's worst price. IOC (immediate or cancel) makes the unfilled part
expire instead of resting on the book as a stale maker order that would fill later, unobserved,
and break the "never more than requested" total. The cost is that a moved book leaves an
unfilled remainder, which is reported (:attr:`RoutedOrder.unfilled`) and never re-sent silently:
the caller decides whether to route it again.

Totals
------
The children add up to at most the requested amount (the plan guarantees it and the router checks
it). A rejected child (``InvalidOrderError``/``InsufficientFundsError`` at the venue) stays
``rejected`` in the store and its amount is part of :attr:`RoutedOrder.unfilled`. A child whose
answer was lost stays ``submitted`` (reconciliation resolves it by client id); its amount is
:attr:`RoutedOrder.pending`, not unfilled, because it may still fill.

Budgets: whole steps, and the lock of a limit buy
-------------------------------------------------
Free balances are not passed to the planner as they are. A venue bound by its funds would get a
child of ``balance / price`` units, off its amount step, and the step repair would then leave the
whole plan a step short. And venues lock ``amount * limit price * (1 + fee)`` of a limit buy,
while the plan spends per level, which is less when a child takes several levels. So each buy
budget becomes the exact fee-inclusive cost of the largest step multiple ``k`` of the venue's
book (best levels first) whose lock at its deepest price, ``max(maker_fee, taker_fee)``, fits
the balance; a sell budget is the base balance rounded down to the step. A funds-bound child is
then exactly ``k`` units and the venue accepts its lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import ConfigError, ExchangeError
from atb.execution.models import BookSnapshot, Market
from atb.execution.order_manager import OrderManager
from atb.execution.ports import ExchangeClient
from atb.execution.routing import ChildOrder, RoutePlan, route_order
from atb.orders.models import Order
from atb.orders.state import OrderStatus, is_terminal

__all__ = ["RoutedOrder", "SkippedVenue", "SmartOrderRouter"]

_ZERO = Decimal(0)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class SkippedVenue:
    """A venue left out of a route.

    Attributes
    ----------
    venue : str
        Venue name.
    stage : str
        What failed: ``"market"`` (rules unknown or pair not listed), ``"book"``, ``"balance"``,
        or ``"submit"`` (the child could not be sent at all; see ``reason``).
    reason : str
        Error type and message.
    """

    venue: str
    stage: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutedOrder:
    """Outcome of :meth:`SmartOrderRouter.route`.

    Attributes
    ----------
    pair : str
        ``BASE/QUOTE``.
    side : OrderSide
        Buy or sell.
    requested : Decimal
        Base currency asked for.
    plan : RoutePlan
        The plan the children were sent from (expected values from the book snapshots).
    orders : tuple[Order, ...]
        Each child's stored order after submission, in plan order (``tag`` ``<tag>:sor:<k>``).
    filled : Decimal
        Base currency filled over all children (``<= requested``).
    average_price : Decimal or None
        Quote currency per base unit, volume-weighted over the children's fills, fees excluded;
        None when nothing filled.
    fee : Decimal
        Fees the venues reported, summed (each in its venue's fee currency, quote for spot).
    pending : Decimal
        Base currency of children whose outcome is unknown yet (``submitted``/``open``: the
        venue's answer was lost); reconciliation resolves them.
    unfilled : Decimal
        Base currency neither filled nor pending: ``requested - filled - pending`` (plan
        shortfall, IOC expiry, rejected children). Never re-sent by the router.
    skipped : tuple[SkippedVenue, ...]
        Venues left out, with reasons.
    """

    pair: str
    side: OrderSide
    requested: Decimal
    plan: RoutePlan
    orders: tuple[Order, ...]
    filled: Decimal
    average_price: Decimal | None
    fee: Decimal
    pending: Decimal
    unfilled: Decimal
    skipped: tuple[SkippedVenue, ...]

    @property
    def rejected(self) -> tuple[Order, ...]:
        """Children the venue refused (status ``rejected``)."""
        return tuple(o for o in self.orders if o.status is OrderStatus.REJECTED)

    @property
    def complete(self) -> bool:
        """True when the whole requested amount filled."""
        return self.filled == self.requested


class SmartOrderRouter:
    """Route one order across venues and send the children through each venue's order manager.

    Parameters
    ----------
    managers : Mapping[str, OrderManager]
        Order manager per venue: the only path the children take to the venues.
    exchanges : Mapping[str, ExchangeClient]
        Market-data client per venue (books, balances), the same keys as ``managers``; usually
        each manager's own ``exchange``.
    book_depth : int, default 20
        Levels per side requested from every book.

    Raises
    ------
    ConfigError
        No venue, different venue sets, or ``book_depth`` not > 0.

    Examples
    --------
    >>> import asyncio
    >>> from datetime import UTC, datetime
    >>> from decimal import Decimal as D
    >>> from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
    >>> from atb.orders.memory import InMemoryOrderStore
    >>> from atb.execution.feeds import Candle
    >>> venues = {}
    >>> for name, ask in (("a", 100), ("b", 99)):  # one level per side, sized by the candle volume
    ...     ex = PaperExchange(paper_markets(["BTC/USDT"]), PaperConfig(
    ...         venue=name, fill_mode="immediate", balances={"USDT": D(1000)}))
    ...     _ = ex.on_candle(Candle(pair="BTC/USDT", timeframe="1m", open_time_ms=0, open=ask,
    ...                             high=ask, low=ask, close=ask, volume=5.0))
    ...     _ = ex.set_price("BTC/USDT", ask, 60_000, bid=ask - 1, ask=ask)
    ...     venues[name] = ex
    >>> clock = lambda: datetime(2024, 1, 1, tzinfo=UTC)
    >>> store = InMemoryOrderStore()
    >>> managers = {v: OrderManager(store, ex, clock, venue=v, strategy_id="s") for v, ex in venues.items()}
    >>> router = SmartOrderRouter(managers, venues)
    >>> routed = asyncio.run(router.route("BTC/USDT", OrderSide.BUY, D("1"), tag="entry"))
    >>> [(o.venue, o.tag, o.filled) for o in routed.orders], routed.unfilled
    ([('b', 'entry:sor:0', Decimal('1'))], Decimal('0'))
    """

    def __init__(self, managers: Mapping[str, OrderManager], exchanges: Mapping[str, ExchangeClient], *,
                 book_depth: int = 20) -> None:
        if not managers:
            raise ConfigError("smart router: missing value for 'managers' (no venue)")
        if set(managers) != set(exchanges):
            raise ConfigError(f"smart router: invalid value for 'exchanges': venues {sorted(exchanges)} "
                              f"differ from the managers' {sorted(managers)}")
        if not book_depth > 0:
            raise ConfigError(f"smart router: invalid value for 'book_depth': {book_depth!r} (must be > 0)")
        self.managers = dict(managers)
        self.exchanges = dict(exchanges)
        self.book_depth = book_depth

    async def route(self, pair: str, side: OrderSide, amount: Decimal, *, limit_price: Decimal | None = None,
                    tag: str | None = None, use_balances: bool = True) -> RoutedOrder:
        """Fetch books (and balances), plan the split, send each child as a LIMIT IOC order.

        Parameters
        ----------
        pair : str
            ``BASE/QUOTE``.
        side : OrderSide
            Buy (takes asks) or sell (takes bids).
        amount : Decimal
            Base currency, > 0; the children never add up to more.
        limit_price : Decimal, optional
            Quote currency; no level beyond it is taken (buy: no ask above, sell: no bid below).
        tag : str, optional
            Prefix of the children's tags: ``<tag>:sor:<k>`` (``sor:<k>`` without one).
        use_balances : bool, default True
            Cap each venue by its free balance (quote for a buy, base for a sell).

        Returns
        -------
        RoutedOrder
            The plan, the stored children and the fill totals; an empty plan (no liquidity, every
            venue skipped) sends nothing and reports the whole amount unfilled.

        Raises
        ------
        ConfigError
            ``amount``/``limit_price`` not > 0 (nothing is fetched or sent).
        """
        if not amount > 0:
            raise ConfigError(f"smart router: invalid value for 'amount': {amount!r} (must be > 0)")
        if limit_price is not None and not limit_price > 0:
            raise ConfigError(f"smart router: invalid value for 'limit_price': {limit_price!r} (must be > 0)")
        skipped: list[SkippedVenue] = []
        markets, books, balances = await self._snapshot(pair, side, use_balances, skipped)
        plan = self._plan(side, amount, books, markets, limit_price, balances)
        if plan.filled > amount:  # route_order guarantees it; never send more than requested
            raise ConfigError(f"smart router: plan fills {plan.filled} > requested {amount}")
        orders, failures = await self._send(pair, plan.children, tag)
        skipped += failures
        return _summarise(pair, side, amount, plan, orders, skipped)

    # --- snapshot -----------------------------------------------------------------------------
    async def _snapshot(self, pair: str, side: OrderSide, use_balances: bool, skipped: list[SkippedVenue],
                        ) -> tuple[dict[str, Market], dict[str, BookSnapshot], dict[str, Decimal] | None]:
        venues = sorted(self.managers)
        market_res, book_res, balance_res = await asyncio.gather(
            _gather([self.managers[v].market(pair) for v in venues]),
            _gather([self.exchanges[v].fetch_order_book(pair, self.book_depth) for v in venues]),
            _gather([self.exchanges[v].fetch_balance() for v in venues] if use_balances else []),
        )
        markets: dict[str, Market] = {}
        books: dict[str, BookSnapshot] = {}
        balances: dict[str, Decimal] | None = {} if use_balances else None
        for i, venue in enumerate(venues):
            market, book = market_res[i], book_res[i]
            if isinstance(market, BaseException) or market is None:
                reason = _reason(market) if isinstance(market, BaseException) else f"{pair} not listed"
                skipped.append(SkippedVenue(venue=venue, stage="market", reason=reason))
                continue
            if isinstance(book, BaseException):
                skipped.append(SkippedVenue(venue=venue, stage="book", reason=_reason(book)))
                continue
            if balances is not None:
                balance = balance_res[i]
                if isinstance(balance, BaseException):
                    skipped.append(SkippedVenue(venue=venue, stage="balance", reason=_reason(balance)))
                    continue
                currency = market.quote if side is OrderSide.BUY else market.base
                held = balance.get(currency)
                balances[venue] = held.free if held is not None else _ZERO
            markets[venue] = market
            books[venue] = book
        return markets, books, balances

    @staticmethod
    def _plan(side: OrderSide, amount: Decimal, books: Mapping[str, BookSnapshot],
              markets: Mapping[str, Market], limit_price: Decimal | None,
              balances: Mapping[str, Decimal] | None) -> RoutePlan:
        """Route with step- and lock-aligned budgets (module docstring)."""
        budgets = None if balances is None else {
            v: _budget(side, books[v], markets[v], held, limit_price) for v, held in balances.items()}
        return route_order(side=side, amount=amount, books=books, markets=markets, limit_price=limit_price,
                           balances=budgets)

    # --- children -----------------------------------------------------------------------------
    async def _send(self, pair: str, children: tuple[ChildOrder, ...], tag: str | None,
                    ) -> tuple[list[Order], list[SkippedVenue]]:
        prefix = f"{tag}:sor" if tag else "sor"
        results = await _gather([
            self.managers[child.venue].submit(
                pair=pair, side=child.side, order_type=OrderType.LIMIT, amount=child.amount,
                price=child.worst_price, time_in_force=TimeInForce.IOC, tag=f"{prefix}:{k}")
            for k, child in enumerate(children)])
        orders: list[Order] = []
        failures: list[SkippedVenue] = []
        for child, res in zip(children, results, strict=True):
            if isinstance(res, BaseException):  # e.g. a ConfigError from the request: not sent
                failures.append(SkippedVenue(venue=child.venue, stage="submit", reason=_reason(res)))
            else:
                orders.append(res)
        return orders, failures


def _floor_step(value: Decimal, step: Decimal) -> Decimal:
    return (value // step) * step if step > 0 else value


def _budget(side: OrderSide, book: BookSnapshot, market: Market, balance: Decimal,
            limit_price: Decimal | None) -> Decimal:
    """Funds passed to the planner for one venue: quote for a buy, base for a sell.

    Buy: the exact cost ``sum(price * units * (1 + taker_fee))`` of the venue's best ``k`` units,
    ``k`` the largest step multiple with ``k * deepest price * (1 + max fee) <= balance``; the
    balance itself when the whole book fits. Sell: the balance rounded down to the step.
    """
    step = market.amount_step
    if side is OrderSide.SELL:
        return _floor_step(balance, step)
    asks = sorted((p, a) for p, a in book.asks
                  if p > 0 and a > 0 and (limit_price is None or p <= limit_price))
    lock_rate = 1 + max(market.maker_fee, market.taker_fee)
    k = depth = _ZERO
    for price, size in asks:
        depth += size
        k = max(k, _floor_step(min(depth, balance / (price * lock_rate)), step))
    if k >= depth:
        return balance
    spend, left = _ZERO, k
    for price, size in asks:
        take = min(size, left)
        if take <= 0:
            break
        spend += price * take * (1 + market.taker_fee)
        left -= take
    return spend


async def _gather(calls: list[Awaitable[_T]]) -> list[_T | BaseException]:
    """Await concurrently; ``Exception`` results are returned, ``BaseException`` re-raised."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for res in results:
        if isinstance(res, BaseException) and not isinstance(res, Exception):
            raise res  # cancellation, KeyboardInterrupt: never swallowed
    return list(results)


def _reason(exc: BaseException) -> str:
    kind = "venue error" if isinstance(exc, ExchangeError) else "error"
    return f"{type(exc).__name__} ({kind}): {exc}"


def _summarise(pair: str, side: OrderSide, amount: Decimal, plan: RoutePlan, orders: list[Order],
               skipped: list[SkippedVenue]) -> RoutedOrder:
    filled = sum((o.filled for o in orders), _ZERO)
    value = sum((o.filled * o.average for o in orders if o.average is not None and o.filled > 0), _ZERO)
    pending = sum((o.remaining for o in orders if not is_terminal(o.status)), _ZERO)
    return RoutedOrder(
        pair=pair, side=side, requested=amount, plan=plan, orders=tuple(orders), filled=filled,
        average_price=value / filled if filled > 0 else None, fee=sum((o.fee for o in orders), _ZERO),
        pending=pending, unfilled=amount - filled - pending, skipped=tuple(skipped),
    )
