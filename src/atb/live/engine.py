"""The live/paper trading loop: closed candles in, decisions and orders out, state on disk.

:class:`TradingEngine` runs many :class:`~atb.live.bot.TradingBot` (strategy instances, each with
its pairs, wallet slice, risk engine and order manager) in one asyncio process. It groups the
feed's closed candles by open time; a group is processed when every pair of the engine has its
candle for that time, or when a later candle shows the others are missing (a venue gap). For each
group every bot steps its strategy (the backtest's loop, :mod:`atb.live.stepper`), puts entries
through its risk engine and sends the orders; then the bots' checkpoints are written
(:mod:`atb.live.checkpoint`), so a process killed at any point restarts where it stopped: the
order managers reconcile with the venue and a candle processed again does not send its orders
twice.

Venue hooks let a replay drive a :class:`~atb.execution.paper.PaperExchange`: ``before_group`` is
called with the group's candles before the bots decide, ``after_group`` after.

With many bots, the candle close yields to the event loop between two bots, so price updates
(:meth:`TradingEngine.on_price`) wait at most one bot's analysis, not all of them.

Graceful shutdown: :meth:`TradingEngine.request_stop` (wired to SIGINT/SIGTERM by
:meth:`install_signal_handlers`) ends the loop after the group in progress, with every checkpoint
written. Hot reload: :meth:`TradingEngine.reload` changes a bot's strategy parameters between two
candles.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atb.backtest.settings import SimulationSettings
from atb.errors import ConfigError, DataError
from atb.execution.feeds import Candle
from atb.live.bot import TradingBot
from atb.live.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint

__all__ = ["EngineStats", "GroupHook", "TradingEngine"]

_KEEP = 100_000  # latency samples kept per series

#: ``hook(open_time_ms, candles)``: called around the processing of one candle group.
GroupHook = Callable[[int, Sequence[Candle]], Awaitable[None] | None]


@dataclass(slots=True)
class EngineStats:
    """Counters of a run: candle groups processed, entries and exits decided, latency samples.

    ``latencies_ms`` holds, per group, the time from the group becoming complete to the last
    bot's orders being sent (the update-to-decision latency), milliseconds;
    ``price_latencies_ms`` the same for every price update (:meth:`TradingEngine.on_price`).
    Both keep the newest 100,000 samples (a long live run must not grow without bound).
    """

    groups: int = 0
    candles: int = 0
    prices: int = 0
    entries: int = 0
    exits: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_KEEP))
    price_latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_KEEP))


class TradingEngine:
    """Run trading bots on a feed of closed candles.

    Parameters
    ----------
    bots : sequence of TradingBot
        Strategy instances (unique ``strategy_id``); all share the venue behind their managers.
    checkpoint_dir : Path, optional
        Where runner checkpoints live (None: no checkpoints, e.g. throw-away replays).
    timeframe_ms : int
        Candle duration of the feed, ms (all bots trade one timeframe per engine).
    reconcile_every : int
        Reconcile every bot's orders and balances with the venue after this many candle groups
        (0: only at start-up).

    Raises
    ------
    ConfigError
        No bots, or duplicate strategy ids.
    """

    def __init__(self, bots: Sequence[TradingBot], *, timeframe_ms: int,
                 checkpoint_dir: Path | None = None, reconcile_every: int = 12) -> None:
        if not bots:
            raise ConfigError("engine: no strategies to run")
        ids = [b.strategy_id for b in bots]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"engine: duplicate strategy ids in {ids}")
        self.bots = list(bots)
        self.timeframe_ms = timeframe_ms
        self.checkpoint_dir = checkpoint_dir
        self.reconcile_every = int(reconcile_every)
        self.reconcile_reports: list[Any] = []
        self.pairs = tuple(sorted({p for b in bots for p in b.pairs}))
        self._by_pair: dict[str, list[TradingBot]] = {}
        for bot in self.bots:
            for pair in bot.pairs:
                self._by_pair.setdefault(pair, []).append(bot)
        self.stats = EngineStats()
        self._stop = asyncio.Event()
        self._reloads: list[tuple[str, dict[str, Any]]] = []

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> dict[str, Any]:
        """Restore checkpoints and reconcile every bot's orders with the venue.

        Returns the reconciliation reports by strategy id.
        """
        reports = {}
        for bot in self.bots:
            if self.checkpoint_dir is not None:
                load_checkpoint(checkpoint_path(self.checkpoint_dir, bot.strategy_id), bot.runner)
            for i, manager in enumerate(bot.managers):
                report = await manager.start()
                if i == 0:
                    reports[bot.strategy_id] = report
            await bot.start()
        return reports

    @property
    def last_processed_ms(self) -> int:
        """Open time (UTC ms) of the newest candle every bot has processed."""
        return min(b.runner.last_ns for b in self.bots) // 1_000_000

    def request_stop(self) -> None:
        """End :meth:`run` after the candle group in progress."""
        self._stop.set()

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Stop gracefully on SIGINT and SIGTERM."""
        loop = loop or asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)

    def reload(self, strategy_id: str, params: Mapping[str, Any]) -> None:
        """Queue new strategy parameters for ``strategy_id``, applied before the next candle.

        ``params`` maps an attribute of the strategy to its value: a hyperoptable parameter
        (``buy_rsi``) gets a new ``.value``; ``minimal_roi``, ``stoploss`` and the trailing
        settings are plain attributes, and the loop's exit rules are rebuilt from them.

        Raises
        ------
        ConfigError
            Unknown strategy id or parameter name.
        """
        bot = self._bot(strategy_id)
        for name in params:
            if not hasattr(bot.runner.strategy, name):
                raise ConfigError(f"reload: strategy {strategy_id} has no parameter {name!r}")
        self._reloads.append((strategy_id, dict(params)))

    def _bot(self, strategy_id: str) -> TradingBot:
        for bot in self.bots:
            if bot.strategy_id == strategy_id:
                return bot
        raise ConfigError(f"engine: unknown strategy id {strategy_id!r}")

    def _apply_reloads(self) -> None:
        while self._reloads:
            strategy_id, params = self._reloads.pop(0)
            bot = self._bot(strategy_id)
            strategy = bot.runner.strategy
            for name, value in params.items():
                current = getattr(strategy, name)
                if hasattr(current, "value") and not isinstance(current, int | float | dict | str):
                    current.value = value
                else:
                    setattr(strategy, name, value)
            settings = SimulationSettings.from_config(dict(strategy.config), strategy)
            bot.runner.stepper._params = settings.params_vector()
            bot.runner.stepper._roi = settings.roi_arrays()

    # -- processing ----------------------------------------------------------------------------
    async def process_group(self, open_ms: int, candles: Sequence[Candle]) -> None:
        """Let every bot decide on the closed candles that opened at ``open_ms``.

        Raises
        ------
        DataError
            A candle of another open time is in the group.
        """
        if any(c.open_time_ms != open_ms for c in candles):
            raise DataError(f"engine: candle group {open_ms} mixes open times")
        self._apply_reloads()
        t0 = time.perf_counter()
        at_ns = open_ms * 1_000_000
        by_pair = {c.pair: (c.open, c.high, c.low, c.close, c.volume) for c in candles}
        for bot in self.bots:
            if bot.runner.last_ns >= at_ns:
                continue  # already processed before a restart
            mine = {p: v for p, v in by_pair.items() if p in bot.runner.pairs}
            expected = bot.runner.last_ns + bot.runner.tf_ns
            while expected < at_ns:  # the venue had no candle at all for this bot's pairs
                await bot.on_candles(expected, {})
                expected += bot.runner.tf_ns
            result = await bot.on_candles(at_ns, mine)
            self.stats.entries += len(result.entries)
            self.stats.exits += len(result.exits)
            if self.checkpoint_dir is not None:
                save_checkpoint(checkpoint_path(self.checkpoint_dir, bot.strategy_id), bot.runner)
            # let price updates in between two bots' analyses: with many strategies a candle
            # close would otherwise hold the event loop for all of them at once
            await asyncio.sleep(0)
        self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000.0)
        self.stats.groups += 1
        self.stats.candles += len(candles)
        if self.reconcile_every > 0 and self.stats.groups % self.reconcile_every == 0:
            for bot in self.bots:
                for manager in bot.managers:
                    self.reconcile_reports.append(await manager.reconcile())
            del self.reconcile_reports[:-sum(len(b.managers) for b in self.bots)]

    async def on_price(self, pair: str, price: float) -> int:
        """A traded price of ``pair`` (ticker, trade): every bot in live mode checks its exits.

        Returns the number of exits sent. Timing is recorded in ``stats.price_latencies_ms``.
        """
        t0 = time.perf_counter()
        n = 0
        for bot in self._by_pair.get(pair, ()):
            if await bot.on_price(pair, price) is not None:
                n += 1
        self.stats.prices += 1
        self.stats.exits += n
        self.stats.price_latencies_ms.append((time.perf_counter() - t0) * 1000.0)
        return n

    async def run(self, feed: AsyncIterable[Candle], *, before_group: GroupHook | None = None,
                  after_group: GroupHook | None = None, max_groups: int | None = None) -> EngineStats:
        """Consume ``feed`` until it ends, :meth:`request_stop` is called or ``max_groups`` ran.

        Candles older than what every bot has processed (a restart re-reading its feed) are
        skipped.
        """
        pending: dict[int, dict[str, Candle]] = {}
        done = 0

        async def flush(upto: int | None) -> bool:
            nonlocal done
            for t in sorted(pending):
                if upto is not None and t >= upto and len(pending[t]) < len(self.pairs):
                    break
                group = list(pending.pop(t).values())
                await _call(before_group, t, group)
                await self.process_group(t, group)
                await _call(after_group, t, group)
                done += 1
                if self._stop.is_set() or (max_groups is not None and done >= max_groups):
                    return True
            return False

        it = aiter(feed)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                nxt = asyncio.ensure_future(anext(it))
                finished, _ = await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in finished:  # stop requested while the feed waits for a candle
                    nxt.cancel()
                    await asyncio.gather(nxt, return_exceptions=True)
                    return self.stats
                try:
                    candle = nxt.result()
                except StopAsyncIteration:
                    break
                if candle.open_time_ms <= self.last_processed_ms:
                    continue
                pending.setdefault(candle.open_time_ms, {})[candle.pair] = candle
                complete = len(pending[candle.open_time_ms]) == len(self.pairs)
                if await flush(candle.open_time_ms + (1 if complete else 0)):
                    return self.stats
                if self._stop.is_set():
                    return self.stats
            await flush(None)
            return self.stats
        finally:
            stop.cancel()
            await asyncio.gather(stop, return_exceptions=True)
            aclose = getattr(it, "aclose", None)
            if aclose is not None:
                await aclose()


async def _call(hook: GroupHook | None, t: int, group: Sequence[Candle]) -> None:
    if hook is None:
        return
    res = hook(t, group)
    if res is not None:
        await res
