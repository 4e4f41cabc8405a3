"""Candle feeds: replay order across pairs, pacing, sink push, polling a venue once per close."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pandas as pd
import pytest

from atb.core.enums import OrderSide, OrderType
from atb.errors import ConfigError, DataError
from atb.execution.feeds import Candle, ExchangeFeed, ReplayFeed
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.orders.models import OrderRequest

DATA = "/work/shared/data/binance"
H = 3_600_000


def _frame(path: str, n: int, skip: int = 0) -> pd.DataFrame:
    return pd.read_feather(f"{DATA}/{path}").iloc[skip:skip + n].reset_index(drop=True)


async def _collect(feed, limit: int | None = None) -> list[Candle]:
    out = []
    async for c in feed:
        out.append(c)
        if limit is not None and len(out) >= limit:
            break
    return out


def test_candle_record():
    c = Candle(pair="BTC/USDT", timeframe="5m", open_time_ms=300_000, open=1.0, high=2.0, low=0.5,
               close=1.5, volume=10.0)
    assert c.close_time_ms == 600_000
    assert c.as_list() == [300_000, 1.0, 2.0, 0.5, 1.5, 10.0]


def test_replay_orders_by_time_then_pair():
    btc = _frame("BTC_USDT-1h.feather", 4)
    eth = _frame("ETH_USDT-1h.feather", 4, skip=1)  # starts one candle later
    sol = _frame("SOL_USDT-1h.feather", 2)
    feed = ReplayFeed({"ETH/USDT": eth, "BTC/USDT": btc, "SOL/USDT": sol}, "1h")
    got = [(c.open_time_ms, c.pair) for c in asyncio.run(_collect(feed))]
    assert got == sorted(got)
    t0 = int(btc["date"].iloc[0].value // 1_000_000)
    assert got[:6] == [(t0, "BTC/USDT"), (t0, "SOL/USDT"), (t0 + H, "BTC/USDT"), (t0 + H, "ETH/USDT"),
                       (t0 + H, "SOL/USDT"), (t0 + 2 * H, "BTC/USDT")]
    assert len(got) == len(feed) == 10
    first = got.index((t0 + H, "ETH/USDT"))
    c = list(feed.candles())[first]
    row = eth.iloc[0]
    assert (c.open, c.high, c.low, c.close, c.volume) == (row.open, row.high, row.low, row.close,
                                                          row.volume)


def test_replay_from_datadir_with_window():
    full = ReplayFeed.from_datadir(DATA, ["BTC/USDT", "ETH/USDT"], "1h")
    first = next(full.candles())
    assert first.pair == "BTC/USDT" and first.timeframe == "1h"
    window = ReplayFeed.from_datadir(DATA, ["BTC/USDT"], "1h", start_ms=first.open_time_ms + 2 * H,
                                     end_ms=first.open_time_ms + 4 * H)
    assert [c.open_time_ms - first.open_time_ms for c in window.candles()] == [2 * H, 3 * H, 4 * H]


def test_replay_pushes_into_the_exchange_before_yielding():
    btc = _frame("BTC_USDT-1h.feather", 4)
    ex = PaperExchange(paper_markets(["BTC/USDT"]), PaperConfig(balances={"USDT": Decimal(10**6)}))

    async def trade() -> list[tuple[int, Decimal | None]]:
        seen = []
        async for c in ReplayFeed({"BTC/USDT": btc}, "1h", sink=ex):
            assert ex.now_ms == c.close_time_ms  # the exchange has processed the candle
            if len(seen) == 0:
                await ex.create_order(OrderRequest(
                    client_order_id="e1", pair="BTC/USDT", side=OrderSide.BUY,
                    order_type=OrderType.MARKET, amount=Decimal("0.01")))
            order = await ex.fetch_order("BTC/USDT", "e1")
            seen.append((c.open_time_ms, order.average))
        return seen

    seen = asyncio.run(trade())
    assert [a for _, a in seen] == [None] + [Decimal(repr(float(btc["open"].iloc[1])))] * 3


def test_replay_speed_paces_candle_periods():
    btc = _frame("BTC_USDT-1h.feather", 5)
    eth = _frame("ETH_USDT-1h.feather", 5)
    t = time.perf_counter()
    n = asyncio.run(ReplayFeed({"BTC/USDT": btc, "ETH/USDT": eth}, "1h", speed=50.0).drain())
    elapsed = time.perf_counter() - t
    assert n == 10
    assert elapsed >= 4 / 50 - 0.01  # 5 periods -> 4 waits of 1/50 s, pairs of one period together
    with pytest.raises(ConfigError):
        ReplayFeed({"BTC/USDT": btc}, "1h", speed=-1.0)


def test_replay_rejects_bad_frames():
    btc = _frame("BTC_USDT-1h.feather", 3)
    with pytest.raises(DataError):
        ReplayFeed({"BTC/USDT": btc.iloc[::-1]}, "1h")
    with pytest.raises(DataError):
        ReplayFeed({"BTC/USDT": btc.drop(columns=["volume"])}, "1h")


class _FakeVenue:
    """Minimal ``fetch_ohlcv`` venue: the candles of a frame up to the fake clock, plus the forming one."""

    def __init__(self, frames: dict[str, pd.DataFrame], clock: list[int]) -> None:
        self.rows = {p: [[int(r.date.value // 1_000_000), r.open, r.high, r.low, r.close, r.volume]
                         for r in df.itertuples()] for p, df in frames.items()}
        self.clock = clock
        self.calls = 0

    async def fetch_ohlcv(self, pair, timeframe, since_ms=None, limit=None):
        self.calls += 1
        rows = [r for r in self.rows[pair] if r[0] <= self.clock[0]]  # includes the forming candle
        return rows[-limit:] if limit else rows


def test_exchange_feed_yields_each_closed_candle_once():
    btc = _frame("BTC_USDT-1h.feather", 8)
    eth = _frame("ETH_USDT-1h.feather", 8)
    t0 = int(btc["date"].iloc[0].value // 1_000_000)
    clock = [t0 + 3 * H + 10_000]  # candles 0..2 closed, candle 3 forming
    venue = _FakeVenue({"BTC/USDT": btc, "ETH/USDT": eth}, clock)
    waits: list[float] = []

    async def fake_sleep(s: float) -> None:
        waits.append(s)
        clock[0] += H  # one more candle closes per wait

    feed = ExchangeFeed(venue, ["ETH/USDT", "BTC/USDT"], "1h",  # type: ignore[arg-type]
                        now_ms=lambda: clock[0], sleep=fake_sleep, limit=3)
    got = asyncio.run(_collect(feed, limit=6))
    # nothing closed before the first poll is yielded; then 3:00, 4:00, 5:00 for both pairs
    assert [(c.open_time_ms - t0, c.pair) for c in got] == [
        (3 * H, "BTC/USDT"), (3 * H, "ETH/USDT"), (4 * H, "BTC/USDT"), (4 * H, "ETH/USDT"),
        (5 * H, "BTC/USDT"), (5 * H, "ETH/USDT")]
    assert waits[0] == pytest.approx((H - 10_000) / 1000 + 2.0)  # to the next close + grace
    assert got[0].close == btc["close"].iloc[3]


def test_exchange_feed_backfills_since_and_pushes_to_a_paper_exchange():
    btc = _frame("BTC_USDT-1h.feather", 6)
    t0 = int(btc["date"].iloc[0].value // 1_000_000)
    clock = [t0 + 4 * H + 5]
    venue = _FakeVenue({"BTC/USDT": btc}, clock)
    ex = PaperExchange(paper_markets(["BTC/USDT"]))

    async def never(s: float) -> None:
        raise AssertionError("no sleep expected")

    feed = ExchangeFeed(venue, ["BTC/USDT"], "1h", since_ms=t0 + H, sink=ex,  # type: ignore[arg-type]
                        now_ms=lambda: clock[0], sleep=never, limit=10)
    got = asyncio.run(_collect(feed, limit=3))
    assert [c.open_time_ms - t0 for c in got] == [H, 2 * H, 3 * H]  # 4:00 is still forming
    assert ex.now_ms == t0 + 4 * H  # pushed into the exchange
    assert asyncio.run(feed.poll()) == []  # each candle once
    with pytest.raises(ConfigError):
        ExchangeFeed(venue, [], "1h")  # type: ignore[arg-type]
