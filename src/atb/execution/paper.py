"""PaperExchange: an in-process venue implementing the ExchangeClient port on fed candles.

The clock is the feed's: :meth:`PaperExchange.on_candle` (a closed candle) and
:meth:`PaperExchange.set_price` (a ticker) move time forward; nothing reads the wall clock, so
replays are deterministic and as fast as the feed. Fills use :mod:`atb.execution.fills`.

Timing (``PaperConfig.fill_mode``):

* ``"next_open"`` (default, backtest parity): the live engine decides when candle ``t`` has
  closed, i.e. at feed time ``close(t) == open(t+1)``. An order placed then is active from
  ``open(t+1)`` and meets candle ``t+1`` when that candle arrives: a market order fills at
  ``open(t+1)`` (plus slippage), fill time ``open(t+1)``, exactly the backtest's entry. Limit
  orders fill at their price when ``low <= price <= high`` (a gap through the price fills at the
  open); a stop-limit triggers when the candle reaches the stop (fills at the stop, or the open
  on a gap) and fills there if the limit allows, else rests as a limit. Market orders wait for a
  candle; tickers (:meth:`set_price`) only match resting limit and stop orders.
* ``"immediate"``: a market order (and a marketable limit) fills when it becomes active at the
  last known price (last ticker or candle close), with slippage.
* ``"bar"`` (candle replay of decisions made on a closed candle): an order that becomes active
  is matched at once against the pair's last closed candle with the candle rules above (a limit
  at a price the candle traded fills at that price; a market order at the candle's close). The
  live engine's replay mode decides on candle ``t`` with the backtest's loop (entries at ``t``'s
  open, stop/ROI exits inside ``t``) and sends limit orders at the loop's prices, which this
  mode fills exactly there: the backtest's trades, through the real order path.

An order is active ``latency_ms`` of feed time after placement; before that the venue does not
know it (``fetch_order``/``cancel_order`` raise :class:`~atb.errors.OrderNotFoundError`,
``create_order`` answers ``submitted``). It meets a candle only if it was active at the candle's
open (intra-candle prices are unknown), so any latency > 0 in ``next_open`` mode moves the fill
one candle later. With ``max_participation`` an order fills at most that fraction of each
candle's volume; the remainder stays open for later candles (IOC: expires; FOK: all or nothing).
Fees are charged in quote currency (maker or taker rate of the market), as in the backtest.
Balances lock the order's funds while it is open (buys: amount x price x (1 + max fee), the last
price for market orders; sells: the amount).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeVar

import pandas as pd

from atb.backtest.markets import MarketInfo, default_market
from atb.backtest.ticks import tick_decimals_for
from atb.errors import ConfigError, DataError, InvalidOrderError, OrderNotFoundError
from atb.execution._paper_book import Bar, OrderBook, PaperOrder
from atb.execution.feeds import Candle
from atb.execution.fills import SlippageModel, to_decimal
from atb.execution.models import Balance, BookSnapshot, Market, Position, Ticker, TradeTick, VenueOrder
from atb.orders.models import Fill, OrderRequest
from atb.orders.state import OrderStatus

__all__ = ["FillMode", "PaperConfig", "PaperExchange", "paper_markets"]

_K = TypeVar("_K")
_V = TypeVar("_V")

#: When orders fill: at the next candle's open (backtest timing), at the last price, or against the
#: last closed candle (replay of decisions made on it).
FillMode = Literal["next_open", "immediate", "bar"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperConfig:
    """Configuration of a :class:`PaperExchange`.

    Attributes
    ----------
    venue : str
        Venue id reported by the exchange.
    fill_mode : FillMode
        ``"next_open"`` (default, the backtest's timing), ``"immediate"`` or ``"bar"``.
    balances : mapping currency -> Decimal
        Starting free balances.
    slippage : SlippageModel
        Market-order slippage (default none, as the backtest).
    max_participation : float or None
        Largest fraction of a candle's volume one order may fill per candle, in (0, 1]; None:
        no cap.
    latency_ms : int
        Feed-time delay from placement to activation, ms (>= 0).
    history : int
        Candles kept per pair for ``fetch_ohlcv``.
    """

    venue: str = "paper"
    fill_mode: FillMode = "next_open"
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    slippage: SlippageModel = field(default_factory=SlippageModel)
    max_participation: float | None = None
    latency_ms: int = 0
    history: int = 1000

    def __post_init__(self) -> None:
        if self.fill_mode not in ("next_open", "immediate", "bar"):
            raise ConfigError(f"paper: invalid value for 'fill_mode': {self.fill_mode!r} "
                              "(next_open, immediate or bar)")
        mp = self.max_participation
        if mp is not None and not (0.0 < mp <= 1.0):
            raise ConfigError(f"paper: invalid value for 'max_participation': {mp!r} (0 < x <= 1)")
        if self.latency_ms < 0:
            raise ConfigError(f"paper: invalid value for 'latency_ms': {self.latency_ms!r} (>= 0)")
        if self.history < 1:
            raise ConfigError(f"paper: invalid value for 'history': {self.history!r} (>= 1)")
        for cur, amount in self.balances.items():
            if to_decimal(amount) < 0:
                raise ConfigError(f"paper: invalid value for 'balances.{cur}': {amount!r} (>= 0)")


def paper_markets(pairs: Sequence[str], infos: Mapping[str, MarketInfo] | None = None, *,
                  fee: float = 0.001, frames: Mapping[str, pd.DataFrame] | None = None
                  ) -> dict[str, Market]:
    """Markets for a paper exchange from the backtest's market rules (``atb.backtest.markets``).

    Parameters
    ----------
    pairs : sequence of str
        ``BASE/QUOTE`` pairs.
    infos : mapping pair -> MarketInfo, optional
        From ``load_markets``; a pair without one gets ``default_market()`` (amount step 1e-8,
        no limits).
    fee : float
        Maker and taker fee ratio when the market has none (the backtest's ``fee``).
    frames : mapping pair -> DataFrame, optional
        Candles; without a market price step the tick is the one the backtest derives from the
        data's latest month (``atb.backtest.ticks``), else ``1e-8``.

    Examples
    --------
    >>> m = paper_markets(["BTC/USDT"])["BTC/USDT"]
    >>> m.amount_step, m.taker_fee
    (Decimal('1E-8'), Decimal('0.001'))
    """
    out: dict[str, Market] = {}
    for pair in pairs:
        base, _, quote = pair.partition("/")
        quote = quote.split(":")[0]
        if not base or not quote:
            raise ConfigError(f"paper markets: invalid pair {pair!r} (BASE/QUOTE)")
        info = (infos or {}).get(pair) or default_market()
        tick = info.price_step
        if tick is None and frames is not None and pair in frames and len(frames[pair]):
            d = int(tick_decimals_for(frames[pair], None)[-1])
            tick = 10.0 ** -d if d >= 0 else None
        rate = to_decimal(float(info.fee if info.fee is not None else fee))
        out[pair] = Market(
            pair=pair, base=base, quote=quote,
            price_tick=to_decimal(float(tick if tick is not None else 1e-8)),
            amount_step=to_decimal(float(info.amount_step)),
            min_amount=to_decimal(float(info.min_amount or 0.0)),
            min_notional=to_decimal(float(info.min_cost or 0.0)),
            maker_fee=rate, taker_fee=rate, active=info.active,
        )
    return out


class PaperExchange:
    """Simulated venue on fed candles/tickers (``ExchangeClient`` port, spot, no network).

    Parameters
    ----------
    markets : mapping pair -> Market
        Tradable pairs (see :func:`paper_markets`).
    config : PaperConfig, optional
        Fill timing, balances, slippage, participation cap, latency.

    Examples
    --------
    >>> from atb.core.enums import OrderSide, OrderType
    >>> from atb.orders.models import OrderRequest
    >>> ex = PaperExchange(paper_markets(["BTC/USDT"]), PaperConfig(balances={"USDT": Decimal(1000)}))
    >>> c0 = Candle(pair="BTC/USDT", timeframe="1h", open_time_ms=0, open=100.0, high=101.0,
    ...             low=99.0, close=100.5, volume=50.0)
    >>> _ = ex.on_candle(c0)
    >>> req = OrderRequest(client_order_id="e1", pair="BTC/USDT", side=OrderSide.BUY,
    ...                    order_type=OrderType.MARKET, amount=Decimal("1"))
    >>> asyncio.run(ex.create_order(req)).status
    <OrderStatus.OPEN: 'open'>
    >>> [(u.status.value, str(u.average)) for u in ex.on_candle(
    ...     Candle(pair="BTC/USDT", timeframe="1h", open_time_ms=3_600_000, open=100.7,
    ...            high=102.0, low=100.1, close=101.0, volume=40.0))]
    [('filled', '100.7')]
    """

    def __init__(self, markets: Mapping[str, Market], config: PaperConfig | None = None) -> None:
        self.config = config or PaperConfig()
        self.venue = self.config.venue
        self.markets: dict[str, Market] = dict(markets)
        self._book = OrderBook(self.config, {k: to_decimal(v) for k, v in self.config.balances.items()})
        self._last_open: dict[str, int] = {}
        self._candles: dict[tuple[str, str], deque[Candle]] = {}
        self._tickers: dict[str, Ticker] = {}
        self._last_volume: dict[str, Decimal] = {}
        self._ohlcv_waiters: dict[tuple[str, str], list[asyncio.Future[list[list[float]]]]] = {}
        self._ticker_waiters: dict[str, list[asyncio.Future[Ticker]]] = {}
        self._updates: asyncio.Queue[VenueOrder] | None = None

    # --- feed side (synchronous, called by the feed) ------------------------------------------

    @property
    def now_ms(self) -> int:
        """Feed time, UTC ms (close time of the latest candle, or the latest ticker time)."""
        return self._book.now_ms

    def on_candle(self, candle: Candle) -> list[VenueOrder]:
        """Process a closed candle: match active orders, then advance the clock to its close.

        Returns the order updates it caused (also queued for :meth:`watch_orders`).

        Raises
        ------
        DataError
            The candle is not newer than the pair's previous candle.
        InvalidOrderError
            The pair is not a market of this exchange.
        """
        self._market(candle.pair)
        if candle.open_time_ms <= self._last_open.get(candle.pair, -math.inf):
            raise DataError(f"paper: candle {candle.pair} {candle.timeframe} at {candle.open_time_ms} "
                            "is not newer than the previous one")
        self._last_open[candle.pair] = candle.open_time_ms
        bar = Bar(open=to_decimal(candle.open), high=to_decimal(candle.high), low=to_decimal(candle.low),
                  close=to_decimal(candle.close), volume=to_decimal(candle.volume),
                  at_ms=candle.open_time_ms)
        updates = self._book.on_bar(candle.pair, bar, is_candle=True)
        self._candles.setdefault((candle.pair, candle.timeframe),
                                 deque(maxlen=self.config.history)).append(candle)
        close = to_decimal(candle.close)
        ticker = Ticker(pair=candle.pair, timestamp=candle.close_time_ms, bid=close, ask=close, last=close)
        updates += self._book.advance(candle.pair, close, bar.volume, candle.close_time_ms)
        self._tickers[candle.pair] = ticker
        self._last_volume[candle.pair] = bar.volume or Decimal(0)
        self._wake(self._ohlcv_waiters, (candle.pair, candle.timeframe), [candle.as_list()])
        self._wake(self._ticker_waiters, candle.pair, ticker)
        return self._publish(updates)

    def set_price(self, pair: str, price: Decimal | float, timestamp_ms: int, *,
                  bid: Decimal | float | None = None, ask: Decimal | float | None = None
                  ) -> list[VenueOrder]:
        """A ticker: last ``price`` (quote currency) at ``timestamp_ms`` (UTC ms).

        Resting limit/stop orders are matched against the price; in ``immediate`` mode pending
        market orders fill at it. The clock moves to ``timestamp_ms`` (never backwards).
        """
        self._market(pair)
        p = to_decimal(price)
        ticker = Ticker(pair=pair, timestamp=int(timestamp_ms), last=p,
                        bid=to_decimal(bid) if bid is not None else p,
                        ask=to_decimal(ask) if ask is not None else p)
        self._tickers[pair] = ticker
        bar = Bar(open=p, high=p, low=p, close=p, volume=None, at_ms=int(timestamp_ms))
        updates = self._book.on_bar(pair, bar, is_candle=False)
        updates += self._book.advance(pair, p, None, int(timestamp_ms))
        self._wake(self._ticker_waiters, pair, ticker)
        return self._publish(updates)

    def advance_to(self, now_ms: int) -> list[VenueOrder]:
        """Move the clock to ``now_ms`` without prices (activates orders whose latency passed)."""
        return self._publish(self._book.advance(None, None, None, int(now_ms)))

    # --- ExchangeClient port ------------------------------------------------------------------

    async def fetch_time(self) -> int:
        """The feed clock (:attr:`now_ms`), UTC ms."""
        return self.now_ms

    async def load_markets(self) -> Mapping[str, Market]:
        """Markets by pair."""
        return dict(self.markets)

    async def fetch_balance(self) -> Mapping[str, Balance]:
        """Balances by currency (free and locked by open orders)."""
        return self._book.balances()

    async def fetch_ohlcv(self, pair: str, timeframe: str, since_ms: int | None = None,
                          limit: int | None = None) -> list[list[float]]:
        """Candles fed so far (all closed), oldest first."""
        rows = [c.as_list() for c in self._candles.get((pair, timeframe), ())
                if since_ms is None or c.open_time_ms >= since_ms]
        return rows[-limit:] if limit else rows

    async def fetch_ticker(self, pair: str) -> Ticker:
        """Last ticker (from ``set_price`` or the last candle's close); all None before data."""
        self._market(pair)
        return self._tickers.get(pair) or Ticker(pair=pair, timestamp=self.now_ms, bid=None, ask=None,
                                                 last=None)

    async def fetch_order_book(self, pair: str, limit: int | None = None) -> BookSnapshot:
        """One level each side at the last price, sized by the last candle's volume."""
        t = await self.fetch_ticker(pair)
        size = self._last_volume.get(pair, Decimal(0))
        bids = ((t.bid, size),) if t.bid is not None else ()
        asks = ((t.ask, size),) if t.ask is not None else ()
        return BookSnapshot(pair=pair, timestamp=t.timestamp, bids=bids, asks=asks)

    async def fetch_trades(self, pair: str, since_ms: int | None = None,
                           limit: int | None = None) -> list[TradeTick]:
        """Public trades: none (the paper venue has no trade tape)."""
        self._market(pair)
        return []

    async def create_order(self, request: OrderRequest) -> VenueOrder:
        """Place an order; validation and funds checks run at placement on the last price.

        Raises
        ------
        InvalidOrderError
            Unknown/inactive pair, duplicate client order id, amount/price off the market's
            step/tick or below its minimums, a post-only order that would take, a market order
            before any price is known.
        InsufficientFundsError
            Free balance does not cover the order.
        """
        market = self._market(request.pair)
        order, updates = self._book.place(request, market)
        self._publish(updates)
        return order.view()

    async def cancel_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """Cancel; a terminal order's final view is returned unchanged (it raced)."""
        order = self._visible(pair, client_order_id)
        self._publish(self._book.finish(order, OrderStatus.CANCELLED))
        return order.view()

    async def fetch_order(self, pair: str, client_order_id: str) -> VenueOrder:
        """The order by client id; ``OrderNotFoundError`` if unknown or still in flight."""
        return self._visible(pair, client_order_id).view()

    async def fetch_open_orders(self, pair: str | None = None) -> Sequence[VenueOrder]:
        """Active, non-terminal orders (of ``pair``), in placement order."""
        return [o.view() for o in self._book.open_orders(pair) if o.active_ms <= self.now_ms]

    async def fetch_my_trades(self, pair: str, since_ms: int | None = None) -> Sequence[Fill]:
        """Our fills of ``pair`` (at or after ``since_ms``), in execution order."""
        return self._book.fills(pair, since_ms)

    async def fetch_positions(self) -> Sequence[Position]:
        """Spot venue: no positions."""
        return []

    async def watch_ohlcv(self, pair: str, timeframe: str) -> list[list[float]]:
        """The next candle fed for ``pair``/``timeframe``."""
        return await self._wait(self._ohlcv_waiters, (pair, timeframe))

    async def watch_ticker(self, pair: str) -> Ticker:
        """The next ticker of ``pair`` (from a candle close or ``set_price``)."""
        return await self._wait(self._ticker_waiters, pair)

    async def watch_orders(self) -> Sequence[VenueOrder]:
        """Next batch of order updates (queued from the first call on)."""
        if self._updates is None:
            self._updates = asyncio.Queue()
        batch = [await self._updates.get()]
        while not self._updates.empty():
            batch.append(self._updates.get_nowait())
        return batch

    async def close(self) -> None:
        """Cancel pending ``watch_*`` waiters."""
        for ohlcv in self._ohlcv_waiters.values():
            for f in ohlcv:
                f.cancel()
        for tickers in self._ticker_waiters.values():
            for g in tickers:
                g.cancel()
        self._ohlcv_waiters.clear()
        self._ticker_waiters.clear()

    # --- internals ----------------------------------------------------------------------------

    def _market(self, pair: str) -> Market:
        market = self.markets.get(pair)
        if market is None:
            raise InvalidOrderError(f"paper: unknown pair {pair!r}")
        return market

    def _visible(self, pair: str, client_order_id: str) -> PaperOrder:
        order = self._book.get(client_order_id)
        if order is None or order.request.pair != pair or order.active_ms > self.now_ms:
            raise OrderNotFoundError(f"paper: order {client_order_id!r} of {pair} not found")
        return order

    def _publish(self, updates: list[VenueOrder]) -> list[VenueOrder]:
        if self._updates is not None:
            for u in updates:
                self._updates.put_nowait(u)
        return updates

    @staticmethod
    def _wake(waiters: dict[_K, list[asyncio.Future[_V]]], key: _K, value: _V) -> None:
        for fut in waiters.pop(key, []):
            if not fut.done():
                fut.set_result(value)

    @staticmethod
    async def _wait(waiters: dict[_K, list[asyncio.Future[_V]]], key: _K) -> _V:
        fut: asyncio.Future[_V] = asyncio.get_running_loop().create_future()
        waiters.setdefault(key, []).append(fut)
        return await fut

