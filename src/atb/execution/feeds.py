"""Candle feeds for paper and live trading: replay of recorded candles, polling of a venue.

Both feeds are async iterators of closed :class:`Candle` records (one per pair and candle, each
once, when it has closed) and can push every candle into a :class:`CandleSink` (a
:class:`~atb.execution.paper.PaperExchange`) before handing it to the consumer, so that orders
placed after candle ``t`` closed meet candle ``t+1`` in the exchange before the strategy sees it.

* :class:`ReplayFeed` replays frames (``atb.data.history`` loaders, feather files) in time order
  across pairs, then by pair name, as fast as possible or at a chosen speed. The clock is the
  data's: replays are deterministic.
* :class:`ExchangeFeed` polls ``fetch_ohlcv`` of any :class:`~atb.execution.ports.ExchangeClient`
  (ccxt public data for paper trading on live data) and yields each candle once it has closed,
  on the wall clock or on the venue's own clock (``clock="venue"``, :class:`VenueClock`).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_msecs
from atb.data.history import load_pair_history
from atb.errors import ConfigError, DataError, ExchangeError
from atb.execution.ports import ExchangeClient

__all__ = ["Candle", "CandleSink", "ExchangeFeed", "ReplayFeed", "VenueClock"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle:
    """One closed candle of one pair, the record every feed yields.

    Attributes
    ----------
    pair : str
        ``BASE/QUOTE``.
    timeframe : str
        ``"5m"``, ``"1h"``, ...
    open_time_ms : int
        Candle open time, UTC ms (the candle covers ``[open_time_ms, close_time_ms)``).
    open, high, low, close : float
        Prices in quote currency (the data's floats; the order path converts them with
        ``Decimal(repr(x))``).
    volume : float
        Traded volume in base currency.
    """

    pair: str
    timeframe: str
    open_time_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def close_time_ms(self) -> int:
        """End of the candle (= open time of the next), UTC ms."""
        return self.open_time_ms + timeframe_to_msecs(self.timeframe)

    def as_list(self) -> list[float]:
        """Ccxt's ``[open_time_ms, open, high, low, close, volume]``."""
        return [self.open_time_ms, self.open, self.high, self.low, self.close, self.volume]


class CandleSink(Protocol):
    """Receiver of closed candles (``PaperExchange.on_candle``)."""

    def on_candle(self, candle: Candle) -> Any:
        """Process one closed candle."""
        ...


def _frame_arrays(frame: pd.DataFrame, pair: str) -> tuple[np.ndarray, np.ndarray]:
    """Open times (UTC ms, int64) and an (n, 5) float64 OHLCV matrix of one frame."""
    missing = [c for c in ("date", "open", "high", "low", "close", "volume") if c not in frame.columns]
    if missing:
        raise DataError(f"replay feed: frame of {pair} lacks columns {missing}")
    dates = pd.to_datetime(frame["date"], utc=True)
    ms = (dates.dt.tz_localize(None).to_numpy("datetime64[ms]").astype(np.int64))
    ohlcv = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
    if ms.size > 1 and not bool(np.all(np.diff(ms) > 0)):
        raise DataError(f"replay feed: candles of {pair} are not strictly increasing in time")
    return ms, ohlcv


