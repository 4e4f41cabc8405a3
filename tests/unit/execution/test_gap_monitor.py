"""PriceGapMonitor: polling books/tickers and watching tickers into the arbitrage detector."""

from __future__ import annotations

import asyncio
import doctest
import logging
from decimal import Decimal as D

import pytest

import atb.execution.gap_monitor as gap_monitor_mod
from atb.errors import ConfigError, TemporaryExchangeError
from atb.execution.gap_monitor import PriceGapMonitor
from atb.execution.models import BookSnapshot, Market, Ticker
from atb.execution.paper import PaperConfig, PaperExchange

PAIR = "BTC/USDT"


def mk(fee: str = "0.001") -> Market:
    return Market(pair=PAIR, base="BTC", quote="USDT", price_tick=D("0.01"), amount_step=D("0.001"),
                  taker_fee=D(fee), maker_fee=D(fee))


class Feed:
    """A venue's public data: a settable book, or a failure."""

    def __init__(self, bid: str, ask: str, size: str = "1", ts: int = 1_000) -> None:
        self.set(bid, ask, size, ts)
        self.fail: Exception | None = None
        self.calls = 0

    def set(self, bid: str, ask: str, size: str = "1", ts: int = 1_000) -> None:
        self.book = BookSnapshot(pair=PAIR, timestamp=ts, bids=((D(bid), D(size)),),
                                 asks=((D(ask), D(size)), (D(ask) + 1, D(size))))

    async def fetch_order_book(self, pair, limit=None):
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return self.book

    async def fetch_ticker(self, pair):
        b = self.book
        return Ticker(pair=pair, timestamp=b.timestamp, bid=b.bids[0][0], ask=b.asks[0][0], last=None)


def markets(*venues: str, fee: str = "0.001") -> dict[str, dict[str, Market]]:
    return {v: {PAIR: mk(fee)} for v in venues}


def test_module_doctest():
    assert doctest.testmod(gap_monitor_mod).failed == 0


def test_poll_books_finds_the_gap_with_amount_and_alerts_sync_and_async_callbacks():
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1", size="0.5")}
    seen: list = []

    async def async_alert(gap):
        seen.append(("async", gap.buy_venue))

    monitor = PriceGapMonitor(feeds, markets("a", "b"), on_gap=lambda g: seen.append(("sync", g.sell_venue)))
    monitor.add_callback(async_alert)
    (gap,) = asyncio.run(monitor.poll_once(PAIR))
    assert (gap.buy_venue, gap.sell_venue, gap.buy_price, gap.sell_price) == ("a", "b", D(100), D(101))
    assert gap.amount == D("0.5") and gap.expected_profit is not None and gap.expected_profit > 0
    assert seen == [("sync", "b"), ("async", "a")]
    assert feeds["a"].calls == feeds["b"].calls == 1 and monitor.errors == {}


def test_fees_and_min_net_bps_filter_gaps():
    feeds = {"a": Feed("99.9", "100"), "b": Feed("100.15", "100.3")}  # 15 bps gross
    assert asyncio.run(PriceGapMonitor(feeds, markets("a", "b", fee="0.001")).poll_once(PAIR)) == []
    assert len(asyncio.run(PriceGapMonitor(feeds, markets("a", "b", fee="0")).poll_once(PAIR))) == 1
    strict = PriceGapMonitor(feeds, markets("a", "b", fee="0"), min_net_bps=D(20))
    assert asyncio.run(strict.poll_once(PAIR)) == []


