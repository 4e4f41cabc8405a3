"""Watch one pair on several venues and report cross-venue price gaps (detection only, never trades).

:class:`PriceGapMonitor` feeds an :class:`~atb.execution.arbitrage.ArbitrageDetector` from the
exchange port, in one of two ways:

* polling: :meth:`PriceGapMonitor.poll_once` fetches every venue's order book (``source="book"``,
  gaps with executable amount and expected profit) or ticker (``source="ticker"``, top of book
  only) concurrently; :meth:`PriceGapMonitor.stream` repeats it every ``interval_s``;
* push: :meth:`PriceGapMonitor.watch` follows every venue's ``watch_ticker`` and re-evaluates on
  each update.

A venue whose fetch fails is left out of that round and named in :attr:`PriceGapMonitor.errors`;
its previous quote ages out after ``max_age_ms``. Every gap found is also passed to the
``on_gap`` callbacks (alerts: a notifier, a log line, a metric); a failing callback is logged and
does not stop the monitor. The monitor never places, cancels or sizes an order.

Examples
--------
>>> import asyncio
>>> from decimal import Decimal as D
>>> from atb.execution.paper import PaperExchange, paper_markets
>>> markets = paper_markets(["BTC/USDT"], fee=0.001)
>>> a, b = PaperExchange(markets), PaperExchange(markets)
>>> _ = a.set_price("BTC/USDT", 100, 0, bid=99.9, ask=100)
>>> _ = b.set_price("BTC/USDT", 101, 0, bid=101, ask=101.1)
>>> monitor = PriceGapMonitor({"a": a, "b": b}, {"a": markets, "b": markets}, source="ticker")
>>> [(g.buy_venue, g.sell_venue, round(g.net_bps)) for g in asyncio.run(monitor.poll_once("BTC/USDT"))]
[('a', 'b', 80)]
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Literal

from atb.errors import ConfigError
from atb.execution.arbitrage import ArbitrageDetector, PriceGap
from atb.execution.models import BookSnapshot, Market, Ticker
from atb.execution.ports import ExchangeClient

__all__ = ["GapCallback", "PriceGapMonitor", "QuoteSource"]

_log = logging.getLogger(__name__)

#: Called with each gap found; may be a coroutine function.
GapCallback = Callable[[PriceGap], Awaitable[None] | None]
#: What :meth:`PriceGapMonitor.poll_once` fetches per venue.
QuoteSource = Literal["book", "ticker"]


class PriceGapMonitor:
    """Poll or watch one pair on several venues and feed an arbitrage detector.

    Parameters
    ----------
    exchanges : Mapping[str, ExchangeClient]
        Market-data client per venue.
    markets : Mapping[str, Mapping[str, Market]]
        Trading rules by venue, then by pair (taker fees, steps, minimums); a venue is watched for
        a pair only when it has that pair's market.
    min_net_bps : Decimal, default 0
        Basis points; smallest top-of-book net gap (after both taker fees) reported.
    max_age_ms : int, default 5000
        Milliseconds; quotes older than this against "now" are ignored.
    clock : Callable[[], int], optional
        Returns now as UTC ms; without it "now" is the newest quote's timestamp (event time).
    source : {"book", "ticker"}, default "book"
        What polling fetches: order books (executable amount, expected profit) or tickers.
    book_depth : int, default 20
        Levels per side requested when polling books.
    on_gap : GapCallback, optional
        First alert callback; more with :meth:`add_callback`.

    Raises
    ------
    ConfigError
        A venue of ``markets`` without an exchange, ``source`` unknown, ``book_depth`` or
        ``max_age_ms`` not > 0.
    """

    def __init__(self, exchanges: Mapping[str, ExchangeClient],
                 markets: Mapping[str, Mapping[str, Market]], *, min_net_bps: Decimal = Decimal(0),
                 max_age_ms: int = 5_000, clock: Callable[[], int] | None = None,
                 source: QuoteSource = "book", book_depth: int = 20,
                 on_gap: GapCallback | None = None) -> None:
        missing = sorted(set(markets) - set(exchanges))
        if missing:
            raise ConfigError(f"gap monitor: missing value for 'exchanges': no client for {missing}")
        if source not in ("book", "ticker"):
            raise ConfigError(f"gap monitor: invalid value for 'source': {source!r} (book or ticker)")
        if not book_depth > 0:
            raise ConfigError(f"gap monitor: invalid value for 'book_depth': {book_depth!r} (must be > 0)")
        self.exchanges = dict(exchanges)
        self.markets = markets
        self.source: QuoteSource = source
        self.book_depth = book_depth
        self.detector = ArbitrageDetector(markets, min_net_bps=min_net_bps, max_age_ms=max_age_ms,
                                          clock=clock)
        self._callbacks: list[GapCallback] = [on_gap] if on_gap is not None else []
        self._errors: dict[str, str] = {}

    @property
    def errors(self) -> Mapping[str, str]:
        """Venue -> reason of its latest failed fetch or watch (cleared by its next success)."""
        return dict(self._errors)

    def venues(self, pair: str) -> list[str]:
        """Venues with a market for ``pair``, sorted."""
        return sorted(v for v, m in self.markets.items() if pair in m)

    def add_callback(self, callback: GapCallback) -> None:
        """Register an alert callback, called with every gap found (in order of discovery)."""
        self._callbacks.append(callback)

    async def poll_once(self, pair: str) -> list[PriceGap]:
        """Fetch every venue's quote of ``pair`` concurrently; the current gaps.

        Returns
        -------
        list[PriceGap]
            As :func:`~atb.execution.arbitrage.detect_price_gaps` over the fresh quotes (largest
            expected profit first); also passed to the callbacks.
        """
        venues = self.venues(pair)
        results = await asyncio.gather(*(self._fetch(v, pair) for v in venues), return_exceptions=True)
        for venue, res in zip(venues, results, strict=True):
            if isinstance(res, BaseException):
                if not isinstance(res, Exception):
                    raise res  # cancellation is never swallowed
                self._fail(venue, res)
            else:
                self._errors.pop(venue, None)
                self.detector.update(venue, res)
        gaps = self.detector.gaps(pair)
        await self._alert(gaps)
        return gaps

    async def stream(self, pair: str, *, interval_s: float = 1.0, max_polls: int | None = None,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                     ) -> AsyncIterator[list[PriceGap]]:
        """Poll ``pair`` every ``interval_s`` seconds and yield each round's gaps (possibly empty).

        Parameters
        ----------
        pair : str
            ``BASE/QUOTE``.
        interval_s : float, default 1.0
            Seconds between the end of one poll and the start of the next.
        max_polls : int, optional
            Stop after this many polls; None: until the consumer stops iterating.
        sleep : callable, default asyncio.sleep
            Awaitable sleep (inject a fake in tests).
        """
        polls = 0
        while max_polls is None or polls < max_polls:
            if polls:
                await sleep(interval_s)
            yield await self.poll_once(pair)
            polls += 1

    async def watch(self, pair: str, *, retry_s: float = 1.0) -> AsyncIterator[list[PriceGap]]:
        """Follow every venue's ``watch_ticker`` of ``pair``; yield the gaps after each update.

        A venue whose watch fails is recorded in :attr:`errors` and retried after ``retry_s``
        seconds. The watcher tasks are cancelled when the consumer stops iterating (``break``
        or ``aclose``).
        """
        queue: asyncio.Queue[tuple[str, Ticker]] = asyncio.Queue()
        tasks = [asyncio.create_task(self._watch_venue(v, pair, queue, retry_s)) for v in self.venues(pair)]
        try:
            while True:
                venue, ticker = await queue.get()
                self.detector.update(venue, ticker)
                gaps = self.detector.gaps(pair)
                await self._alert(gaps)
                yield gaps
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals ------------------------------------------------------------------------------
    async def _fetch(self, venue: str, pair: str) -> BookSnapshot | Ticker:
        client = self.exchanges[venue]
        if self.source == "book":
            return await client.fetch_order_book(pair, self.book_depth)
        return await client.fetch_ticker(pair)

    async def _watch_venue(self, venue: str, pair: str, queue: asyncio.Queue[tuple[str, Ticker]],
                           retry_s: float) -> None:
        client = self.exchanges[venue]
        while True:
            try:
                ticker = await client.watch_ticker(pair)
            except Exception as exc:  # noqa: BLE001 - any venue failure: record, retry later
                self._fail(venue, exc)
                await asyncio.sleep(retry_s)
                continue
            self._errors.pop(venue, None)
            queue.put_nowait((venue, ticker))

    def _fail(self, venue: str, exc: Exception) -> None:
        self._errors[venue] = f"{type(exc).__name__}: {exc}"
        _log.warning("gap monitor: %s quote failed: %s", venue, self._errors[venue])

    async def _alert(self, gaps: list[PriceGap]) -> None:
        for gap in gaps:
            for callback in self._callbacks:
                try:
                    res = callback(gap)
                    if inspect.isawaitable(res):
                        await res
                except Exception:  # an alert must not stop detection
                    _log.exception("gap monitor: alert callback %r failed", callback)
