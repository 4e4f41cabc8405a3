"""The ccxt adapter of the exchange port: REST via ``ccxt.async_support``, ``watch_*`` via ``ccxt.pro``.

Every venue call goes through the same path: the venue's :class:`CircuitBreaker` admits it (or
fails fast with ``CircuitOpenError``), ccxt sends it (``enableRateLimit`` spaces requests), a
ccxt exception is mapped to :mod:`atb.errors` (:mod:`~atb.execution.ccxt.errors`), and a
temporary error is retried with bounded exponential backoff + jitter, honouring ``Retry-After``
(:mod:`~atb.execution.ccxt.retry`). Venue quirks come from the capability table
(:mod:`~atb.execution.ccxt.capabilities`), never from branches on the venue name.

Idempotent order creation (crash safety)
----------------------------------------
A create whose answer is lost (timeout, disconnect, 5xx, 429, malformed body) leaves the order
in an unknown state: the venue may have placed it. Resending blindly can double a position, so
:meth:`CcxtExchange.create_order` does this:

1. every attempt sends the *same* client order id (``OrderRequest.client_order_id``, written to
   the store before the first send), under the venue's parameter name (``newClientOrderId`` on
   binance, ``clientOrderId`` through ccxt's unified params elsewhere);
2. before attempt ``n >= 2`` it looks the order up by that client id (``fetch_order`` with the
   venue's client-id parameter, or a scan of open then recent closed orders where the venue
   cannot look up by client id). Found: that order is the result, nothing is resent. The venue
   answers "not found": the first send never arrived, so the order is resent. The lookup
   itself fails temporarily: that attempt counts as failed and the next one looks up again;
3. a resend the venue refuses as a duplicate client id (it raced the lookup) is resolved by one
   more lookup, which returns the existing order;
4. when attempts or the time budget run out, the last error is raised: the caller keeps the
   order ``submitted`` and reconciliation (``fetch_order`` by client id) resolves it later.

So an order is placed at most once per client id on venues that can be queried by it, and on
venues that reject duplicate ids. A venue that can do neither is told apart by the capability
table and the lookup raises ``ExchangeError`` (ambiguous) rather than resending.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from atb.config.secrets import Credentials
from atb.core.enums import OrderSide
from atb.errors import (
    AtbError,
    ConfigError,
    ExchangeError,
    InvalidOrderError,
    OrderNotFoundError,
    TemporaryExchangeError,
)
from atb.execution.ccxt import convert
from atb.execution.ccxt.breaker import CircuitBreaker
from atb.execution.ccxt.capabilities import VenueCapabilities, capabilities_for
from atb.execution.ccxt.errors import DuplicateClientOrderIdError, is_malformed, map_ccxt_error
from atb.execution.ccxt.params import order_args
from atb.execution.ccxt.retry import RetryPolicy, run_with_retry
from atb.execution.models import Balance, BookSnapshot, Market, Position, Ticker, TradeTick, VenueOrder
from atb.orders.models import Fill, OrderRequest

__all__ = ["CcxtExchange", "create_ccxt_exchange"]

T = TypeVar("T")
U = TypeVar("U")
Sleep = Callable[[float], Awaitable[None]]


#: What parsing a venue answer may raise when the answer is not what ccxt documents.
_PARSE_ERRORS = (AttributeError, KeyError, TypeError, ValueError, ArithmeticError, AtbError)


def _as_is(result: Any) -> Any:
    return result


def _parse_time(raw: Any) -> int:
    """A ``fetch_time`` answer as int UTC ms; ``ValueError`` when it is not a finite number."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ValueError(f"{raw!r} is not a time in ms")
    return int(raw)


