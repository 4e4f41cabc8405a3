"""Reconciliation of the order store with the venue, at start-up and periodically (promise 6).

Rules (pure functions :func:`decide_order`, :func:`decide_orphans` and :func:`compare_balances`
decide; :func:`reconcile` does the I/O):

* a stored ``new`` order was never sent (the manager writes ``submitted`` before sending):
  ``rejected`` ("never sent");
* every stored ``submitted``/``open``/``partially_filled`` order is looked up by its client order
  id and the venue's view applied (fills first, then the status);
* a ``submitted`` order the venue does not know is ``rejected`` ("never placed") once
  ``grace_s`` seconds passed since it was written, and left alone before (the request may still
  be in flight). It is never re-sent: a retry is the caller's decision, under a new client id;
* an ``open``/``partially_filled`` order the venue does not know is reported (``missing``), not
  changed: only a human can tell what happened to it;
* a venue open order with our client id prefix that the store lacks is adopted (recorded and
  followed) or cancelled, as configured; one the store holds as ``rejected`` (it arrived after
  the grace period) is cancelled on the venue and its fills recorded;
* a stored order whose filled amount exceeds its recorded fills gets its fills from
  ``fetch_my_trades``;
* balances: the store's fills-based positions per base currency are compared with the venue's
  totals; base-currency fees (recorded in the fills) are subtracted and ``dust`` tolerated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from atb.errors import ExchangeError, OrderNotFoundError
from atb.execution._apply import (
    UpdateKind,
    adopt_venue_order,
    apply_venue_order,
    record_fills,
    recorded_fill_amount,
)
from atb.execution.models import VenueOrder
from atb.execution.ports import ExchangeClient
from atb.orders.models import Order
from atb.orders.ports import OrderStore
from atb.orders.state import OrderStatus, is_terminal

__all__ = ["BalanceMismatch", "OrphanPolicy", "ReconcileAction", "ReconcileReport", "client_id_prefix",
           "compare_balances", "decide_order", "decide_orphans", "reconcile"]

OrphanPolicy = Literal["adopt", "cancel"]

#: Kinds of :class:`ReconcileAction`.
ACTION_KINDS = ("applied", "rejected_never_sent", "rejected_not_found", "waiting", "missing",
                "orphan_adopted", "orphan_cancelled", "resurrected_cancelled", "fills_recovered",
                "conflict", "error")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileAction:
    """One thing reconciliation did or found.

    Attributes
    ----------
    kind : str
        One of :data:`ACTION_KINDS`.
    client_order_id : str
    pair : str
    old_status, new_status : OrderStatus or None
        Stored status before and after (None when the store had no order).
    detail : str
        Human-readable explanation.
    """

    kind: str
    client_order_id: str
    pair: str
    old_status: OrderStatus | None = None
    new_status: OrderStatus | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceMismatch:
    """A base currency whose venue total differs from the fills-based expectation.

    Attributes
    ----------
    currency : str
    expected : Decimal
        Sum of the store's positions minus base-currency fees, plus the baseline (base currency).
    venue : Decimal
        The venue's total (free + used).
    difference : Decimal
        ``venue - expected``.
    """

    currency: str
    expected: Decimal
    venue: Decimal
    difference: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileReport:
    """What one reconciliation pass did (frozen).

    Attributes
    ----------
    venue, strategy_id : str
    at : datetime
        UTC time of the pass.
    actions : tuple of ReconcileAction
        In the order taken.
    balance_mismatches : tuple of BalanceMismatch
    balances_checked : bool
        False when the venue's balances could not be fetched.
    """

    venue: str
    strategy_id: str
    at: datetime
    actions: tuple[ReconcileAction, ...] = ()
    balance_mismatches: tuple[BalanceMismatch, ...] = ()
    balances_checked: bool = True

    def of_kind(self, kind: str) -> tuple[ReconcileAction, ...]:
        """Actions of one kind."""
        return tuple(a for a in self.actions if a.kind == kind)

    @property
    def consistent(self) -> bool:
        """True when nothing needs a human: no missing order, conflict, error or balance mismatch."""
        bad = {"missing", "conflict", "error"}
        return not self.balance_mismatches and not any(a.kind in bad for a in self.actions)


def client_id_prefix(strategy_id: str) -> str:
    """Prefix of the client order ids the order store issues for ``strategy_id``.

    ``atb-<first 8 hex of sha256(strategy_id)>-`` (see
    :meth:`atb.orders.ports.OrderStore.next_client_order_id`).
    """
    return f"atb-{hashlib.sha256(strategy_id.encode()).hexdigest()[:8]}-"


# --- pure decisions ---------------------------------------------------------------------------
def decide_order(order: Order, venue_view: VenueOrder | None, *, now: datetime, grace_s: float) -> str:
    """What to do with one stored non-terminal order given the venue's view (None: not found).

    Returns ``"rejected_never_sent"``, ``"apply"``, ``"rejected_not_found"``, ``"waiting"`` or
    ``"missing"`` (module docstring).
    """
    if order.status == OrderStatus.NEW:
        return "rejected_never_sent"
    if venue_view is not None:
        return "apply"
    if order.status == OrderStatus.SUBMITTED:
        waited = (now - order.updated_at).total_seconds()
        return "rejected_not_found" if waited >= grace_s else "waiting"
    return "missing"


def decide_orphans(stored: Mapping[str, Order], venue_open: Iterable[VenueOrder], *, prefix: str,
                   policy: OrphanPolicy) -> list[tuple[str, VenueOrder]]:
    """Venue open orders with our prefix that the store lacks or holds as rejected.

    Returns ``(action, venue order)`` pairs, action ``"orphan_adopted"``, ``"orphan_cancelled"``
    or ``"resurrected_cancelled"``.
    """
    out: list[tuple[str, VenueOrder]] = []
    for vo in venue_open:
        if not vo.client_order_id.startswith(prefix):
            continue
        local = stored.get(vo.client_order_id)
        if local is None:
            out.append(("orphan_adopted" if policy == "adopt" else "orphan_cancelled", vo))
        elif local.status == OrderStatus.REJECTED:
            out.append(("resurrected_cancelled", vo))
    return out


def compare_balances(expected: Mapping[str, Decimal], venue_totals: Mapping[str, Decimal], *,
                     dust: Decimal = Decimal("1e-8"), rel_tol: Decimal = Decimal(0)) -> list[BalanceMismatch]:
    """Currencies of ``expected`` whose venue total differs by more than the tolerance.

    Tolerance: ``dust + rel_tol * |expected|`` (base currency).
    """
    out = []
    for cur in sorted(expected):
        exp = expected[cur]
        got = venue_totals.get(cur, Decimal(0))
        if abs(got - exp) > dust + rel_tol * abs(exp):
            out.append(BalanceMismatch(currency=cur, expected=exp, venue=got, difference=got - exp))
    return out


def expected_base_balances(store: OrderStore, venue: str,
                           baseline: Mapping[str, Decimal] | None = None) -> dict[str, Decimal]:
    """Expected venue total per base currency from the store's fills-based positions.

    Every strategy with an order on ``venue`` counts; base-currency fees are subtracted (the venue
    kept them); ``baseline`` adds holdings atb does not manage.
    """
    strategies = {o.strategy_id for o in store.orders() if o.venue == venue}
    out: dict[str, Decimal] = dict(baseline or {})
    for pos in store.positions():
        if pos.strategy_id not in strategies:
            continue
        base = pos.pair.split("/")[0]
        fees = sum((f.fee for f in store.fills(pair=pos.pair) if f.fee_currency == base
                    and (o := store.get_order(f.client_order_id)) is not None
                    and o.strategy_id == pos.strategy_id), Decimal(0))
        out[base] = out.get(base, Decimal(0)) + pos.amount - fees
    return out


# --- I/O --------------------------------------------------------------------------------------
async def _fetch(exchange: ExchangeClient, order: Order) -> VenueOrder | None:
    try:
        return await exchange.fetch_order(order.request.pair, order.client_order_id)
    except OrderNotFoundError:
        return None


async def reconcile_order(store: OrderStore, exchange: ExchangeClient, order: Order, *, now: datetime,
                          grace_s: float) -> ReconcileAction | None:
    """Resolve one stored non-terminal order against the venue (None: nothing changed)."""
    cid, pair = order.client_order_id, order.request.pair
    venue_view = None if order.status == OrderStatus.NEW else await _fetch(exchange, order)
    action = decide_order(order, venue_view, now=now, grace_s=grace_s)
    if action in ("rejected_never_sent", "rejected_not_found"):
        store.save_order(order.with_status(OrderStatus.REJECTED, now))
        why = "never sent" if action == "rejected_never_sent" else f"venue does not know it after {grace_s} s"
        return ReconcileAction(kind=action, client_order_id=cid, pair=pair, old_status=order.status,
                               new_status=OrderStatus.REJECTED, detail=why)
    if action in ("waiting", "missing"):
        return ReconcileAction(kind=action, client_order_id=cid, pair=pair, old_status=order.status,
                               new_status=order.status, detail="venue does not know it")
    if venue_view is None:  # pragma: no cover - decide_order returns "apply" only with a view
        return None
    res = await apply_venue_order(store, exchange, order, venue_view, now)
    if res.kind is UpdateKind.APPLIED:
        return ReconcileAction(kind="applied", client_order_id=cid, pair=pair, old_status=order.status,
                               new_status=res.order.status, detail=f"{res.new_fills} new fill(s)")
    if res.kind is UpdateKind.CONFLICT:
        return ReconcileAction(kind="conflict", client_order_id=cid, pair=pair, old_status=order.status,
                               new_status=order.status,
                               detail=f"venue reports {venue_view.status.value}, filled {venue_view.filled}")
    if res.new_fills:
        return ReconcileAction(kind="fills_recovered", client_order_id=cid, pair=pair,
                               old_status=order.status, new_status=order.status,
                               detail=f"{res.new_fills} fill(s)")
    return None


async def reconcile(store: OrderStore, exchange: ExchangeClient, *, strategy_id: str, venue: str,
                    now: datetime, grace_s: float = 30.0, orphan_policy: OrphanPolicy = "adopt",
                    prefix: str | None = None, baseline: Mapping[str, Decimal] | None = None,
                    dust: Decimal = Decimal("1e-8"), rel_tol: Decimal = Decimal(0)) -> ReconcileReport:
    """Bring the store in line with the venue for one strategy; report every action.

    Parameters
    ----------
    store : OrderStore
    exchange : ExchangeClient
    strategy_id : str
        Orders of this strategy are reconciled; orphans are matched by its client id prefix.
    venue : str
        Venue id of ``exchange`` (stored on adopted orders).
    now : datetime
        UTC time of the pass (grace periods, ``updated_at``).
    grace_s : float
        Seconds a ``submitted`` order the venue does not know stays ``submitted``.
    orphan_policy : {"adopt", "cancel"}
        What to do with venue open orders carrying our prefix that the store lacks.
    prefix : str, optional
        Client id prefix of this strategy (default :func:`client_id_prefix`).
    baseline : mapping, optional
        Base-currency holdings not managed by atb (added to the expected balances).
    dust, rel_tol : Decimal
        Balance tolerance: ``dust + rel_tol * |expected|`` (base currency).

    Returns
    -------
    ReconcileReport
    """
    actions: list[ReconcileAction] = []
    for order in store.open_orders(strategy_id):
        if order.venue != venue:  # a strategy trading several venues: each is reconciled alone
            continue
        try:
            act = await reconcile_order(store, exchange, order, now=now, grace_s=grace_s)
        except ExchangeError as exc:
            act = ReconcileAction(kind="error", client_order_id=order.client_order_id,
                                  pair=order.request.pair, old_status=order.status, detail=str(exc))
        if act is not None:
            actions.append(act)
    for order in store.orders(strategy_id):
        if order.venue != venue:
            continue
        if is_terminal(order.status) and order.filled > recorded_fill_amount(store, order.client_order_id):
            try:
                vo = await _fetch(exchange, order)
                n = await record_fills(store, exchange, order, vo) if vo is not None else 0
            except ExchangeError as exc:
                actions.append(ReconcileAction(kind="error", client_order_id=order.client_order_id,
                                               pair=order.request.pair, detail=str(exc)))
                continue
            if n:
                actions.append(ReconcileAction(kind="fills_recovered", client_order_id=order.client_order_id,
                                               pair=order.request.pair, old_status=order.status,
                                               new_status=order.status, detail=f"{n} fill(s)"))
    actions.extend(await _orphans(store, exchange, strategy_id=strategy_id, venue=venue, now=now,
                                  prefix=prefix or client_id_prefix(strategy_id), policy=orphan_policy))
    mismatches: list[BalanceMismatch] = []
    checked = True
    try:
        balances = await exchange.fetch_balance()
    except ExchangeError:
        checked = False
    else:
        store.save_balances(venue, {c: (b.free, b.used) for c, b in balances.items()}, now)
        totals = {c: b.total for c, b in balances.items()}
        mismatches = compare_balances(expected_base_balances(store, venue, baseline), totals,
                                      dust=dust, rel_tol=rel_tol)
    return ReconcileReport(venue=venue, strategy_id=strategy_id, at=now, actions=tuple(actions),
                           balance_mismatches=tuple(mismatches), balances_checked=checked)


async def _orphans(store: OrderStore, exchange: ExchangeClient, *, strategy_id: str, venue: str,
                   now: datetime, prefix: str, policy: OrphanPolicy) -> list[ReconcileAction]:
    try:
        venue_open = await exchange.fetch_open_orders()
    except ExchangeError as exc:
        return [ReconcileAction(kind="error", client_order_id="", pair="",
                                detail=f"fetch_open_orders: {exc}")]
    stored = {vo.client_order_id: o for vo in venue_open
              if (o := store.get_order(vo.client_order_id)) is not None}
    actions = []
    for kind, vo in decide_orphans(stored, venue_open, prefix=prefix, policy=policy):
        local = stored.get(vo.client_order_id)
        if local is None:  # record it first, so nothing the venue did is missing from the store
            local = (await adopt_venue_order(store, exchange, vo, venue=venue, strategy_id=strategy_id,
                                             now=now)).order
            if kind == "orphan_adopted":
                actions.append(ReconcileAction(kind=kind, client_order_id=vo.client_order_id, pair=vo.pair,
                                               new_status=local.status, detail="recorded from the venue"))
                continue
        old_status = None if kind == "orphan_cancelled" else local.status
        final = await exchange.cancel_order(vo.pair, vo.client_order_id)
        if local.status == OrderStatus.REJECTED:
            await record_fills(store, exchange, local, final)
            if final.filled > local.filled:
                local = local.with_status(OrderStatus.REJECTED, now, filled=final.filled,
                                          average=final.average, fee=final.fee)
                store.save_order(local)
        else:
            local = (await apply_venue_order(store, exchange, local, final, now)).order
        actions.append(ReconcileAction(kind=kind, client_order_id=vo.client_order_id, pair=vo.pair,
                                       old_status=old_status, new_status=local.status,
                                       detail=f"cancelled on the venue (filled {final.filled})"))
    return actions
