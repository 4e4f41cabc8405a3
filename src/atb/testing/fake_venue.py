"""A deterministic in-process venue implementing :class:`~atb.execution.ports.ExchangeClient`.

Built for order-path tests (write-ahead, reconciliation, crash simulation): every behaviour is
driven by the test, nothing depends on wall time or randomness.

Controls
--------
- :meth:`FakeVenue.set_price` moves the market; resting limit / stop-limit orders that the new
  price reaches fill completely at their limit price (maker).
- :meth:`FakeVenue.fill` fills (part of) an order at a chosen price.
- :meth:`FakeVenue.lose_next_response` : the next ``create_order`` places the order, then raises
  :class:`~atb.errors.TemporaryExchangeError` (a timeout after the venue accepted it).
- :meth:`FakeVenue.fail_next` : the next ``create_order`` raises before placing anything
  (default :class:`~atb.errors.TemporaryExchangeError`; pass ``InvalidOrderError`` etc.).
- :meth:`FakeVenue.inject_order` : an order known only to the venue (an orphan).
- ``on_create`` : called with the request inside ``create_order`` before placement (lets a test
  observe the caller's store at the moment the venue sees the request).

Market orders fill at once at the current price (taker). A second ``create_order`` with a client
order id the venue already knows raises :class:`~atb.errors.InvalidOrderError` (as Binance's
``Duplicate clientOrderId``), so a silent re-send is visible. Balances are spot balances changed
by fills; fees are charged in the quote currency (``fee_in_base=True``: buys pay in base). The
venue checks totals, not reservations, so client-side OCO brackets (a stop and take-profits
over the same amount) can rest side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from atb.core.enums import OrderSide, OrderType
from atb.errors import (
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    TemporaryExchangeError,
)
from atb.execution.models import Balance, BookSnapshot, Market, Position, Ticker, TradeTick, VenueOrder
from atb.orders.models import Fill, OrderRequest
from atb.orders.state import OrderStatus, is_terminal

__all__ = ["FakeVenue", "ManualClock"]

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class ManualClock:
    """A clock that moves only when told: ``clock()`` returns a tz-aware UTC datetime.

    Parameters
    ----------
    start : datetime
        First time returned (UTC, default 2024-01-01).
    """

    def __init__(self, start: datetime = _EPOCH) -> None:
        self.now = start

    def __call__(self) -> datetime:
        """The current (manual) time, UTC."""
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward by ``seconds`` (s); returns the new time."""
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


