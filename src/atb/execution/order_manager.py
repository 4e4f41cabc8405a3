"""The order manager: the crash-safe path of one strategy's orders to one venue (promise 6).

Write-ahead sequence of :meth:`OrderManager.submit`::

    1  cid = store.next_client_order_id(strategy)    durable counter: an id is never reused
    2  store.save_order(order NEW)                    the intent is on disk
    3  store.save_order(order SUBMITTED)              "may be at the venue from now on"
    4  venue.create_order(request)                    the only call that can place an order
    5  store.add_fill(...) for its fills              idempotent by fill id
    6  store.save_order(order OPEN/FILLED/...)        the venue's status, through the table

A process killed anywhere restarts to a consistent state through :func:`reconcile`: before 3 the
order is ``new`` and was never sent (-> ``rejected``); between 3 and 6 it is ``submitted`` and
looked up by its client id (found -> its status applied; unknown after the grace period ->
``rejected``, never re-sent); after 5 fills are not counted twice. ``TemporaryExchangeError`` or
a timeout in 4 leaves the order ``submitted`` for reconciliation; ``InvalidOrderError`` /
``InsufficientFundsError`` make it ``rejected`` and the reason is recorded as a
:class:`~atb.orders.records.Decision` (action ``order_rejected``).

The manager keeps no state of its own: every read goes to the store, so a new manager on the same
store *is* the restarted process. Risk approval happens before :meth:`OrderManager.submit` (the
caller passes only risk-approved orders; exits, cancels and emergency exits reduce risk).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import (
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    TemporaryExchangeError,
)
from atb.execution._apply import ApplyResult, UpdateKind, apply_venue_order, normalise_status, record_fills
from atb.execution.models import Market, VenueOrder
from atb.execution.ports import ExchangeClient
from atb.execution.reconcile import (
    OrphanPolicy,
    ReconcileReport,
    client_id_prefix,
    reconcile,
    reconcile_order,
)
from atb.orders.events import FlattenRequested
from atb.orders.models import Order, OrderRequest
from atb.orders.ports import OrderStore
from atb.orders.records import Decision
from atb.orders.state import OrderStatus, check_transition, is_terminal

__all__ = ["EMERGENCY_EXIT_TAG", "EmergencyExitResult", "OrderManager"]

#: Tag of the market orders :meth:`OrderManager.emergency_exit` sends.
EMERGENCY_EXIT_TAG = "emergency_exit"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyExitResult:
    """What :meth:`OrderManager.emergency_exit` did.

    Attributes
    ----------
    cancelled : tuple of Order
        Orders cancelled (their final stored state).
    exits : tuple of Order
        Market exit orders sent (their stored state after the call).
    errors : tuple of str
        Venue errors met (the call goes on with the other pairs/orders).
    """

    cancelled: tuple[Order, ...] = ()
    exits: tuple[Order, ...] = ()
    errors: tuple[str, ...] = ()


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """``amount`` truncated to a multiple of ``step`` (base currency)."""
    if step <= 0:
        return amount
    return (amount / step).to_integral_value(rounding=ROUND_DOWN) * step


class OrderManager:
    """Sends, cancels and follows one strategy's orders on one venue; the store is the only state.

    Parameters
    ----------
    store : OrderStore
        Durable orders, fills and positions (:class:`~atb.orders.ports.OrderStore`).
    exchange : ExchangeClient
        The venue.
    clock : callable
        Returns the current UTC datetime.
    venue : str
        Venue id written on the orders.
    strategy_id : str
        Owner of the orders; client ids come from the store's counter for it.
    grace_s : float
        Seconds a ``submitted`` order unknown to the venue stays ``submitted`` (default 30 s).
    orphan_policy : {"adopt", "cancel"}
        Reconciliation's treatment of venue orders with our prefix the store lacks.

    Examples
    --------
    >>> import asyncio
    >>> from decimal import Decimal
    >>> from atb.core.enums import OrderSide, OrderType
    >>> from atb.orders.memory import InMemoryOrderStore
    >>> from atb.testing.fake_venue import FakeVenue, ManualClock
    >>> clock = ManualClock()
    >>> om = OrderManager(InMemoryOrderStore(), FakeVenue(clock), clock, venue="fake", strategy_id="s1")
    >>> order = asyncio.run(om.submit(pair="BTC/USDT", side=OrderSide.BUY, order_type=OrderType.MARKET,
    ...                               amount=Decimal("0.5"), tag="entry"))
    >>> order.status.value, om.store.position("s1", "BTC/USDT").amount
    ('filled', Decimal('0.5'))
    """

    def __init__(self, store: OrderStore, exchange: ExchangeClient, clock: Callable[[], datetime], *,
                 venue: str, strategy_id: str, grace_s: float = 30.0,
                 orphan_policy: OrphanPolicy = "adopt") -> None:
        self.store = store
        self.exchange = exchange
        self.clock = clock
        self.venue = venue
        self.strategy_id = strategy_id
        self.grace_s = grace_s
        self.orphan_policy: OrphanPolicy = orphan_policy
        self._markets: Mapping[str, Market] | None = None  # a cache of venue facts, not state

    # --- views (read from the store) --------------------------------------------------------------
    @property
    def client_id_prefix(self) -> str:
        """Prefix of this strategy's client order ids."""
        return client_id_prefix(self.strategy_id)

    def get(self, client_order_id: str) -> Order | None:
        """The stored order, or None."""
        return self.store.get_order(client_order_id)

    def open_orders(self, pair: str | None = None) -> list[Order]:
        """Stored non-terminal orders of this strategy (optionally of one pair)."""
        return [o for o in self.store.open_orders(self.strategy_id)
                if o.venue == self.venue and (pair is None or o.request.pair == pair)]

    async def market(self, pair: str) -> Market | None:
        """The venue's trading rules of ``pair`` (loaded once), or None when unknown."""
        if self._markets is None:
            self._markets = await self.exchange.load_markets()
        return self._markets.get(pair)

    # --- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> ReconcileReport:
        """Reconcile with the venue (call once after construction, i.e. after every restart)."""
        return await self.reconcile()

    async def reconcile(self) -> ReconcileReport:
        """One reconciliation pass (:func:`atb.execution.reconcile.reconcile`)."""
        return await reconcile(self.store, self.exchange, strategy_id=self.strategy_id, venue=self.venue,
                               now=self.clock(), grace_s=self.grace_s, orphan_policy=self.orphan_policy)

    # --- orders --------------------------------------------------------------------------------
    async def submit(self, *, pair: str, side: OrderSide, order_type: OrderType, amount: Decimal,
                     price: Decimal | None = None, stop_price: Decimal | None = None,
                     time_in_force: TimeInForce = TimeInForce.GTC, post_only: bool = False,
                     reduce_only: bool = False, tag: str | None = None) -> Order:
        """Write the order ahead, send it, apply the venue's answer (module docstring).

        Parameters
        ----------
        pair : str
            ``BASE/QUOTE``.
        side : OrderSide
        order_type : OrderType
        amount : Decimal
            Base currency, a multiple of the venue's amount step.
        price, stop_price : Decimal, optional
            Limit and trigger prices, quote currency.
        time_in_force, post_only, reduce_only
            As :class:`~atb.orders.models.OrderRequest`.
        tag : str, optional
            Entry/exit tag or reason stored on the order.

        Returns
        -------
        Order
            The stored order: ``submitted`` when the venue's answer was lost, ``rejected`` when the
            venue refused it, else the venue's status.

        Raises
        ------
        ConfigError
            Invalid request fields (nothing is written).
        """
        cid = self.store.next_client_order_id(self.strategy_id)
        request = OrderRequest(client_order_id=cid, pair=pair, side=side, order_type=order_type,
                               amount=amount, price=price, stop_price=stop_price, time_in_force=time_in_force,
                               post_only=post_only, reduce_only=reduce_only)
        now = self.clock()
        order = Order(request=request, status=OrderStatus.NEW, venue=self.venue, strategy_id=self.strategy_id,
                      created_at=now, updated_at=now, tag=tag)
        self.store.save_order(order)
        order = order.with_status(OrderStatus.SUBMITTED, self.clock())
        self.store.save_order(order)
        try:
            vo = await self.exchange.create_order(request)
        except (InvalidOrderError, InsufficientFundsError) as exc:
            return self._reject(order, exc)
        except (ExchangeError, TimeoutError):
            return order  # unknown (lost response, timeout): reconciliation resolves it by the client id
        return (await self._apply(order, vo)).order

    def _reject(self, order: Order, exc: Exception) -> Order:
        now = self.clock()
        rejected = order.with_status(OrderStatus.REJECTED, now)
        self.store.save_order(rejected)
        self.store.record_decision(Decision(
            strategy_id=self.strategy_id, pair=order.request.pair, candle_time=now, action="order_rejected",
            signals={"error": type(exc).__name__, "reason": str(exc)}, risk_reason=str(exc),
            client_order_id=order.client_order_id, created_at=now))
        return rejected

    async def _apply(self, order: Order, vo: VenueOrder) -> ApplyResult:
        res = await apply_venue_order(self.store, self.exchange, order, vo, self.clock())
        if res.kind is UpdateKind.RESURRECTED:
            final = await self.exchange.cancel_order(order.request.pair, order.client_order_id)
            await record_fills(self.store, self.exchange, order, final)
            if final.filled > order.filled:
                updated = order.with_status(OrderStatus.REJECTED, self.clock(), filled=final.filled,
                                            average=final.average, fee=final.fee)
                self.store.save_order(updated)
                res = ApplyResult(kind=res.kind, order=updated, new_fills=res.new_fills)
        return res

    async def cancel(self, client_order_id: str) -> Order:
        """Cancel an order; returns its stored state afterwards (possibly filled if it raced).

        A ``new`` order (never sent) becomes ``rejected``; terminal orders are returned unchanged.
        When the venue does not know a ``submitted`` order it stays ``submitted`` (reconciliation
        decides after the grace period).

        Raises
        ------
        OrderNotFoundError
            The store does not know ``client_order_id``.
        TemporaryExchangeError
            The venue could not be reached; the order is unchanged (retry, or reconcile).
        """
        order = self.store.get_order(client_order_id)
        if order is None:
            raise OrderNotFoundError(f"order {client_order_id} is not in the store")
        if is_terminal(order.status):
            return order
        if order.status == OrderStatus.NEW:
            rejected = order.with_status(OrderStatus.REJECTED, self.clock())
            self.store.save_order(rejected)
            return rejected
        try:
            vo = await self.exchange.cancel_order(order.request.pair, client_order_id)
        except OrderNotFoundError:
            await reconcile_order(self.store, self.exchange, order, now=self.clock(), grace_s=self.grace_s)
            return self.store.get_order(client_order_id) or order
        return (await self._apply(order, vo)).order

    async def on_venue_update(self, vo: VenueOrder) -> Order | None:
        """Apply one venue report (``watch_orders`` or polling); returns the stored order.

        Duplicates and stale reports change nothing; fills are recorded idempotently. A report for
        an order the store does not know returns None (reconciliation adopts it). A report the
        transition table forbids (e.g. ``cancelled`` for a stored ``filled``) raises.

        Raises
        ------
        OrderStateError
            The venue reports an illegal transition for a terminal order.
        """
        order = self.store.get_order(vo.client_order_id)
        if order is None or order.strategy_id != self.strategy_id:
            return None
        res = await self._apply(order, vo)
        if res.kind is UpdateKind.CONFLICT:
            check_transition(order.status, normalise_status(vo), client_order_id=order.client_order_id)
        return res.order

    async def on_venue_updates(self, updates: Iterable[VenueOrder]) -> list[Order]:
        """Apply a batch (one ``watch_orders`` result); returns the orders that were ours."""
        out = []
        for vo in updates:
            o = await self.on_venue_update(vo)
            if o is not None:
                out.append(o)
        return out

    async def poll_open_orders(self) -> list[Order]:
        """Fetch every stored open order from the venue and apply it (grace rules as reconcile)."""
        for order in self.open_orders():
            try:
                await reconcile_order(self.store, self.exchange, order, now=self.clock(),
                                      grace_s=self.grace_s)
            except TemporaryExchangeError:
                continue
        return self.open_orders()

    # --- exits ---------------------------------------------------------------------------------
    async def on_flatten_requested(self, event: FlattenRequested) -> EmergencyExitResult:
        """Handle the risk engine's :class:`~atb.orders.events.FlattenRequested` (empty pairs: all)."""
        return await self.emergency_exit(event.pairs or None)

    def _exit_pairs(self, pairs: Iterable[str] | None) -> list[str]:
        if pairs is not None:
            return sorted(set(pairs))
        held = {p.pair for p in self.store.positions(self.strategy_id) if p.amount != 0}
        return sorted(held | {o.request.pair for o in self.open_orders()})

    async def emergency_exit(self, pairs: Iterable[str] | None = None) -> EmergencyExitResult:
        """Cancel the open orders of ``pairs`` and close their positions with market orders.

        Positions are the store's fills-based positions after the cancels (a cancel that raced a
        fill is counted). Exit orders already open with tag ``emergency_exit`` are kept and their
        remaining amount deducted, so calling this twice never sells twice. The exit amount is
        truncated to the venue's amount step and, for a long, capped at the venue's base balance
        (fees paid in the base currency). Tag of the exit orders: ``emergency_exit``.

        Parameters
        ----------
        pairs : iterable of str, optional
            Pairs to flatten; None: every pair with a position or an open order.
        """
        cancelled: list[Order] = []
        exits: list[Order] = []
        errors: list[str] = []
        targets = self._exit_pairs(pairs)
        for order in self.open_orders():
            if order.request.pair in targets and order.tag != EMERGENCY_EXIT_TAG:
                try:
                    cancelled.append(await self.cancel(order.client_order_id))
                except ExchangeError as exc:
                    errors.append(f"cancel {order.client_order_id}: {exc}")
        try:
            balances = {c: b.total for c, b in (await self.exchange.fetch_balance()).items()}
        except ExchangeError as exc:
            balances = {}
            errors.append(f"fetch_balance: {exc}")
        for pair in targets:
            pos = self.store.position(self.strategy_id, pair).amount
            pending = sum((o.remaining for o in self.open_orders(pair) if o.tag == EMERGENCY_EXIT_TAG),
                          Decimal(0))
            amount = abs(pos) - pending
            base = pair.split("/")[0]
            if pos > 0 and base in balances:
                amount = min(amount, balances[base] - pending)
            market = await self.market(pair)
            amount = round_down(amount, market.amount_step if market else Decimal(0))
            if amount <= 0 or (market is not None and amount < market.min_amount):
                continue
            side = OrderSide.SELL if pos > 0 else OrderSide.BUY
            exits.append(await self.submit(pair=pair, side=side, order_type=OrderType.MARKET, amount=amount,
                                           reduce_only=pos < 0, tag=EMERGENCY_EXIT_TAG))
        return EmergencyExitResult(cancelled=tuple(cancelled), exits=tuple(exits), errors=tuple(errors))
