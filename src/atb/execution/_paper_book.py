"""Order book, balances and matching of :class:`~atb.execution.paper.PaperExchange` (private).

Prices in quote currency, amounts in base currency, all ``Decimal``; times UTC ms of the feed.
The rules are documented in :mod:`atb.execution.paper`; the arithmetic is
:mod:`atb.execution.fills`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import InsufficientFundsError, InvalidOrderError
from atb.execution.fills import (
    amount_to_step,
    fee_amount,
    limit_fill_price,
    market_fill_price,
    participation_cap,
    stop_trigger_price,
)
from atb.execution.models import Balance, Market, VenueOrder
from atb.orders.models import Fill, OrderRequest
from atb.orders.state import OrderStatus, check_transition, is_terminal

if TYPE_CHECKING:
    from atb.execution.paper import PaperConfig

__all__ = ["Bar", "OrderBook", "PaperOrder"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_S = OrderStatus


def ms_to_datetime(ms: int) -> datetime:
    """UTC datetime of a UTC ms timestamp (exact)."""
    return _EPOCH + timedelta(milliseconds=ms)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """Prices an order can meet: a candle, or a ticker (``open == high == low == close``).

    ``volume`` is the candle's base volume (None for a ticker: no participation cap); ``at_ms``
    is the candle open time (the time of its open-price fills) or the ticker time.
    """

    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | None
    at_ms: int


@dataclass(slots=True, kw_only=True)
class PaperOrder:
    """Mutable venue-side state of one paper order (never leaves the exchange; views are frozen)."""

    request: OrderRequest
    market: Market
    venue_order_id: str
    placed_ms: int
    active_ms: int
    status: OrderStatus = _S.SUBMITTED
    reserved: Decimal = _ZERO  # locked funds: quote (buys) or base (sells)
    filled: Decimal = _ZERO
    cost: Decimal = _ZERO
    fee: Decimal = _ZERO
    triggered: bool = False  # stop_limit: the stop was reached
    bars_seen: int = 0
    fills: list[Fill] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        """Unfilled amount, base currency."""
        return self.request.amount - self.filled

    def view(self, fills: list[Fill] | None = None) -> VenueOrder:
        """The venue's (frozen) view; ``fills`` defaults to all fills so far."""
        r = self.request
        return VenueOrder(
            venue_order_id=self.venue_order_id, client_order_id=r.client_order_id, pair=r.pair,
            side=r.side, order_type=r.order_type, status=self.status, amount=r.amount,
            filled=self.filled, price=r.price, average=(self.cost / self.filled) if self.filled else None,
            fee=self.fee, timestamp=self.placed_ms, fills=tuple(self.fills if fills is None else fills),
        )