@dataclass(slots=True)
class _Order:
    request: OrderRequest
    venue_order_id: str
    timestamp: int
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    fills: list[Fill] = field(default_factory=list)
    triggered: bool = False


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class FakeVenue:
    """In-process spot venue with controllable faults (see the module docstring).

    Parameters
    ----------
    clock : callable
        Returns the current UTC datetime (fill times, order timestamps).
    markets : sequence of Market, optional
        Default: ``BTC/USDT`` and ``ETH/USDT`` (tick 0.01 quote, step 0.0001 base).
    balances : mapping, optional
        Starting totals per currency (default 100000 USDT).
    prices : mapping, optional
        Starting price per pair, quote currency (default BTC 100, ETH 10).
    fee_in_base : bool
        Buys pay their fee in the base currency (amount received = amount x (1 - fee)).
    venue : str
        Venue id reported as :attr:`venue`.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None, *,
                 markets: Sequence[Market] | None = None,
                 balances: Mapping[str, Decimal] | None = None,
                 prices: Mapping[str, Decimal] | None = None,
                 fee_in_base: bool = False, venue: str = "fake") -> None:
        self.venue = venue
        self._clock = clock or ManualClock()
        mk = markets or [
            Market(pair=p, base=p.split("/")[0], quote="USDT", price_tick=Decimal("0.01"),
                   amount_step=Decimal("0.0001")) for p in ("BTC/USDT", "ETH/USDT")]
        self.markets: dict[str, Market] = {m.pair: m for m in mk}
        self.balances: dict[str, Decimal] = dict(balances or {"USDT": Decimal(100000)})
        self.prices: dict[str, Decimal] = dict(prices or {"BTC/USDT": Decimal(100),
                                                          "ETH/USDT": Decimal(10)})
        self.fee_in_base = fee_in_base
        self.orders: dict[str, _Order] = {}
        #: client order ids in the order ``create_order`` was called (placed or not).
        self.create_calls: list[str] = []
        #: called with the request inside ``create_order``, before anything happens.
        self.on_create: Callable[[OrderRequest], None] | None = None
        self._fail: list[ExchangeError] = []
        self._lose = 0
        self._seq = 0
        self._fill_seq = 0
        self._updates: list[VenueOrder] = []

    # --- test controls --------------------------------------------------------------------------
    def lose_next_response(self, n: int = 1) -> None:
        """The next ``n`` creates place the order, then raise ``TemporaryExchangeError``."""
        self._lose += n

    def fail_next(self, error: ExchangeError | None = None) -> None:
        """The next create raises ``error`` (default ``TemporaryExchangeError``) before placing."""
        self._fail.append(error or TemporaryExchangeError("fake venue: connection reset"))

    def set_price(self, pair: str, price: Decimal) -> list[VenueOrder]:
        """Move the market (quote currency); resting orders the price reaches fill fully."""
        self.prices[pair] = price
        changed = []
        for o in list(self.orders.values()):
            if o.request.pair != pair or is_terminal(o.status):
                continue
            px = self._touch_price(o, price)
            if px is not None:
                changed.append(self._execute(o, o.request.amount - o.filled, px, maker=True))
        return changed

    def fill(self, client_order_id: str, amount: Decimal | None = None,
             price: Decimal | None = None) -> VenueOrder:
        """Fill ``amount`` (default: the rest, base currency) of an order at ``price`` (quote)."""
        o = self._get(client_order_id)
        if is_terminal(o.status):
            raise InvalidOrderError(f"fake venue: order {client_order_id} is {o.status.value}")
        amt = o.request.amount - o.filled if amount is None else amount
        px = price or o.request.price or self.prices[o.request.pair]
        return self._execute(o, amt, px, maker=True)

    def inject_order(self, request: OrderRequest) -> VenueOrder:
        """Place ``request`` directly on the venue (an order the client never recorded)."""
        self._check_request(request)
        return self._place(request)

    def venue_order(self, client_order_id: str) -> VenueOrder:
        """The venue's view of an order (synchronous helper for assertions)."""
        return self._view(self._get(client_order_id))

    # --- internals ------------------------------------------------------------------------------
    def _now(self) -> datetime:
        return self._clock()

    def _get(self, cid: str) -> _Order:
        o = self.orders.get(cid)
        if o is None:
            raise OrderNotFoundError(f"fake venue: order {cid} not found")
        return o

    def _view(self, o: _Order) -> VenueOrder:
        avg = o.cost / o.filled if o.filled > 0 else None
        r = o.request
        return VenueOrder(venue_order_id=o.venue_order_id, client_order_id=r.client_order_id,
                          pair=r.pair, side=r.side, order_type=r.order_type, status=o.status,
                          amount=r.amount, filled=o.filled, price=r.price, average=avg, fee=o.fee,
                          timestamp=o.timestamp, fills=tuple(o.fills))

    def _touch_price(self, o: _Order, price: Decimal) -> Decimal | None:
        r = o.request
        buy = r.side == OrderSide.BUY
        if r.order_type == OrderType.STOP_LIMIT and not o.triggered:
            if r.stop_price is None:
                return None
            if (buy and price >= r.stop_price) or (not buy and price <= r.stop_price):
                o.triggered = True
            else:
                return None
        if r.order_type == OrderType.MARKET:
            return price
        if r.price is None:
            return None
        if (buy and price <= r.price) or (not buy and price >= r.price):
            return r.price
        if r.order_type == OrderType.STOP_LIMIT:
            return r.price if not buy else None  # triggered sell stop: fills at its limit
        return None

    def _check_request(self, r: OrderRequest) -> None:
        m = self.markets.get(r.pair)
        if m is None:
            raise InvalidOrderError(f"fake venue: unknown pair {r.pair}")
        if r.client_order_id in self.orders:
            raise InvalidOrderError(f"fake venue: duplicate clientOrderId {r.client_order_id}")
        if r.amount % m.amount_step != 0:
            raise InvalidOrderError(f"fake venue: amount {r.amount} not a multiple of {m.amount_step}")
        price = r.price or self.prices[r.pair]
        if r.side == OrderSide.BUY:
            if self.balances.get(m.quote, Decimal(0)) < price * r.amount:
                raise InsufficientFundsError(f"fake venue: not enough {m.quote}")
        elif self.balances.get(m.base, Decimal(0)) < r.amount:
            raise InsufficientFundsError(f"fake venue: not enough {m.base}")

    def _place(self, r: OrderRequest) -> VenueOrder:
        self._seq += 1
        o = _Order(request=r, venue_order_id=f"V{self._seq}", timestamp=_ms(self._now()))
        self.orders[r.client_order_id] = o
        px = self._touch_price(o, self.prices[r.pair])
        if px is not None:
            return self._execute(o, r.amount, px, maker=r.order_type != OrderType.MARKET)
        view = self._view(o)
        self._updates.append(view)
        return view

    def _execute(self, o: _Order, amount: Decimal, price: Decimal, *, maker: bool) -> VenueOrder:
        r = o.request
        m = self.markets[r.pair]
        amount = min(amount, r.amount - o.filled)
        if amount <= 0:
            raise InvalidOrderError(f"fake venue: nothing left to fill on {r.client_order_id}")
        rate = m.maker_fee if maker else m.taker_fee
        cost = price * amount
        self._fill_seq += 1
        if r.side == OrderSide.BUY and self.fee_in_base:
            fee, fee_cur = amount * rate, m.base
            self.balances[m.base] = self.balances.get(m.base, Decimal(0)) + amount - fee
            self.balances[m.quote] = self.balances.get(m.quote, Decimal(0)) - cost
        else:
            fee, fee_cur = cost * rate, m.quote
            sign = 1 if r.side == OrderSide.BUY else -1
            self.balances[m.base] = self.balances.get(m.base, Decimal(0)) + sign * amount
            self.balances[m.quote] = self.balances.get(m.quote, Decimal(0)) - sign * cost - fee
        f = Fill(fill_id=f"T{self._fill_seq}", client_order_id=r.client_order_id, pair=r.pair,
                 side=r.side, price=price, amount=amount, fee=fee, fee_currency=fee_cur,
                 is_maker=maker, at=self._now())
        o.fills.append(f)
        o.filled += amount
        o.cost += cost
        o.fee += fee if fee_cur == m.quote else fee * price
        o.status = OrderStatus.FILLED if o.filled >= r.amount else OrderStatus.PARTIALLY_FILLED
        view = self._view(o)
        self._updates.append(view)
        return view

    # --- ExchangeClient -------------------------------------------------------------------------
    async def fetch_time(self) -> int:
        """The injected clock's time, UTC ms."""
        return _ms(self._now())

    async def load_markets(self) -> Mapping[str, Market]:
        """Markets by pair."""
        return dict(self.markets)

    async def fetch_balance(self) -> Mapping[str, Balance]:
        """Spot balances by currency; ``used`` is what open orders reserve."""
        used: dict[str, Decimal] = {}
        for o in self.orders.values():
            if is_terminal(o.status):
                continue
            m = self.markets[o.request.pair]
            left = o.request.amount - o.filled
            if o.request.side == OrderSide.SELL:
                used[m.base] = used.get(m.base, Decimal(0)) + left
            else:
                px = o.request.price or self.prices[o.request.pair]
                used[m.quote] = used.get(m.quote, Decimal(0)) + left * px
        out = {}
        for cur, total in self.balances.items():
            u = min(used.get(cur, Decimal(0)), max(total, Decimal(0)))
            out[cur] = Balance(currency=cur, free=total - u, used=u)
        return out

    async def fetch_ohlcv(self, pair: str, timeframe: str, since_ms: int | None = None,
                          limit: int | None = None) -> list[list[float]]:
        """No candle history on the fake venue."""
        return []

    async def fetch_ticker(self, pair: str) -> Ticker:
        """Bid = ask = last = the current price."""
        p = self.prices[pair]
        return Ticker(pair=pair, timestamp=_ms(self._now()), bid=p, ask=p, last=p)

    async def fetch_order_book(self, pair: str, limit: int | None = None) -> BookSnapshot:
        """One deep level at the current price on each side."""
        p = self.prices[pair]
        big = Decimal(10**9)
        return BookSnapshot(pair=pair, timestamp=_ms(self._now()), bids=((p, big),), asks=((p, big),))

    async def fetch_trades(self, pair: str, since_ms: int | None = None,
                           limit: int | None = None) -> list[TradeTick]:
        """No public trades on the fake venue."""
        return []

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        """Place ``request`` (faults injected by :meth:`fail_next` / :meth:`lose_next_response`)."""
        self.create_calls.append(request.client_order_id)
        if self.on_create is not None:
            self.on_create(request)
        if self._fail:
            raise self._fail.pop(0)
        self._check_request(request)
        view = self._place(request)
        if self._lose:
            self._lose -= 1
            raise TemporaryExchangeError("fake venue: response lost (order was placed)")
        return view

    async def cancel_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """Cancel an open order; a terminal order's final view is returned unchanged."""
        o = self._get(client_order_id)
        if not is_terminal(o.status):
            o.status = OrderStatus.CANCELLED
            self._updates.append(self._view(o))
        return self._view(o)

    async def fetch_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """The venue's view by client order id; ``OrderNotFoundError`` if unknown."""
        return self._view(self._get(client_order_id))

    async def fetch_open_orders(self, pair: str | None = None) -> Sequence[VenueOrder]:
        """Non-terminal orders, optionally of one pair."""
        return [self._view(o) for o in self.orders.values()
                if not is_terminal(o.status) and (pair is None or o.request.pair == pair)]

    async def fetch_my_trades(self, pair: str, since_ms: int | None = None) -> Sequence[Fill]:
        """Our fills of ``pair`` at or after ``since_ms`` (UTC ms), oldest first."""
        out = [f for o in self.orders.values() if o.request.pair == pair for f in o.fills
               if since_ms is None or _ms(f.at) >= since_ms]
        return sorted(out, key=lambda f: (f.at, int(f.fill_id[1:])))

    async def fetch_positions(self) -> Sequence[Position]:
        """Spot venue: no derivatives positions."""
        return []

    async def watch_ohlcv(self, pair: str, timeframe: str) -> list[list[float]]:
        """No candle stream on the fake venue."""
        return []

    async def watch_ticker(self, pair: str) -> Ticker:
        """The current ticker (no waiting)."""
        return await self.fetch_ticker(pair)

    async def watch_orders(self) -> Sequence[VenueOrder]:
        """Every order update since the last call (may be empty; never blocks)."""
        out, self._updates = self._updates, []
        return out

    async def close(self) -> None:
        """Nothing to release."""
