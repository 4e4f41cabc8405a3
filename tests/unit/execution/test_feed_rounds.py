"""ExchangeFeed: all-or-nothing polling rounds, the venue clock; fetch_time of the in-process venues."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from atb.errors import ConfigError, InvalidOrderError, TemporaryExchangeError
from atb.execution.feeds import ExchangeFeed, VenueClock
from atb.execution.paper import PaperExchange, paper_markets
from atb.execution.ports import ExchangeClient
from atb.testing.fake_venue import FakeVenue, ManualClock

H = 3_600_000
T0 = 1_700_000_000_000 // H * H


class ScriptedVenue:
    """``fetch_ohlcv``: candles of every pair opening at T0 + k*H up to the venue time (forming one
    included); ``fetch_time``: the venue time. ``fail`` maps a call number to an error."""

    def __init__(self, now: int) -> None:
        self.venue = "scripted"
        self.now = now
        self.calls: list[str] = []
        self.fail: dict[int, Exception] = {}
        self.time_fail: list[Exception] = []

    async def fetch_ohlcv(self, pair, timeframe, since_ms=None, limit=None):
        self.calls.append(pair)
        err = self.fail.pop(len(self.calls), None)
        if err is not None:
            raise err
        rows = [[t, 1.0, 2.0, 0.5, 1.5, 10.0] for t in range(T0, self.now + 1, H)]
        return rows[-limit:] if limit else rows

    async def fetch_time(self) -> int:
        if self.time_fail:
            raise self.time_fail.pop(0)
        return self.now


def _keys(candles):
    return [((c.open_time_ms - T0) // H, c.pair) for c in candles]


def test_a_failed_pair_rolls_back_the_round_and_yields_nothing(caplog):
    venue = ScriptedVenue(T0 + 3 * H + 5)
    venue.fail[2] = TemporaryExchangeError("ETH/USDT: 502")  # second request of the first round
    feed = ExchangeFeed(venue, ["BTC/USDT", "ETH/USDT"], "1h", since_ms=T0,  # type: ignore[arg-type]
                        now_ms=lambda: venue.now, limit=10)
    with caplog.at_level(logging.WARNING, logger="atb.execution.feeds"):
        assert asyncio.run(feed.poll()) == []
    assert "502" in caplog.text and caplog.records[0].levelno == logging.WARNING
    got = asyncio.run(feed.poll())  # BTC/USDT was read in the failed round: it is read again
    assert _keys(got) == [(0, "BTC/USDT"), (0, "ETH/USDT"), (1, "BTC/USDT"), (1, "ETH/USDT"),
                          (2, "BTC/USDT"), (2, "ETH/USDT")]


def test_any_exchange_error_is_contained_but_other_errors_propagate():
    venue = ScriptedVenue(T0 + 2 * H)
    venue.fail[1] = InvalidOrderError("bad symbol")
    feed = ExchangeFeed(venue, ["BTC/USDT"], "1h", since_ms=T0, now_ms=lambda: venue.now)  # type: ignore[arg-type]
    assert asyncio.run(feed.poll()) == []
    venue.fail[2] = RuntimeError("bug")
    with pytest.raises(RuntimeError):
        asyncio.run(feed.poll())


def test_venue_clock_decides_closes_and_paces_by_poll_interval():
    venue = ScriptedVenue(T0 + 2 * H)  # candles 0 and 1 closed on the venue
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)
        venue.now += H  # the venue moves one candle per round, whatever the wall clock says

    def wall() -> int:
        raise AssertionError("the wall clock is not read on the venue clock")

    feed = ExchangeFeed(venue, ["BTC/USDT"], "1h", since_ms=T0, now_ms=wall, sleep=sleep,  # type: ignore[arg-type]
                        clock="venue", poll_interval_s=0.25)

    async def take(n: int):
        out = []
        async for c in feed:
            out.append(c)
            if len(out) == n:
                return out

    got = asyncio.run(take(4))
    assert _keys(got) == [(0, "BTC/USDT"), (1, "BTC/USDT"), (2, "BTC/USDT"), (3, "BTC/USDT")]
    assert waits == [0.25, 0.25]
    assert feed.venue_clock is not None and feed.venue_clock.now_ms() == T0 + 4 * H


def test_venue_clock_keeps_the_last_good_time_and_waits_for_a_first_one(caplog):
    venue = ScriptedVenue(T0 + 2 * H)
    venue.time_fail = [TemporaryExchangeError("time out")]
    clock = VenueClock(venue)  # type: ignore[arg-type]
    feed = ExchangeFeed(venue, ["BTC/USDT"], "1h", since_ms=T0, clock="venue",  # type: ignore[arg-type]
                        venue_clock=clock)
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(feed.poll()) == []  # no venue time yet: no round
    assert venue.calls == [] and "time out" in caplog.text
    assert len(asyncio.run(feed.poll())) == 2
    venue.now += H
    venue.time_fail = [TemporaryExchangeError("time out")]
    assert asyncio.run(feed.poll()) == []  # old time kept: candle 2 is not closed for the feed
    assert clock.now_ms() == T0 + 2 * H and clock.now() == datetime.fromtimestamp((T0 + 2 * H) / 1000, UTC)
    assert _keys(asyncio.run(feed.poll())) == [(2, "BTC/USDT")]


def test_venue_clock_never_goes_back():
    venue = ScriptedVenue(T0 + 5 * H)
    clock = VenueClock(venue)  # type: ignore[arg-type]
    asyncio.run(clock.refresh())
    venue.now = T0
    assert asyncio.run(clock.refresh()) == T0 + 5 * H


@pytest.mark.parametrize("kwargs", [{"clock": "local"}, {"clock": "venue", "poll_interval_s": -1.0}])
def test_bad_clock_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        ExchangeFeed(ScriptedVenue(T0), ["BTC/USDT"], "1h", **kwargs)  # type: ignore[arg-type]


def test_paper_exchange_time_is_its_feed_clock():
    ex = PaperExchange(paper_markets(["BTC/USDT"]))
    ex.set_price("BTC/USDT", 100.0, T0 + 123)
    assert isinstance(ex, ExchangeClient)
    assert asyncio.run(ex.fetch_time()) == ex.now_ms == T0 + 123


def test_fake_venue_time_is_its_clock():
    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    venue = FakeVenue(clock)
    assert isinstance(venue, ExchangeClient)
    clock.advance(1.5)
    expected = int(datetime(2024, 1, 1, 0, 0, 1, 500_000, tzinfo=UTC).timestamp() * 1000)
    assert asyncio.run(venue.fetch_time()) == expected