class ReplayFeed:
    """Replay recorded candles as closed candles, in time order then pair name.

    Parameters
    ----------
    frames : mapping pair -> DataFrame
        OHLCV frames (``date`` tz-aware UTC open time, ``open``/``high``/``low``/``close``/
        ``volume``), strictly increasing dates.
    timeframe : str
        Timeframe of every frame.
    speed : float
        0 = as fast as possible (the loop still yields to other tasks after each candle);
        ``N`` > 0 = ``N`` candle periods per wall second (all pairs' candles of one open time are
        emitted together, then the feed waits ``1/N`` s, paced against a monotonic schedule).
    sink : CandleSink or None
        Receives each candle (``sink.on_candle(candle)``) before it is yielded.
    start_ms, end_ms : int or None
        Only candles with ``start_ms <= open_time_ms <= end_ms`` (UTC ms).

    Examples
    --------
    >>> import asyncio
    >>> df = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC"),
    ...                    "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0})
    >>> async def first_pairs():
    ...     return [c.pair async for c in ReplayFeed({"B/USDT": df, "A/USDT": df}, "1h")]
    >>> asyncio.run(first_pairs())
    ['A/USDT', 'B/USDT', 'A/USDT', 'B/USDT']
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], timeframe: str, *, speed: float = 0.0,
                 sink: CandleSink | None = None, start_ms: int | None = None,
                 end_ms: int | None = None) -> None:
        if not (speed >= 0.0) or np.isinf(speed):
            raise ConfigError(f"replay feed: invalid value for 'speed': {speed!r} (>= 0)")
        timeframe_to_msecs(timeframe)  # validates
        self.timeframe = timeframe
        self.speed = float(speed)
        self.sink = sink
        self._data = {pair: _frame_arrays(df, pair) for pair, df in frames.items()}
        self._start_ms = start_ms
        self._end_ms = end_ms

    @classmethod
    def from_datadir(cls, datadir: Path, pairs: Sequence[str], timeframe: str, *,
                     timerange: Any = None, **kwargs: Any) -> ReplayFeed:
        """Build from freqtrade-layout files (``<BASE>_<QUOTE>-<tf>.feather``) in ``datadir``.

        Candles are loaded with :func:`atb.data.history.load_pair_history` (cleaned, gaps
        filled); ``kwargs`` go to the constructor.
        """
        frames = {p: load_pair_history(Path(datadir), p, timeframe, timerange=timerange) for p in pairs}
        return cls(frames, timeframe, **kwargs)

    def _rows(self, pair: str) -> Iterator[tuple[int, str, int]]:
        ms, _ = self._data[pair]
        lo = 0 if self._start_ms is None else int(np.searchsorted(ms, self._start_ms, "left"))
        hi = ms.size if self._end_ms is None else int(np.searchsorted(ms, self._end_ms, "right"))
        for i in range(lo, hi):
            yield int(ms[i]), pair, i

    def candles(self) -> Iterator[Candle]:
        """The candles in replay order (synchronous, no pacing, no sink)."""
        streams = [self._rows(p) for p in sorted(self._data)]
        for t, pair, i in heapq.merge(*streams):
            o, h, lo, c, v = self._data[pair][1][i]
            yield Candle(pair=pair, timeframe=self.timeframe, open_time_ms=t, open=float(o),
                         high=float(h), low=float(lo), close=float(c), volume=float(v))

    def __len__(self) -> int:
        return sum(1 for _ in self.candles())

    async def __aiter__(self) -> AsyncIterator[Candle]:
        """Yield the candles in order, pushing each into the sink first, paced by ``speed``."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        steps = 0
        last_t: int | None = None
        for candle in self.candles():
            if self.speed > 0.0 and candle.open_time_ms != last_t:
                if last_t is not None:
                    steps += 1
                    delay = t0 + steps / self.speed - loop.time()
                    await asyncio.sleep(max(delay, 0.0))
                last_t = candle.open_time_ms
            else:
                await asyncio.sleep(0)
            if self.sink is not None:
                self.sink.on_candle(candle)
            yield candle

    async def drain(self) -> int:
        """Push every candle into the sink without a consumer; the number of candles."""
        n = 0
        async for _ in self:
            n += 1
        return n


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class VenueClock:
    """The venue's time (UTC ms) as last read from ``client.fetch_time()``; never goes back.

    Held by an :class:`ExchangeFeed` with ``clock="venue"`` (refreshed once per polling round)
    and shared with whatever must stamp events on the venue's time line (the order manager's
    clock, the risk engine's). Before the first successful :meth:`refresh` the time is 0.

    Parameters
    ----------
    client : ExchangeClient
        The venue whose ``fetch_time`` is read.

    Examples
    --------
    >>> import asyncio
    >>> from atb.execution.paper import PaperExchange
    >>> venue = PaperExchange({})
    >>> venue.advance_to(1_700_000_000_000)
    []
    >>> clock = VenueClock(venue)
    >>> asyncio.run(clock.refresh()), clock.now().isoformat()
    (1700000000000, '2023-11-14T22:13:20+00:00')
    """

    def __init__(self, client: ExchangeClient) -> None:
        self.client = client
        self.ms = 0

    async def refresh(self) -> int:
        """Read the venue's time; on an ``ExchangeError`` keep the last value (logged, not raised)."""
        try:
            ms = await self.client.fetch_time()
        except ExchangeError as exc:
            _log.warning("venue clock of %s not refreshed (keeping %d): %s: %s",
                         getattr(self.client, "venue", "venue"), self.ms, type(exc).__name__, exc)
            return self.ms
        self.ms = max(self.ms, int(ms))
        return self.ms

    def now_ms(self) -> int:
        """Last venue time read, UTC ms (0 before the first read)."""
        return self.ms

    def now(self) -> datetime:
        """Last venue time read, tz-aware UTC datetime."""
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)


