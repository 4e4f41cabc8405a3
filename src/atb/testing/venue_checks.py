"""Store-versus-venue checks: does the order store agree with what the venue itself recorded.

Used after a live run against the Binance emulator (:mod:`atb.testing.emulator`) by the
crash-safety benchmark (``benchmarks/crash_safety.py``), the live integration tests and the
``atb trade`` acceptance test, once a final reconciliation has run. The venue side is the
emulator's own records (:meth:`BinanceEmulator.orders` in Binance ``GET /api/v3/order`` layout,
:meth:`BinanceEmulator.balances`), never the client's view of them.

Checks (each failure is one line in :attr:`StateCheck.failures`, prefixed with its letter):

* (a) no order lost: every stored order that may have reached the venue (not ``new``/``rejected``)
  is on the venue with the same status and filled amount, and its stored fills add up to it;
* (b) no duplicate: each client order id appears once on the venue;
* (c) no orphan: every venue order with the strategy's client id prefix is in the store and not
  ``rejected``;
* (d) positions: the store's positions equal its fills, and per currency the venue's total
  (free + locked) equals the initial balance plus the fills' net flow (fees included), within
  ``dust``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["VENUE_STATUS", "StateCheck", "verify_venue_state"]

#: Binance order statuses -> the store's status values.
VENUE_STATUS: Mapping[str, str] = {
    "NEW": "open", "PARTIALLY_FILLED": "partially_filled", "FILLED": "filled", "CANCELED": "cancelled",
    "EXPIRED": "expired", "REJECTED": "rejected", "EXPIRED_IN_MATCH": "expired"}

_ZERO = Decimal(0)


@dataclass(slots=True)
class StateCheck:
    """Result of :func:`verify_venue_state`: counts and the failed checks (empty: all passed).

    Attributes
    ----------
    orders : int
        Orders of the strategy in the store.
    venue_orders : int
        Venue orders carrying the strategy's client id prefix.
    fills : int
        Stored fills of the strategy's orders.
    rejected : int
        Stored orders that never reached the venue (``new``/``rejected``).
    failures : list of str
        One line per failed check.
    """

    orders: int = 0
    venue_orders: int = 0
    fills: int = 0
    rejected: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.failures


def verify_venue_state(store: Any, strategy_id: str, venue_orders: Sequence[Mapping[str, Any]],
                       venue_balances: Mapping[str, tuple[Decimal, Decimal]],
                       initial: Mapping[str, Decimal], *, prefix: str,
                       dust: Decimal = Decimal("1e-8")) -> StateCheck:
    """Compare the order store with the venue's own records (run after a final reconcile).

    Parameters
    ----------
    store : OrderStore
        The run's store (``orders``, ``fills``, ``positions``).
    strategy_id : str
        Owner of the orders checked.
    venue_orders : sequence of mapping
        The venue's orders in Binance ``GET /api/v3/order`` layout (``clientOrderId``,
        ``status``, ``executedQty``) - :meth:`BinanceEmulator.orders`.
    venue_balances : mapping currency -> (free, locked)
        The venue account's balances now.
    initial : mapping currency -> Decimal
        The venue account's balances before trading (currencies absent = 0).
    prefix : str
        Client order id prefix of ``strategy_id`` (:func:`atb.execution.reconcile.client_id_prefix`).
    dust : Decimal
        Tolerance of the balance comparisons (base and quote currency units).

    Returns
    -------
    StateCheck
        Counts and failures (see the module docstring for the checks).
    """
    out = StateCheck()
    stored = {o.client_order_id: o for o in store.orders(strategy_id)}
    ours = [v for v in venue_orders if str(v["clientOrderId"]).startswith(prefix)]
    out.orders, out.venue_orders = len(stored), len(ours)
    out.failures += _duplicates(ours)
    by_cid = {str(v["clientOrderId"]): v for v in ours}
    for cid, order in stored.items():
        out.failures += _check_order(out, store, cid, order, by_cid.get(cid))
    out.failures += [f"(c) orphan: {cid} is on the venue, not in the store" for cid in by_cid
                     if cid not in stored]
    flow, per_pair = _fill_flows(out, store, set(stored))
    out.failures += _check_positions(store, strategy_id, per_pair, dust)
    out.failures += _check_balances(flow, venue_balances, initial, dust)
    return out


def _duplicates(ours: Sequence[Mapping[str, Any]]) -> list[str]:
    """Check (b)."""
    counts: dict[str, int] = {}
    for row in ours:
        cid = str(row["clientOrderId"])
        counts[cid] = counts.get(cid, 0) + 1
    return [f"(b) duplicate: {cid} is {n} times on the venue" for cid, n in counts.items() if n > 1]


def _check_order(out: StateCheck, store: Any, cid: str, order: Any,
                 venue: Mapping[str, Any] | None) -> list[str]:
    """Checks (a) and (c) of one stored order against its venue record (None: unknown there)."""
    status = order.status.value
    if status in ("new", "rejected"):
        out.rejected += 1
        return [] if venue is None else [f"(c) orphan: {cid} is {status} in the store but on the venue"]
    if venue is None:
        return [f"(a) lost: {cid} is {status} in the store, unknown to the venue"]
    failures = []
    if VENUE_STATUS.get(str(venue["status"])) != status or Decimal(str(venue["executedQty"])) != order.filled:
        failures.append(f"(a) status: {cid} store {status}/{order.filled}, venue "
                        f"{venue['status']}/{venue['executedQty']}")
    filled = sum((f.amount for f in store.fills(client_order_id=cid)), _ZERO)
    if filled != order.filled:
        failures.append(f"(a) fills: {cid} fills add up to {filled}, order filled {order.filled}")
    return failures


def _fill_flows(out: StateCheck, store: Any,
                cids: set[str]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Net change per currency (fees included) and net base amount per pair of the stored fills."""
    flow: dict[str, Decimal] = {}
    per_pair: dict[str, Decimal] = {}
    for f in store.fills():
        if f.client_order_id not in cids:
            continue
        out.fills += 1
        base, quote = f.pair.split("/")[0], f.pair.split("/")[1].split(":")[0]
        sign = Decimal(1) if f.side.value == "buy" else Decimal(-1)
        per_pair[f.pair] = per_pair.get(f.pair, _ZERO) + sign * f.amount
        flow[base] = flow.get(base, _ZERO) + sign * f.amount - (f.fee if f.fee_currency == base else _ZERO)
        flow[quote] = (flow.get(quote, _ZERO) - sign * f.price * f.amount
                       - (f.fee if f.fee_currency == quote else _ZERO))
    return flow, per_pair


def _check_positions(store: Any, strategy_id: str, per_pair: Mapping[str, Decimal],
                     dust: Decimal) -> list[str]:
    """Check (d), store side: the store's positions equal its fills."""
    return [f"(d) position {p.pair}: store {p.amount}, fills {per_pair.get(p.pair)}"
            for p in store.positions(strategy_id) if abs(p.amount - per_pair.get(p.pair, _ZERO)) > dust]


def _check_balances(flow: Mapping[str, Decimal], venue_balances: Mapping[str, tuple[Decimal, Decimal]],
                    initial: Mapping[str, Decimal], dust: Decimal) -> list[str]:
    """Check (d), venue side: each currency's venue total equals the initial balance plus the fills."""
    totals = {c: free + locked for c, (free, locked) in venue_balances.items()}
    failures = []
    for cur in sorted(flow):
        expected = initial.get(cur, _ZERO) + flow[cur]
        got = totals.get(cur, _ZERO)
        if abs(got - expected) > dust:
            failures.append(f"(d) balance {cur}: venue {got}, expected from fills {expected}")
    return failures