def test_failing_venue_is_reported_and_its_quote_ages_out():
    now = [1_000]
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1")}
    monitor = PriceGapMonitor(feeds, markets("a", "b"), max_age_ms=500, clock=lambda: now[0])
    assert len(asyncio.run(monitor.poll_once(PAIR))) == 1
    feeds["b"].fail = TemporaryExchangeError("timeout")
    feeds["a"].set("99.9", "100", ts=1_400)
    now[0] = 1_400
    assert len(asyncio.run(monitor.poll_once(PAIR))) == 1  # b's quote is 400 ms old: still fresh
    assert "TemporaryExchangeError" in monitor.errors["b"]
    feeds["a"].set("99.9", "100", ts=1_600)
    now[0] = 1_600
    assert asyncio.run(monitor.poll_once(PAIR)) == []  # b's quote is stale now
    feeds["b"].fail = None
    feeds["b"].set("101", "101.1", ts=1_600)
    assert len(asyncio.run(monitor.poll_once(PAIR))) == 1 and monitor.errors == {}


def test_ticker_source_has_no_amounts():
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1")}
    (gap,) = asyncio.run(PriceGapMonitor(feeds, markets("a", "b"), source="ticker").poll_once(PAIR))
    assert gap.amount is None and gap.expected_profit is None and gap.net_bps > 0
    assert feeds["a"].calls == 0


def test_only_venues_listing_the_pair_are_polled():
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1"), "c": Feed("1", "2")}
    mkts = {**markets("a", "b"), "c": {}}
    monitor = PriceGapMonitor(feeds, mkts)
    assert monitor.venues(PAIR) == ["a", "b"]
    asyncio.run(monitor.poll_once(PAIR))
    assert feeds["c"].calls == 0


def test_failing_callback_is_logged_and_detection_goes_on(caplog):
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1")}

    def broken(gap):
        raise RuntimeError("notifier down")

    monitor = PriceGapMonitor(feeds, markets("a", "b"), on_gap=broken)
    with caplog.at_level(logging.ERROR, logger="atb.execution.gap_monitor"):
        assert len(asyncio.run(monitor.poll_once(PAIR))) == 1
    assert "alert callback" in caplog.text


def test_stream_polls_at_the_interval():
    feeds = {"a": Feed("99.9", "100"), "b": Feed("101", "101.1")}
    sleeps: list[float] = []

    async def fake_sleep(s):
        sleeps.append(s)
        feeds["b"].set("99.95", "100.05")  # the gap closes after the first poll

    async def collect():
        monitor = PriceGapMonitor(feeds, markets("a", "b"))
        return [len(g) async for g in monitor.stream(PAIR, interval_s=0.25, max_polls=3, sleep=fake_sleep)]

    assert asyncio.run(collect()) == [1, 0, 0] and sleeps == [0.25, 0.25]


def test_watch_follows_paper_tickers_and_cancels_watchers_on_exit():
    mkts = {PAIR: mk()}
    a = PaperExchange(mkts, PaperConfig(venue="a"))
    b = PaperExchange(mkts, PaperConfig(venue="b"))

    async def scenario():
        monitor = PriceGapMonitor({"a": a, "b": b}, {"a": mkts, "b": mkts}, max_age_ms=10_000)
        stream = monitor.watch(PAIR)
        results = []

        async def feed():
            await asyncio.sleep(0)
            a.set_price(PAIR, 100, 1_000, bid=99.9, ask=100)
            await asyncio.sleep(0)
            b.set_price(PAIR, 101, 1_100, bid=101, ask=101.1)

        feeder = asyncio.create_task(feed())
        async for gaps in stream:
            results.append([(g.buy_venue, g.sell_venue) for g in gaps])
            if gaps:
                break
        await stream.aclose()
        await feeder
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return results, leftover

    results, leftover = asyncio.run(scenario())
    assert results == [[], [("a", "b")]]
    assert leftover == []  # the per-venue watcher tasks were cancelled


def test_invalid_configuration():
    feeds = {"a": Feed("1", "2")}
    with pytest.raises(ConfigError, match="exchanges"):
        PriceGapMonitor(feeds, markets("a", "b"))
    with pytest.raises(ConfigError, match="source"):
        PriceGapMonitor(feeds, markets("a"), source="trades")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="book_depth"):
        PriceGapMonitor(feeds, markets("a"), book_depth=0)
    with pytest.raises(ConfigError, match="max_age_ms"):
        PriceGapMonitor(feeds, markets("a"), max_age_ms=0)