class ExchangeFeed:
    """Closed candles of ``pairs`` polled from an exchange client, each yielded once.

    Each round calls ``fetch_ohlcv(pair, timeframe, limit=limit)`` for every pair and yields the
    candles that have closed (``open_time + timeframe <= now``) and were not yielded before, in
    time order then pair name.

    A round is all or nothing: when one pair's request fails with an ``ExchangeError`` (after the
    adapter's own retries), the pairs already read in that round are rolled back, the round yields
    nothing and the failure is logged at WARNING (:mod:`logging`, logger ``atb.execution.feeds``);
    the next round reads them again. So a failed request never skips a candle, never splits a
    candle group across rounds, and never ends the iteration.

    Which clock decides that a candle has closed (``clock``):

    * ``"wall"`` (default): ``now_ms()`` (the local wall clock unless injected). After a round the
      feed sleeps until the next candle boundary plus ``grace_s`` (or ``retry_s`` when a pair's
      last closed candle was missing: the venue had not published it).
    * ``"venue"``: the venue's own time, read with ``client.fetch_time()`` once at the start of
      every round (the last good value is kept when that fails; no round runs before the first
      good read). The feed waits ``poll_interval_s`` between rounds. Use it when the venue's time
      is not the wall clock (an exchange emulator replaying history, e.g.
      :class:`~atb.testing.emulator.BinanceEmulator`) or when the local clock cannot be trusted:
      candles are yielded as soon as the venue has moved past them, however fast it moves.
      :attr:`venue_clock` holds that time for other components (order and risk clocks).

    Parameters
    ----------
    client : ExchangeClient
        Any venue (ccxt public endpoints, or a :class:`~atb.execution.paper.PaperExchange`).
    pairs : sequence of str
    timeframe : str
    since_ms : int or None
        Yield closed candles with ``open_time_ms >= since_ms`` first (backfill, up to
        ``limit`` per pair); None: only candles that close after the first poll.
    sink : CandleSink or None
        Receives each candle before it is yielded.
    limit : int
        Candles requested per poll.
    grace_s, retry_s : float
        Wall clock: wait after a boundary before polling; re-poll interval while a candle is missing.
    now_ms : callable
        Wall clock, UTC ms (default: wall time). Injected for tests and simulated time.
    sleep : callable
        ``await sleep(seconds)`` (default :func:`asyncio.sleep`).
    clock : {"wall", "venue"}
        Which time decides candle closes and pacing (see above).
    poll_interval_s : float
        Venue clock: seconds between two rounds.
    venue_clock : VenueClock or None
        Venue clock: the clock to refresh (share one with the order manager); default a new
        :class:`VenueClock` on ``client``.

    Raises
    ------
    ConfigError
        No pairs, an unknown ``clock`` or a negative ``poll_interval_s``.
    """

    def __init__(self, client: ExchangeClient, pairs: Sequence[str], timeframe: str, *,
                 since_ms: int | None = None, sink: CandleSink | None = None, limit: int = 5,
                 grace_s: float = 2.0, retry_s: float = 5.0, now_ms: Callable[[], int] = _wall_ms,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 clock: Literal["wall", "venue"] = "wall", poll_interval_s: float = 1.0,
                 venue_clock: VenueClock | None = None) -> None:
        if not pairs:
            raise ConfigError("exchange feed: 'pairs' is empty")
        if clock not in ("wall", "venue"):
            raise ConfigError(f"exchange feed: invalid value for 'clock': {clock!r} ('wall' or 'venue')")
        if not poll_interval_s >= 0.0:
            raise ConfigError(f"exchange feed: invalid value for 'poll_interval_s': {poll_interval_s!r}")
        self.client = client
        self.pairs = tuple(sorted(pairs))
        self.timeframe = timeframe
        self.tf_ms = timeframe_to_msecs(timeframe)
        self.sink = sink
        self.limit = int(limit)
        self.grace_s = float(grace_s)
        self.retry_s = float(retry_s)
        self.clock = clock
        self.poll_interval_s = float(poll_interval_s)
        self.venue_clock: VenueClock | None = None
        if clock == "venue":
            self.venue_clock = venue_clock or VenueClock(client)
        self._now = self.venue_clock.now_ms if self.venue_clock is not None else now_ms
        self._sleep = sleep
        self._since = since_ms
        self._last: dict[str, int] = {}

    def _last_closed_open(self, now: int) -> int:
        """Open time of the most recent candle that has closed at ``now``."""
        return (now // self.tf_ms) * self.tf_ms - self.tf_ms

    async def poll(self) -> list[Candle]:
        """One polling round: the newly closed candles of all pairs, in time then pair order.

        Empty when a request failed (the round is rolled back and logged) or, on the venue
        clock, while the venue's time has never been read.
        """
        if self.venue_clock is not None and not await self.venue_clock.refresh():
            return []
        now = self._now()
        last_closed = self._last_closed_open(now)
        for pair in self.pairs:
            if pair not in self._last:
                self._last[pair] = (self._since - 1) if self._since is not None else last_closed
        before = dict(self._last)
        out: list[Candle] = []
        try:
            for pair in self.pairs:
                rows = await self.client.fetch_ohlcv(pair, self.timeframe, limit=self.limit)
                out += self._closed(pair, rows, now)
        except ExchangeError as exc:
            self._last = before
            _log.warning("exchange feed: polling round failed at %s, nothing yielded, retrying next "
                         "round: %s: %s", pair, type(exc).__name__, exc)
            return []
        out.sort(key=lambda c: (c.open_time_ms, c.pair))
        return out

    def _closed(self, pair: str, rows: Sequence[Sequence[float]], now: int) -> list[Candle]:
        """The candles of ``rows`` closed at ``now`` and newer than the last yielded (advances it)."""
        out = []
        for row in sorted(rows, key=lambda r: r[0]):
            t = int(row[0])
            if t <= self._last[pair] or t + self.tf_ms > now:
                continue
            out.append(Candle(pair=pair, timeframe=self.timeframe, open_time_ms=t,
                              open=float(row[1]), high=float(row[2]), low=float(row[3]),
                              close=float(row[4]), volume=float(row[5])))
            self._last[pair] = t
        return out

    def _wait_s(self) -> float:
        """Seconds until the next poll is worth making."""
        if self.venue_clock is not None:
            return self.poll_interval_s
        now = self._now()
        if any(v < self._last_closed_open(now) for v in self._last.values()):
            return self.retry_s
        next_close = (now // self.tf_ms + 1) * self.tf_ms
        return (next_close - now) / 1000.0 + self.grace_s

    async def __aiter__(self) -> AsyncIterator[Candle]:
        """Poll forever, yielding candles as they close (stop by breaking out of the loop)."""
        while True:
            for candle in await self.poll():
                if self.sink is not None:
                    self.sink.on_candle(candle)
                yield candle
            await self._sleep(self._wait_s())