class OrderBook:
    """Orders, fills, balances and the feed clock of one paper exchange."""

    def __init__(self, config: PaperConfig, balances: Mapping[str, Decimal]) -> None:
        self.config = config
        self.now_ms = 0
        self._free: dict[str, Decimal] = dict(balances)
        self._used: dict[str, Decimal] = {k: _ZERO for k in balances}
        self._orders: dict[str, PaperOrder] = {}
        self._fills: list[Fill] = []
        self._last: dict[str, tuple[Decimal, Decimal | None]] = {}
        self._last_bar: dict[str, Bar] = {}
        self._ids = itertools.count(1)

    # --- queries ------------------------------------------------------------------------------

    def get(self, client_order_id: str) -> PaperOrder | None:
        """The order by client id (None if never placed)."""
        return self._orders.get(client_order_id)

    def open_orders(self, pair: str | None) -> list[PaperOrder]:
        """Non-terminal orders (of ``pair``) in placement order."""
        return [o for o in self._orders.values()
                if not is_terminal(o.status) and (pair is None or o.request.pair == pair)]

    def fills(self, pair: str, since_ms: int | None) -> list[Fill]:
        """Fills of ``pair`` at or after ``since_ms``."""
        since = None if since_ms is None else ms_to_datetime(since_ms)
        return [f for f in self._fills if f.pair == pair and (since is None or f.at >= since)]

    def balances(self) -> dict[str, Balance]:
        """Free and locked balance per currency."""
        return {c: Balance(currency=c, free=self._free.get(c, _ZERO), used=self._used.get(c, _ZERO))
                for c in sorted(set(self._free) | set(self._used))}

    # --- placement ----------------------------------------------------------------------------

    def place(self, req: OrderRequest, market: Market) -> tuple[PaperOrder, list[VenueOrder]]:
        """Validate, lock funds and register ``req``; active now when there is no latency."""
        ref = self._validate(req, market)
        need, cur = self._lock_need(req, market, ref)
        if self._free.get(cur, _ZERO) < need:
            raise InsufficientFundsError(
                f"paper: order {req.client_order_id} needs {need} {cur}, free "
                f"{self._free.get(cur, _ZERO)}")
        order = PaperOrder(request=req, market=market, venue_order_id=f"paper-{next(self._ids)}",
                           placed_ms=self.now_ms, active_ms=self.now_ms + self.config.latency_ms)
        check_transition(_S.NEW, _S.SUBMITTED, client_order_id=req.client_order_id)
        self._lock(order, need)
        self._orders[req.client_order_id] = order
        updates = self._activate(order) if order.active_ms <= self.now_ms else []
        return order, updates

    def _validate(self, req: OrderRequest, market: Market) -> Decimal | None:
        """Check the request against the market; the reference price (limit or last price)."""
        cid = req.client_order_id
        if cid in self._orders:
            raise InvalidOrderError(f"paper: duplicate client order id {cid!r}")
        if not market.active:
            raise InvalidOrderError(f"paper: market {req.pair} is not active")
        if req.amount % market.amount_step != 0:
            raise InvalidOrderError(f"paper: order {cid}: amount {req.amount} is not a multiple of "
                                    f"the step {market.amount_step}")
        for name in ("price", "stop_price"):
            v = getattr(req, name)
            if v is not None and req.order_type != OrderType.MARKET and v % market.price_tick != 0:
                raise InvalidOrderError(f"paper: order {cid}: {name} {v} is not a multiple of the tick "
                                        f"{market.price_tick}")
        last = self._last.get(req.pair, (None, None))[0]
        ref = last if req.order_type == OrderType.MARKET else req.price
        if ref is None:
            raise InvalidOrderError(f"paper: order {cid}: no market price for {req.pair} yet")
        if req.amount < market.min_amount or req.amount * ref < market.min_notional:
            raise InvalidOrderError(f"paper: order {cid}: below the market minimum "
                                    f"(amount {market.min_amount}, notional {market.min_notional})")
        if req.post_only or req.time_in_force == TimeInForce.PO:
            self._check_post_only(req, last)
        return ref

    @staticmethod
    def _check_post_only(req: OrderRequest, last: Decimal | None) -> None:
        if req.order_type == OrderType.MARKET:
            raise InvalidOrderError(f"paper: order {req.client_order_id}: a market order cannot be "
                                    "post-only")
        if req.order_type == OrderType.LIMIT and last is not None and req.price is not None:
            takes = req.price >= last if req.side == OrderSide.BUY else req.price <= last
            if takes:
                raise InvalidOrderError(f"paper: post-only order {req.client_order_id} would take "
                                        f"(price {req.price}, last {last})")

    @staticmethod
    def _lock_need(req: OrderRequest, market: Market, ref: Decimal | None) -> tuple[Decimal, str]:
        if req.side == OrderSide.SELL:
            return req.amount, market.base
        assert ref is not None  # _validate guarantees a reference price
        return req.amount * ref * (_ONE + max(market.maker_fee, market.taker_fee)), market.quote

    def _lock(self, order: PaperOrder, amount: Decimal) -> None:
        cur = order.market.quote if order.request.side == OrderSide.BUY else order.market.base
        self._free[cur] = self._free.get(cur, _ZERO) - amount
        self._used[cur] = self._used.get(cur, _ZERO) + amount
        order.reserved += amount

    def _unlock(self, order: PaperOrder) -> None:
        cur = order.market.quote if order.request.side == OrderSide.BUY else order.market.base
        self._free[cur] = self._free.get(cur, _ZERO) + order.reserved
        self._used[cur] = self._used.get(cur, _ZERO) - order.reserved
        order.reserved = _ZERO

    # --- clock and matching -------------------------------------------------------------------

    def advance(self, pair: str | None, price: Decimal | None, volume: Decimal | None,
                now_ms: int) -> list[VenueOrder]:
        """Move the clock (never back), record the last price, activate orders that arrived."""
        self.now_ms = max(self.now_ms, now_ms)
        if pair is not None and price is not None:
            self._last[pair] = (price, volume)
        updates: list[VenueOrder] = []
        for order in list(self._orders.values()):
            if order.status == _S.SUBMITTED and order.active_ms <= self.now_ms:
                updates += self._activate(order)
        return updates

    def _activate(self, order: PaperOrder) -> list[VenueOrder]:
        """The venue receives the order; ``immediate`` mode matches it against the last price."""
        self._set_status(order, _S.OPEN)
        updates = [order.view()]
        last = self._last.get(order.request.pair)
        bar = self._last_bar.get(order.request.pair)
        if self.config.fill_mode == "bar" and bar is not None:
            if order.request.order_type == OrderType.MARKET:
                c = bar.close
                bar = Bar(open=c, high=c, low=c, close=c, volume=bar.volume, at_ms=bar.at_ms)
            updates += self._match(order, bar)
        elif self.config.fill_mode == "immediate" and last is not None:
            p, vol = last
            updates += self._match(order, Bar(open=p, high=p, low=p, close=p, volume=vol,
                                              at_ms=self.now_ms))
        return updates

    def on_bar(self, pair: str, bar: Bar, *, is_candle: bool) -> list[VenueOrder]:
        """Match the pair's orders that were active at ``bar.at_ms``, in placement order."""
        updates = self.advance(None, None, None, bar.at_ms)
        if is_candle:
            self._last_bar[pair] = bar
        for order in self.open_orders(pair):
            if order.status == _S.SUBMITTED or order.active_ms > bar.at_ms:
                continue
            if (not is_candle and order.request.order_type == OrderType.MARKET
                    and self.config.fill_mode == "next_open"):
                continue
            updates += self._match(order, bar)
        return updates

    def _match(self, order: PaperOrder, bar: Bar) -> list[VenueOrder]:
        req = order.request
        remaining = order.remaining
        amount = participation_cap(remaining, bar.volume, self.config.max_participation,
                                   order.market.amount_step)
        was_stop = req.order_type == OrderType.STOP_LIMIT and not order.triggered
        price, taker = self._price_on(order, bar, amount)
        order.bars_seen += 1
        updates: list[VenueOrder] = []
        fok_short = req.time_in_force == TimeInForce.FOK and amount < remaining
        if price is not None and amount > 0 and not fok_short:
            updates += self._fill(order, price, amount, bar.at_ms, taker)
        once = req.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        if once and not is_terminal(order.status) and not (was_stop and not order.triggered):
            updates += self.finish(order, _S.EXPIRED)
        return updates

    def _price_on(self, order: PaperOrder, bar: Bar, amount: Decimal) -> tuple[Decimal | None, bool]:
        """Fill price on ``bar`` (None: no fill) and whether the fill takes liquidity."""
        req = order.request
        buy = req.side == OrderSide.BUY
        if req.order_type == OrderType.MARKET:
            return market_fill_price(bar.open, req.side, amount, bar.volume, self.config.slippage,
                                     order.market.price_tick), True
        assert req.price is not None  # limit and stop_limit requests carry a price
        if req.order_type == OrderType.STOP_LIMIT and not order.triggered:
            assert req.stop_price is not None
            trigger = stop_trigger_price(req.side, req.stop_price, bar.open, bar.high, bar.low)
            if trigger is None:
                return None, False
            order.triggered = True
            order.bars_seen = 0
            marketable = trigger <= req.price if buy else trigger >= req.price
            return (trigger, True) if marketable else (None, False)
        price = limit_fill_price(req.side, req.price, bar.open, bar.high, bar.low)
        at_open = req.price >= bar.open if buy else req.price <= bar.open
        return price, order.bars_seen == 0 and at_open

    def _fill(self, order: PaperOrder, price: Decimal, amount: Decimal, at_ms: int,
              taker: bool) -> list[VenueOrder]:
        m, req = order.market, order.request
        rate = m.taker_fee if taker else m.maker_fee
        if req.side == OrderSide.BUY:
            self._unlock(order)
            free = self._free.get(m.quote, _ZERO)
            if amount * price * (_ONE + rate) > free:  # the price moved beyond the lock
                amount = amount_to_step(free / (price * (_ONE + rate)), m.amount_step)
                if amount <= 0:
                    return self.finish(order, _S.EXPIRED)
        cost = price * amount
        fee = fee_amount(price, amount, rate)
        if req.side == OrderSide.BUY:
            self._free[m.quote] -= cost + fee
            self._free[m.base] = self._free.get(m.base, _ZERO) + amount
        else:
            self._used[m.base] -= amount
            order.reserved -= amount
            self._free[m.quote] = self._free.get(m.quote, _ZERO) + cost - fee
        fill = Fill(fill_id=f"{req.client_order_id}-{len(order.fills) + 1}",
                    client_order_id=req.client_order_id, pair=req.pair, side=req.side, price=price,
                    amount=amount, fee=fee, fee_currency=m.quote, is_maker=not taker,
                    at=ms_to_datetime(at_ms))
        order.fills.append(fill)
        self._fills.append(fill)
        order.filled += amount
        order.cost += cost
        order.fee += fee
        if order.remaining == 0:
            return self.finish(order, _S.FILLED, [fill])
        if req.side == OrderSide.BUY:
            lock_price = req.price if req.price is not None else price
            need = order.remaining * lock_price * (_ONE + max(m.maker_fee, m.taker_fee))
            self._lock(order, min(need, max(self._free.get(m.quote, _ZERO), _ZERO)))
        self._set_status(order, _S.PARTIALLY_FILLED)
        return [order.view([fill])]

    def finish(self, order: PaperOrder, status: OrderStatus,
               fills: list[Fill] | None = None) -> list[VenueOrder]:
        """Move ``order`` to a terminal ``status`` and release its locked funds."""
        if is_terminal(order.status):
            return []
        self._set_status(order, status)
        self._unlock(order)
        return [order.view(fills or [])]

    @staticmethod
    def _set_status(order: PaperOrder, status: OrderStatus) -> None:
        check_transition(order.status, status, client_order_id=order.request.client_order_id)
        order.status = status
