"""The exchange port: what the live engine, the order manager and reconciliation need of a venue.

Adapters: :mod:`atb.execution.paper` (in-process simulated venue) and :mod:`atb.execution.ccxt`
(any ccxt exchange, REST and websocket). Every method is a coroutine; errors are
:mod:`atb.errors` ``ExchangeError`` subclasses (retry on ``TemporaryExchangeError``, skip on
``InvalidOrderError``/``InsufficientFundsError``, reconcile on ``OrderNotFoundError``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from atb.execution.models import Balance, BookSnapshot, Market, Position, Ticker, TradeTick, VenueOrder
from atb.orders.models import Fill, OrderRequest

__all__ = ["ExchangeClient"]


@runtime_checkable
class ExchangeClient(Protocol):
    """Async venue protocol (ccxt's unified API, typed).

    Candles are lists ``[open_time_ms, open, high, low, close, volume]`` (floats, UTC ms), as ccxt
    returns them. ``watch_*`` return the next update (ccxt.pro semantics: call again for the next).
    """

    venue: str

    async def fetch_time(self) -> int:
        """The venue's current time, UTC ms (a simulated venue: its simulated clock)."""
        ...

    async def load_markets(self) -> Mapping[str, Market]:
        """Markets by pair."""
        ...

    async def fetch_balance(self) -> Mapping[str, Balance]:
        """Balances by currency."""
        ...

    async def fetch_ohlcv(self, pair: str, timeframe: str, since_ms: int | None = None,
                          limit: int | None = None) -> list[list[float]]:
        """Closed and forming candles, oldest first."""
        ...

    async def fetch_ticker(self, pair: str) -> Ticker:
        """Best bid/ask and last price."""
        ...

    async def fetch_order_book(self, pair: str, limit: int | None = None) -> BookSnapshot:
        """Order book snapshot."""
        ...

    async def fetch_trades(self, pair: str, since_ms: int | None = None,
                           limit: int | None = None) -> list[TradeTick]:
        """Public trades."""
        ...

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        """Place ``request``; the venue's view of it after placement."""
        ...

    async def cancel_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """Cancel by client order id; the venue's final view (may be filled if it raced)."""
        ...

    async def fetch_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """The venue's view by client order id; ``OrderNotFoundError`` if it never arrived."""
        ...

    async def fetch_open_orders(self, pair: str | None = None) -> Sequence[VenueOrder]:
        """Orders still open on the venue."""
        ...

    async def fetch_my_trades(self, pair: str, since_ms: int | None = None) -> Sequence[Fill]:
        """Our executions."""
        ...

    async def fetch_positions(self) -> Sequence[Position]:
        """Open derivatives positions (empty for spot)."""
        ...

    async def watch_ohlcv(self, pair: str, timeframe: str) -> list[list[float]]:
        """Next candle update(s) of a pair."""
        ...

    async def watch_ticker(self, pair: str) -> Ticker:
        """Next ticker update."""
        ...

    async def watch_orders(self) -> Sequence[VenueOrder]:
        """Next batch of updates of our orders."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