class CcxtExchange:
    """:class:`~atb.execution.ports.ExchangeClient` over a ccxt exchange instance.

    Parameters
    ----------
    exchange : ccxt.async_support.Exchange
        The REST client (or any object with the same coroutine methods, ``id``, ``has``,
        ``precisionMode``, ``amount_to_precision``, ``price_to_precision``, ``milliseconds``).
    capabilities : VenueCapabilities, optional
        Venue quirks; default: the table's entry for ``exchange.id``.
    credentials : Credentials, optional
        Only used to redact error messages (the exchange is already configured with them).
    ws_exchange : ccxt.pro.Exchange, optional
        Websocket client for ``watch_*``; without it (or when ``has[...]`` is false) the
        ``watch_*`` methods poll REST every ``poll_interval_s``.
    retry : RetryPolicy, optional
        Retry bounds (default :class:`RetryPolicy`).
    breaker : CircuitBreaker, optional
        The venue's breaker (default: 5 consecutive failures, 30 s cool-down).
    sleep : callable, optional
        Async sleep used between retries and polls (tests inject a fake).
    poll_interval_s : float
        Polling period of the REST fallback of ``watch_*``, seconds.
    """

    def __init__(self, exchange: Any, *, capabilities: VenueCapabilities | None = None,
                 credentials: Credentials | None = None, ws_exchange: Any | None = None,
                 retry: RetryPolicy | None = None, breaker: CircuitBreaker | None = None,
                 sleep: Sleep = asyncio.sleep, poll_interval_s: float = 1.0) -> None:
        self.venue: str = str(exchange.id)
        self._rest = exchange
        self._ws: Any = ws_exchange
        self.capabilities = capabilities or capabilities_for(self.venue)
        self._credentials = credentials
        self.retry_policy = retry or RetryPolicy()
        self.breaker = breaker or CircuitBreaker(self.venue)
        self._sleep = sleep
        self._poll_interval_s = poll_interval_s
        self._markets: dict[str, Market] | None = None
        self._reload_markets = False
        self._seen_orders: dict[str, tuple[str, str]] = {}

    # -- the call path -------------------------------------------------------------------

    async def _attempt(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """One breaker-guarded call; ccxt errors mapped; health recorded."""
        result: T = await self._attempt_parsed(fn, _as_is, *args, **kwargs)
        return result

    async def _attempt_parsed(self, fn: Callable[..., Awaitable[Any]], parse: Callable[[Any], U],
                              *args: Any, **kwargs: Any) -> U:
        """:meth:`_attempt` whose answer must survive ``parse`` (else a malformed response)."""
        self.breaker.before_call()
        try:
            result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            self.breaker.release()
            raise
        except Exception as exc:
            err = map_ccxt_error(exc, venue=self.venue, credentials=self._credentials,
                                 headers=getattr(self._rest, "last_response_headers", None))
            if isinstance(err, TemporaryExchangeError):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()  # the venue answered: it is healthy
            raise err from exc
        name = getattr(fn, "__name__", "call")
        if is_malformed(result):
            self.breaker.record_failure()
            raise TemporaryExchangeError(f"{self.venue}: malformed response (body was not the JSON "
                                         f"ccxt expects) to {name}")
        try:
            parsed = parse(result)
        except _PARSE_ERRORS as exc:
            self.breaker.record_failure()
            raise TemporaryExchangeError(f"{self.venue}: malformed response to {name}: "
                                         f"{type(exc).__name__}: {exc}") from exc
        self.breaker.record_success()
        return parsed

    async def _call(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """:meth:`_attempt` with bounded retries of temporary errors."""
        return await self._retry(lambda _n: self._attempt(fn, *args, **kwargs))

    async def _retry(self, attempt: Callable[[int], Awaitable[T]]) -> T:
        return await run_with_retry(attempt, self.retry_policy, sleep=self._sleep,
                                    allow=lambda: self.breaker.state != "open")

    # -- markets and market data ---------------------------------------------------------

    async def fetch_time(self) -> int:
        """The venue's server time, UTC ms (ccxt ``fetch_time``, retried like any call).

        A venue without a time endpoint (ccxt ``has["fetchTime"]`` false) answers with the local
        clock (ccxt ``milliseconds()``).

        Raises
        ------
        TemporaryExchangeError
            The venue could not be reached, or answered something that is not a number (a
            malformed body ccxt parsed to None), after the retries.
        """
        if not (getattr(self._rest, "has", {}) or {}).get("fetchTime"):
            return self._now_ms()
        return await self._retry(lambda _n: self._attempt_parsed(self._rest.fetch_time, _parse_time))

    async def load_markets(self) -> Mapping[str, Market]:
        """Markets by pair, with ccxt's precision and limits (cached after the first good answer).

        Raises
        ------
        TemporaryExchangeError
            The venue answered no market or an answer that does not parse (a malformed or empty
            ``exchangeInfo``), after the retries. Nothing is cached: the next call asks again.
        """
        if self._markets is None:
            self._markets = await self._retry(self._load_markets_once)
        return self._markets

    async def _load_markets_once(self, _n: int) -> dict[str, Market]:
        # ccxt keeps whatever it parsed (even nothing) unless asked to reload
        args = (True,) if self._reload_markets else ()
        mode = int(getattr(self._rest, "precisionMode", 4))

        def parse(raw: Any) -> dict[str, Market]:
            markets = {str(pair): convert.to_market(m, mode) for pair, m in raw.items()}
            if not markets:
                raise ValueError("no markets")
            return markets

        self._reload_markets = True
        markets = await self._attempt_parsed(self._rest.load_markets, parse, *args)
        self._reload_markets = False
        return markets

    async def fetch_balance(self) -> Mapping[str, Balance]:
        """Balances by currency."""
        return convert.to_balances(await self._call(self._rest.fetch_balance))

    async def fetch_ohlcv(self, pair: str, timeframe: str, since_ms: int | None = None,
                          limit: int | None = None) -> list[list[float]]:
        """Candles ``[open_time_ms, open, high, low, close, volume]``, oldest first."""
        return list(await self._call(self._rest.fetch_ohlcv, pair, timeframe, since_ms, limit))

    async def fetch_ticker(self, pair: str) -> Ticker:
        """Best bid/ask and last price."""
        return convert.to_ticker(await self._call(self._rest.fetch_ticker, pair), self._now_ms())

    async def fetch_order_book(self, pair: str, limit: int | None = None) -> BookSnapshot:
        """Order book snapshot."""
        raw = await self._call(self._rest.fetch_order_book, pair, limit)
        return convert.to_book(raw, pair, self._now_ms())

    async def fetch_trades(self, pair: str, since_ms: int | None = None,
                           limit: int | None = None) -> list[TradeTick]:
        """Public trades."""
        return [convert.to_trade_tick(t) for t in await self._call(self._rest.fetch_trades, pair,
                                                                    since_ms, limit)]

    # -- orders --------------------------------------------------------------------------

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        """Place ``request`` exactly once, retrying idempotently (see the module docstring).

        Raises
        ------
        InvalidOrderError, InsufficientFundsError
            The venue refused the order (not retried).
        TemporaryExchangeError
            Retries exhausted; the order's fate is unknown until reconciliation.
        """
        await self.load_markets()
        ccxt_type, amount, price, params = order_args(self._rest, self.capabilities, request)

        async def attempt(n: int) -> Any:
            if n > 1:
                found = await self._lookup(request.pair, request.client_order_id)
                if found is not None:
                    return found
            try:
                return await self._attempt(self._rest.create_order, request.pair, ccxt_type,
                                           request.side.value, amount, price, dict(params))
            except DuplicateClientOrderIdError:
                found = await self._lookup(request.pair, request.client_order_id)
                if found is None:
                    raise
                return found

        raw = await self._retry(attempt)
        return convert.to_venue_order(raw, fallback=request)

    async def _lookup(self, pair: str, client_order_id: str) -> Any | None:
        """One lookup by client id (no retry loop): the raw ccxt order, or None if unknown.

        Raises
        ------
        TemporaryExchangeError
            The lookup failed transiently (the caller's retry loop decides).
        ExchangeError
            The venue can neither be queried by client id nor list closed orders.
        """
        caps = self.capabilities
        if caps.fetch_by_client_id:
            try:
                return await self._attempt(self._rest.fetch_order, "", pair,
                                           {caps.fetch_client_id_param: client_order_id})
            except OrderNotFoundError:
                return None
        for order in await self._attempt(self._rest.fetch_open_orders, pair):
            if order.get("clientOrderId") == client_order_id:
                return order
        has = getattr(self._rest, "has", {}) or {}
        if has.get("fetchClosedOrders"):
            closed = await self._attempt(self._rest.fetch_closed_orders, pair, None,
                                         caps.closed_orders_scan_limit)
        elif has.get("fetchOrders"):
            closed = await self._attempt(self._rest.fetch_orders, pair, None, caps.closed_orders_scan_limit)
        elif caps.rejects_duplicate_client_id:
            return None  # a resend is refused as a duplicate if the first send arrived
        else:
            raise ExchangeError(f"{self.venue}: cannot tell whether order {client_order_id} exists "
                                "(no lookup by client id, no closed-order history); reconcile it")
        for order in closed:
            if order.get("clientOrderId") == client_order_id:
                return order
        return None

    async def fetch_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """The venue's view of the order with this client id.

        Raises
        ------
        OrderNotFoundError
            The venue does not know it (it never arrived, or it is older than the scan window).
        """
        raw = await self._retry(lambda _n: self._lookup(pair, client_order_id))
        if raw is None:
            raise OrderNotFoundError(f"{self.venue}: no order with client id {client_order_id} on {pair}")
        return convert.to_venue_order(raw)

    async def cancel_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """Cancel by client id; the final view (filled, if the cancel raced a fill).

        Raises
        ------
        OrderNotFoundError
            The venue knows no order with this client id.
        """
        caps = self.capabilities

        async def attempt(_n: int) -> Any:
            if caps.fetch_by_client_id:
                return await self._attempt(self._rest.cancel_order, "", pair,
                                           {caps.fetch_client_id_param: client_order_id})
            found = await self._lookup(pair, client_order_id)
            if found is None:
                raise OrderNotFoundError(f"{self.venue}: no order with client id {client_order_id}")
            return await self._attempt(self._rest.cancel_order, found["id"], pair)

        try:
            raw = await self._retry(attempt)
        except (OrderNotFoundError, InvalidOrderError):
            # already filled/cancelled (or cancelled by our own earlier attempt): report its state
            return await self.fetch_order(pair, client_order_id)
        order = convert.to_venue_order(raw)
        if raw.get("status") is None or not order.client_order_id:
            return await self.fetch_order(pair, client_order_id)  # partial acknowledgement
        return order

    async def fetch_open_orders(self, pair: str | None = None) -> Sequence[VenueOrder]:
        """Orders still open on the venue (all pairs when ``pair`` is None)."""
        return [convert.to_venue_order(o) for o in await self._call(self._rest.fetch_open_orders, pair)]

    async def fetch_my_trades(self, pair: str, since_ms: int | None = None) -> Sequence[Fill]:
        """Our executions; ``client_order_id`` is the venue's when ccxt reports it, else its order id."""
        rows = await self._call(self._rest.fetch_my_trades, pair, since_ms)
        fills = (convert.to_fill(t, client_order_id=str(t.get("clientOrderId") or t.get("order") or ""),
                                 side=OrderSide(t.get("side") or "buy")) for t in rows)
        return [f for f in fills if f is not None]

    async def fetch_positions(self) -> Sequence[Position]:
        """Open derivatives positions (empty when the venue has no ``fetchPositions``)."""
        if not (getattr(self._rest, "has", {}) or {}).get("fetchPositions"):
            return []
        return convert.to_positions(await self._call(self._rest.fetch_positions))

    # -- streams -------------------------------------------------------------------------

    def _ws_has(self, feature: str) -> bool:
        return bool((getattr(self._ws, "has", {}) or {}).get(feature))

    async def watch_ohlcv(self, pair: str, timeframe: str) -> list[list[float]]:
        """Next candle update(s): websocket when available, else a REST poll."""
        if self._ws_has("watchOHLCV"):
            return list(await self._call(self._ws.watch_ohlcv, pair, timeframe))
        await self._sleep(self._poll_interval_s)
        return await self.fetch_ohlcv(pair, timeframe, limit=2)

    async def watch_ticker(self, pair: str) -> Ticker:
        """Next ticker update: websocket when available, else a REST poll."""
        if self._ws_has("watchTicker"):
            raw = await self._call(self._ws.watch_ticker, pair)
            return convert.to_ticker(raw, self._now_ms())
        await self._sleep(self._poll_interval_s)
        return await self.fetch_ticker(pair)

    async def watch_orders(self) -> Sequence[VenueOrder]:
        """Next batch of order updates; without websocket, open orders whose state changed."""
        if self._ws_has("watchOrders"):
            return [convert.to_venue_order(o) for o in await self._call(self._ws.watch_orders)]
        while True:
            await self._sleep(self._poll_interval_s)
            changed = []
            for order in await self.fetch_open_orders():
                key = (order.status.value, str(order.filled))
                if self._seen_orders.get(order.client_order_id) != key:
                    self._seen_orders[order.client_order_id] = key
                    changed.append(order)
            if changed:
                return changed

    def _now_ms(self) -> int:
        now = getattr(self._rest, "milliseconds", None)
        return int(now()) if callable(now) else int(time.time() * 1000)

    async def close(self) -> None:
        """Close the REST and websocket sessions."""
        try:
            await self._rest.close()
        finally:
            if self._ws is not None:
                await self._ws.close()


def create_ccxt_exchange(exchange_id: str, *, credentials: Credentials | None = None,
                         config_overrides: Mapping[str, Any] | None = None,
                         capabilities: VenueCapabilities | None = None, retry: RetryPolicy | None = None,
                         breaker: CircuitBreaker | None = None, websocket: bool | None = None,
                         sleep: Sleep = asyncio.sleep) -> CcxtExchange:
    """Build a :class:`CcxtExchange` for a ccxt exchange id (composition roots only).

    Parameters
    ----------
    exchange_id : str
        ccxt id (``"binance"``, ``"kraken"``, ``"coinbase"``, ...).
    credentials : Credentials, optional
        API keys (:func:`atb.config.secrets.load_credentials`); None for public data only.
    config_overrides : mapping, optional
        Extra ccxt constructor config (``options``, ``urls``, ``timeout`` in ms, ...).
        ``enableRateLimit`` is on unless overridden.
    capabilities, retry, breaker, sleep
        As :class:`CcxtExchange`.
    websocket : bool, optional
        Create a ``ccxt.pro`` client for ``watch_*`` (default: the capability table's choice,
        when ccxt.pro has this id).

    Raises
    ------
    ConfigError
        ``exchange_id`` is not a ccxt exchange.

    Examples
    --------
    >>> import asyncio
    >>> ex = create_ccxt_exchange("binance")
    >>> ex.venue, ex.capabilities.client_order_id_param
    ('binance', 'newClientOrderId')
    >>> asyncio.run(ex.close())
    """
    if exchange_id not in ccxt.exchanges:
        raise ConfigError(f"invalid value for 'exchange': {exchange_id!r} is not a ccxt exchange id")
    caps = capabilities or capabilities_for(exchange_id)
    config: dict[str, Any] = {"enableRateLimit": True, **(config_overrides or {})}
    if credentials is not None:
        config.update(credentials.ccxt_config())
    rest = getattr(ccxt_async, exchange_id)(config)
    use_ws = caps.websocket if websocket is None else websocket
    ws = getattr(ccxt_pro, exchange_id)(config) if use_ws and hasattr(ccxt_pro, exchange_id) else None
    return CcxtExchange(rest, capabilities=caps, credentials=credentials, ws_exchange=ws, retry=retry,
                        breaker=breaker, sleep=sleep)
