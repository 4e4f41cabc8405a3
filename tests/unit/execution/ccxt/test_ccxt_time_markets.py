"""CcxtExchange.fetch_time (venue time through retries/breaker) and load_markets on bad answers."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest
from ccxt_fakes import FakeCcxt, FakeSleep, make_client

from atb.errors import TemporaryExchangeError


class TimedCcxt(FakeCcxt):
    """FakeCcxt with ``fetch_time`` answers and scripted ``load_markets`` answers."""

    def __init__(self, times: list[Any], markets: list[Any] | None = None) -> None:
        super().__init__(has={"fetchTime": True})
        self.times = list(times)
        self.market_answers = list(markets or [])
        self.reload_args: list[tuple[Any, ...]] = []

    async def fetch_time(self) -> Any:
        self._raise("fetch_time")
        return self.times.pop(0)

    async def load_markets(self, *args: Any) -> dict[str, Any]:
        self.reload_args.append(args)
        if self.market_answers:
            self._raise("load_markets")
            return self.market_answers.pop(0)
        return await super().load_markets()


def run(coro):
    return asyncio.run(coro)


def test_fetch_time_returns_the_venue_time_as_int_ms():
    assert run(make_client(TimedCcxt([1_700_000_123_456.0])).fetch_time()) == 1_700_000_123_456


def test_fetch_time_retries_temporary_errors():
    fake = TimedCcxt([1_700_000_000_000])
    fake.faults["fetch_time"] = [ccxt.RequestTimeout("binance GET /time timed out")]
    sleep = FakeSleep()
    assert run(make_client(fake, sleep=sleep).fetch_time()) == 1_700_000_000_000
    assert fake.calls["fetch_time"] == 2 and len(sleep.delays) == 1


@pytest.mark.parametrize("body", [None, "garbage", True, float("nan"), {"info": "{\"serverTi"}])
def test_fetch_time_malformed_answer_is_temporary_not_none(body):
    fake = TimedCcxt([body, body, body])
    client = make_client(fake, attempts=3)
    with pytest.raises(TemporaryExchangeError, match="fetch_time"):
        run(client.fetch_time())
    assert fake.calls["fetch_time"] == 3
    assert client.breaker.consecutive_failures == 3


def test_fetch_time_malformed_then_good_answer_is_retried():
    assert run(make_client(TimedCcxt([None, 1_700_000_000_000])).fetch_time()) == 1_700_000_000_000


def test_fetch_time_without_a_time_endpoint_is_the_client_clock():
    fake = FakeCcxt()  # has no fetchTime
    assert run(make_client(fake).fetch_time()) == fake.milliseconds()


@pytest.mark.parametrize("bad", [{}, "not json", {"BTC/USDT": {"base": "BTC"}}, None])
def test_load_markets_bad_answer_is_temporary_and_not_cached(bad):
    fake = TimedCcxt([], markets=[bad, bad])
    client = make_client(fake, attempts=2)
    with pytest.raises(TemporaryExchangeError, match="load_markets"):
        run(client.load_markets())
    markets = run(client.load_markets())  # the next call asks again (and the venue answers)
    assert list(markets) == ["BTC/USDT"]
    # after a bad answer ccxt is asked to reload (it caches whatever it parsed)
    assert fake.reload_args == [(), (True,), (True,)]
    run(client.load_markets())
    assert len(fake.reload_args) == 3  # a good answer is cached


def test_load_markets_retries_an_empty_answer_within_one_call():
    fake = TimedCcxt([], markets=[{}])
    assert list(run(make_client(fake).load_markets())) == ["BTC/USDT"]
    assert fake.reload_args == [(), (True,)]
