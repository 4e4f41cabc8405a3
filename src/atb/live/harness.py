"""A one-process live trading stack against a ccxt venue on 127.0.0.1: the test/benchmark composition.

``python -m atb.live.harness --ccxt-config FILE --db-url URL --checkpoint-dir DIR --strategy NAME
[--strategy-path DIR] --pairs BTC/USDT ETH/USDT --timeframe 5m`` builds and runs, in one asyncio
process::

    CcxtExchange (ccxt's own client, retries + breaker) ─┬─ ExchangeFeed (closed candles)
                                                         └─ OrderManager (write-ahead, SqlOrderStore)
    StrategyRunner + RiskEngine + TradingBot (market orders) ── TradingEngine (checkpoints)

It exists to prove promise 6 (crash-safe order state) against the Binance emulator
(:mod:`atb.testing.emulator`): ``benchmarks/crash_safety.py`` SIGKILLs it at random moments and
restarts it. The user-facing ``atb trade`` command is the real composition root; this one is
kept small on purpose (one strategy, market orders, no API, no notifications).

When is a candle closed?
------------------------
The feed's clock is the **venue's clock**, read from the venue (``ExchangeClient.fetch_time``,
``GET /api/v3/time``) at every polling round: ``ExchangeFeed(clock="venue")`` yields a candle once
``open_time + timeframe <= venue time``. On the emulator the venue time is the replay clock (the
close time of its current candle), so a candle is yielded exactly when the emulator has stepped
past it, however fast the replay runs; on a real venue the server time is the wall clock. The
same clock stamps orders (``created_at``) and decides the order manager's grace period, so order
times and the venue's trade times share one time line (``fetch_my_trades`` filters on them).

Restarts: the runner's checkpoint is restored, the order manager reconciles with the venue, and
the feed backfills from the candle after the last one processed (``since_ms``; ``--backfill``
candles at most), so candles that closed while the process was down are processed in order and
orders already written for them are not sent again (:mod:`atb.live.bot`).

Keys come from the environment or the secrets file (:func:`atb.config.secrets.load_credentials`);
a ccxt config holding keys, or any URL not on 127.0.0.1/localhost, is refused: this harness never
talks to a real exchange.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from sqlalchemy import Engine

from atb.config.secrets import load_credentials, reject_keys_in_config
from atb.core.timeframe import timeframe_to_msecs
from atb.errors import AtbError, ConfigError, ExchangeError, TemporaryExchangeError
from atb.execution.ccxt import CcxtExchange, CircuitBreaker, RetryPolicy, create_ccxt_exchange
from atb.execution.feeds import Candle, ExchangeFeed, VenueClock
from atb.execution.models import Market
from atb.execution.order_manager import OrderManager
from atb.live.bot import BotPortfolio, TradingBot
from atb.live.engine import EngineStats, TradingEngine
from atb.live.node import market_info, tick_decimals, venue_history
from atb.live.runner import StrategyRunner
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore
from atb.risk.config import load_risk_config
from atb.risk.engine import RiskEngine
from atb.strategy.loader import load_strategy

__all__ = ["HarnessConfig", "LiveStack", "build_stack", "check_local_urls", "main",
           "make_feed", "run_harness", "run_stack"]

_T = TypeVar("_T")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True, kw_only=True)
class HarnessConfig:
    """Everything the harness needs.

    Attributes
    ----------
    ccxt_config : mapping
        ccxt constructor overrides (``urls``, ``options``, ``timeout`` ms); no keys, local URLs only.
    db_url : str
        SQLAlchemy URL of the order store (``sqlite:////tmp/x/atb.sqlite``).
    checkpoint_dir : Path
        Runner checkpoints (and the default SQLite file when ``db_url`` is empty).
    strategy : str
        Strategy class name; ``strategy_path`` the folder (or file) holding it.
    pairs : tuple of str
        ``BASE/QUOTE`` pairs traded.
    timeframe : str
        Candle timeframe of the strategy and the venue's klines.
    exchange_id : str
        ccxt id (default ``binance``, the emulator's dialect).
    strategy_id : str
        Owner of orders in the store (client ids are derived from it).
    wallet : float
        Quote currency the strategy may use (``dry_run_wallet`` of the loop).
    stake_amount : float
        Stake per trade, quote currency.
    fee : float or None
        Fee ratio for the loop (None: the venue's taker fee of the first pair).
    warmup : int
        Candles of history fetched at start (at least the strategy's ``startup_candle_count``).
    backfill : int
        Candles requested per pair and poll (bounds the downtime that loses no candle).
    poll_interval_s : float
        Wall seconds between two polls of the venue (candles and clock).
    grace_s : float
        Venue seconds a ``submitted`` order unknown to the venue stays ``submitted``.
    retry : RetryPolicy
        Retries of temporary venue errors.
    breaker_threshold : int
        Consecutive failures that open the venue's circuit breaker.
    breaker_cool_down_s : float
        Seconds the breaker stays open.
    max_groups : int or None
        Stop after this many candle groups (None: until SIGTERM/SIGINT).
    startup_attempts : int
        Tries of the start-up reads (markets, clock, warm-up candles) after temporary errors.
    """

    ccxt_config: Mapping[str, Any]
    db_url: str
    checkpoint_dir: Path
    strategy: str
    pairs: tuple[str, ...]
    timeframe: str
    strategy_path: Path | None = None
    exchange_id: str = "binance"
    strategy_id: str = "harness"
    wallet: float = 1000.0
    stake_amount: float = 100.0
    fee: float | None = None
    warmup: int = 100
    backfill: int = 500
    poll_interval_s: float = 0.1
    grace_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 5
    breaker_cool_down_s: float = 30.0
    max_groups: int | None = None
    startup_attempts: int = 20


def check_local_urls(ccxt_config: Mapping[str, Any]) -> None:
    """Refuse keys in the ccxt config and any URL that is not on the local host.

    Raises
    ------
    ConfigError
        A key/secret in the config, no ``urls`` at all (ccxt would use the real venue), or a URL
        whose host is not 127.0.0.1/localhost.

    Examples
    --------
    >>> check_local_urls({"urls": {"api": {"public": "http://127.0.0.1:5000/api/v3"}}})
    >>> check_local_urls({"urls": {"api": {"public": "https://api.binance.com/api/v3"}}})
    Traceback (most recent call last):
    ...
    atb.errors.ConfigError: harness: ccxt config URL https://api.binance.com/api/v3 is not local ...
    """
    reject_keys_in_config({"exchange": dict(ccxt_config)}, "ccxt config")
    urls = ccxt_config.get("urls")
    if not urls:
        raise ConfigError("harness: the ccxt config has no 'urls': it would talk to the real venue")

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for v in node.values():
                walk(v)
        elif isinstance(node, str) and "://" in node:
            host = urlparse(node).hostname
            if host not in _LOCAL_HOSTS:
                raise ConfigError(f"harness: ccxt config URL {node} is not local (127.0.0.1 only)")

    walk(urls)


@dataclass(slots=True)
class LiveStack:
    """The components :func:`build_stack` wired (for tests: inspect, reconcile, close)."""

    config: HarnessConfig
    exchange: CcxtExchange
    clock: VenueClock
    db: Engine
    store: SqlOrderStore
    manager: OrderManager
    bot: TradingBot
    engine: TradingEngine
    markets: dict[str, Market]

    def request_stop(self) -> None:
        """Stop after the candle group in progress (or at once while waiting for candles)."""
        self.engine.request_stop()

    async def close(self) -> None:
        """Close the venue sessions and the database."""
        await self.exchange.close()
        self.db.dispose()


async def _patiently(cfg: HarnessConfig, what: str, call: Callable[[], Awaitable[_T]]) -> _T:
    """``await call()``, again after temporary venue errors, ``cfg.startup_attempts`` times in all.

    The adapter retries each request; this lets a (re)start ride out an open breaker too.
    """
    for attempt in range(1, cfg.startup_attempts + 1):
        try:
            return await call()
        except TemporaryExchangeError as exc:
            if attempt == cfg.startup_attempts:
                raise
            _log(f"{what} failed (attempt {attempt}), retrying: {type(exc).__name__}: {exc}")
            await asyncio.sleep(max(cfg.poll_interval_s, cfg.breaker_cool_down_s))
    raise AssertionError("unreachable")  # pragma: no cover


async def build_stack(cfg: HarnessConfig, *, credentials: Any = None) -> LiveStack:
    """Build every component against the venue (reads markets, clock and warm-up candles).

    Parameters
    ----------
    cfg : HarnessConfig
    credentials : Credentials, optional
        Default: :func:`atb.config.secrets.load_credentials` for ``cfg.exchange_id``.

    Raises
    ------
    ConfigError
        Non-local URLs or keys in the ccxt config, unknown pairs, no candles.
    StrategyError
        The strategy cannot be loaded.
    """
    check_local_urls(cfg.ccxt_config)
    creds = credentials if credentials is not None else load_credentials(cfg.exchange_id)
    exchange = create_ccxt_exchange(
        cfg.exchange_id, credentials=creds, config_overrides=dict(cfg.ccxt_config), retry=cfg.retry,
        breaker=CircuitBreaker(cfg.exchange_id, failure_threshold=cfg.breaker_threshold,
                               cool_down_s=cfg.breaker_cool_down_s), websocket=False)
    db = None
    try:
        clock = VenueClock(exchange)  # the feed refreshes it every round
        venue_markets = await _patiently(cfg, "load_markets", exchange.load_markets)
        unknown = [p for p in cfg.pairs if p not in venue_markets]
        if unknown:
            raise ConfigError(f"harness: pairs {unknown} are not markets of {exchange.venue}")
        markets = {p: venue_markets[p] for p in cfg.pairs}
        for _ in range(cfg.startup_attempts):
            if await clock.refresh():
                break
            await asyncio.sleep(cfg.poll_interval_s)
        else:
            raise ExchangeError(f"harness: cannot read the time of {exchange.venue}")
        fee = cfg.fee if cfg.fee is not None else float(markets[cfg.pairs[0]].taker_fee)
        config: dict[str, Any] = {
            "timeframe": cfg.timeframe, "stake_amount": cfg.stake_amount, "dry_run_wallet": cfg.wallet,
            "max_open_trades": len(cfg.pairs), "fee": fee, "trading_mode": "spot", "dry_run": False,
            "stake_currency": markets[cfg.pairs[0]].quote,
            "exchange": {"name": cfg.exchange_id, "pair_whitelist": list(cfg.pairs)},
        }
        strategy = load_strategy(cfg.strategy, config, cfg.strategy_path)
        limit = max(cfg.warmup, int(getattr(strategy, "startup_candle_count", 0) or 0) + 2)
        history, _ = await _patiently(cfg, "warm-up candles", lambda: venue_history(
            exchange, cfg.pairs, cfg.timeframe, limit, clock.now_ms()))
        ticks = {p: tick_decimals(m.price_tick) for p, m in markets.items()}
        runner = StrategyRunner(strategy, config, history,
                                markets={p: market_info(m) for p, m in markets.items()},
                                tick_decimals=ticks)
        portfolio = BotPortfolio(runner, cfg.wallet)
        risk = RiskEngine(load_risk_config({"rules": []}), portfolio, max_open_trades=len(cfg.pairs),
                          stoploss=float(strategy.stoploss), clock=clock.now)
        db = create_db_engine(cfg.db_url or None, cfg.checkpoint_dir)
        store = SqlOrderStore(create_session_factory(db))
        manager = OrderManager(store, exchange, clock.now, venue=exchange.venue,
                               strategy_id=cfg.strategy_id, grace_s=cfg.grace_s)
        bot = TradingBot(cfg.strategy_id, runner, risk, portfolio, manager, store, markets,
                         order_style="market")
        engine = TradingEngine([bot], timeframe_ms=timeframe_to_msecs(cfg.timeframe),
                               checkpoint_dir=cfg.checkpoint_dir)
    except BaseException:
        await exchange.close()
        if db is not None:
            db.dispose()
        raise
    return LiveStack(config=cfg, exchange=exchange, clock=clock, db=db, store=store, manager=manager,
                     bot=bot, engine=engine, markets=markets)


def make_feed(stack: LiveStack) -> ExchangeFeed:
    """The venue-clocked candle feed, backfilling from the candle after the last processed one.

    It refreshes ``stack.clock`` (the order manager's and risk engine's clock) from the venue at
    every round and polls every ``poll_interval_s``; a failed round yields nothing (logged).
    """
    cfg = stack.config
    tf = timeframe_to_msecs(cfg.timeframe)
    return ExchangeFeed(stack.exchange, cfg.pairs, cfg.timeframe,
                        since_ms=stack.engine.last_processed_ms + tf, limit=cfg.backfill,
                        clock="venue", venue_clock=stack.clock, poll_interval_s=cfg.poll_interval_s)


async def run_stack(stack: LiveStack) -> EngineStats:
    """Restore + reconcile (``engine.start``), then trade until stopped or ``max_groups``."""
    reports = await stack.engine.start()
    for sid, rep in reports.items():
        kinds: dict[str, int] = {}
        for a in rep.actions:
            kinds[a.kind] = kinds.get(a.kind, 0) + 1
        _log(f"started {sid}: last candle {stack.engine.last_processed_ms}, reconcile {kinds}, "
             f"consistent={rep.consistent}")
    await stack.clock.refresh()

    async def before(t_ms: int, group: Sequence[Candle]) -> None:
        # orders whose answer was lost (retries exhausted) are resolved before the bots decide,
        # so an exit never meets an entry the store still holds as submitted
        if stack.manager.open_orders():
            await stack.manager.poll_open_orders()

    async def after(t_ms: int, group: Sequence[Candle]) -> None:
        _log(f"group {t_ms} ({len(group)} candles) entries={stack.engine.stats.entries} "
             f"exits={stack.engine.stats.exits}")

    stats = await stack.engine.run(make_feed(stack), before_group=before, after_group=after,
                                   max_groups=stack.config.max_groups)
    if stack.bot.errors:
        _log(f"bot errors: {stack.bot.errors[-5:]}")
    held = sorted(p.pair for p in stack.store.positions(stack.config.strategy_id) if p.amount != 0)
    _log(f"state: loop open trades {json.dumps(sorted(stack.bot.runner.stepper.open_trade_pairs()))} "
         f"store positions {json.dumps(held)}")
    return stats


async def run_harness(cfg: HarnessConfig) -> EngineStats:
    """Build, trade until SIGTERM/SIGINT (or ``max_groups``), close."""
    stack = await build_stack(cfg)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stack.request_stop)
    try:
        stats = await run_stack(stack)
    finally:
        await stack.close()
    _log(f"stopped: groups={stats.groups} entries={stats.entries} exits={stats.exits}")
    return stats


def _log(msg: str) -> None:
    print(f"harness: {msg}", file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> HarnessConfig:
    p = argparse.ArgumentParser(prog="python -m atb.live.harness", description=__doc__.split("\n")[0])
    p.add_argument("--ccxt-config", type=Path, required=True,
                   help="JSON ccxt constructor overrides (urls to the emulator; no keys)")
    p.add_argument("--exchange", default="binance", help="ccxt exchange id")
    p.add_argument("--db-url", default="", help="order store URL (default: SQLite in the checkpoint dir)")
    p.add_argument("--checkpoint-dir", type=Path, required=True)
    p.add_argument("--strategy", "-s", required=True)
    p.add_argument("--strategy-path", type=Path, default=None)
    p.add_argument("--strategy-id", default="harness")
    p.add_argument("--pairs", nargs="+", required=True)
    p.add_argument("--timeframe", "-i", required=True)
    p.add_argument("--wallet", type=float, default=1000.0, help="quote currency for the strategy")
    p.add_argument("--stake-amount", type=float, default=100.0, help="quote currency per trade")
    p.add_argument("--poll-interval", type=float, default=0.1, help="wall seconds between polls")
    p.add_argument("--backfill", type=int, default=500, help="candles per pair and poll")
    p.add_argument("--grace", type=float, default=30.0, help="venue seconds before an unknown "
                   "submitted order is rejected")
    p.add_argument("--retry", default="{}", help="RetryPolicy fields as JSON")
    for flag, kind, default in (("--breaker-threshold", int, 5), ("--breaker-cool-down", float, 30.0),
                                ("--max-groups", int, None), ("--startup-attempts", int, 20)):
        p.add_argument(flag, type=kind, default=default)
    a = p.parse_args(argv)
    try:
        ccxt_config = json.loads(a.ccxt_config.read_text())
        retry = RetryPolicy(**json.loads(a.retry))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"harness: bad --ccxt-config or --retry: {exc}") from None
    return HarnessConfig(
        ccxt_config=ccxt_config, exchange_id=a.exchange, db_url=a.db_url, checkpoint_dir=a.checkpoint_dir,
        strategy=a.strategy, strategy_path=a.strategy_path, strategy_id=a.strategy_id,
        pairs=tuple(a.pairs), timeframe=a.timeframe, wallet=a.wallet, stake_amount=a.stake_amount,
        poll_interval_s=a.poll_interval, backfill=a.backfill, grace_s=a.grace, retry=retry,
        breaker_threshold=a.breaker_threshold, breaker_cool_down_s=a.breaker_cool_down,
        max_groups=a.max_groups, startup_attempts=a.startup_attempts)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m atb.live.harness``; exit status 2 on a configuration error."""
    try:
        cfg = _parse(argv)
        asyncio.run(run_harness(cfg))
    except AtbError as exc:
        _log(f"error: {type(exc).__name__}: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
