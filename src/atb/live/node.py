"""Composition root of paper and live trading: builds every component from the config.

This is the only place (with the CLI commands) that constructs venues, stores and engines. Modes:

* **paper replay** (``replay=True``): candles from the data directory are replayed through a
  :class:`~atb.execution.paper.PaperExchange` in ``bar`` mode; orders are limit orders at the
  loop's prices, so the trades are the backtest's (tested), through the real order path.
* **paper on venue data** (default without ``replay``): closed candles polled from the venue's
  public API (ccxt, ``exchange.name``), orders filled by a PaperExchange at the last price.
* **live** (``live=True``): orders go to the venue through ccxt with keys from the environment
  (``ATB__EXCHANGE__<ID>__KEY``/``__SECRET``) or a secrets file. It refuses to start unless the
  caller acknowledged the risk (``i_understand_live_risk``) and keys are present.

Several venues (live only): ``"exchanges": [{"name": "kraken", "ccxt_config": {...}}]`` adds
venues besides ``exchange`` (:func:`parse_exchanges`), each with its own ccxt client and keys
(as the main venue's); every bot routes its orders by price across all of them
(:class:`~atb.execution.smart_router.SmartOrderRouter`, one order manager per venue). Candles,
history, time and the amount steps the bot rounds to stay the main venue's.

On venue data and live, time is the venue's (``fetch_time``, refreshed by every polling round of
the feed): it decides candle closes and stamps orders, so a venue replaying history (the Binance
emulator) works like a real one.

Every bot (strategy instance) has its own wallet slice, risk engine and order manager; orders,
fills, trades and decisions go to the run store (SQLite by default, PostgreSQL by URL), runner
checkpoints to ``<userdir>/live/checkpoints``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from atb.backtest.markets import MarketInfo
from atb.backtest.ticks import tick_decimals_for
from atb.core.timeframe import timeframe_to_msecs
from atb.errors import ConfigError, DataError, TemporaryExchangeError
from atb.execution.feeds import Candle, ExchangeFeed, ReplayFeed, VenueClock
from atb.execution.models import Market
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.execution.smart_router import SmartOrderRouter
from atb.live.bot import BotPortfolio, TradingBot
from atb.live.engine import TradingEngine
from atb.live.runner import StrategyRunner
from atb.orders.ports import OrderStore
from atb.risk.config import RiskConfig, load_risk_config
from atb.risk.engine import RiskEngine

__all__ = [
    "BotSpec", "TradeNode", "TradeOptions", "VenueSpec", "bot_parameters", "build_live_node", "build_node",
    "check_live", "parse_bots", "parse_exchanges",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class BotSpec:
    """One strategy instance: id, strategy class name, pairs and wallet slice (quote currency)."""

    strategy_id: str
    strategy: str
    pairs: tuple[str, ...]
    wallet: float
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueSpec:
    """A venue besides ``exchange``: ccxt id and ccxt constructor config (never keys)."""

    name: str
    ccxt_config: Mapping[str, Any] = field(default_factory=dict)


def parse_exchanges(config: Mapping[str, Any]) -> tuple[VenueSpec, ...]:
    """Venues besides ``exchange``: ``exchanges: [{"name": <ccxt id>, "ccxt_config": {...}}]``.

    ``ccxt_config`` (ccxt constructor config, never keys) defaults to ``{}``; absent list: ``()``.

    Raises
    ------
    ConfigError
        A malformed entry, naming ``exchanges[i].field`` (unknown fields, missing/repeated name,
        ``ccxt_config`` not an object or holding keys).
    """
    from atb.config.secrets import reject_keys_in_config

    raw = config.get("exchanges")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("exchanges: must be a list of {\"name\": <ccxt id>, \"ccxt_config\": {...}}")
    main = str((config.get("exchange") or {}).get("name") or "")
    out: list[VenueSpec] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or set(entry) - {"name", "ccxt_config"}:
            raise ConfigError(f"exchanges[{i}]: must be an object with 'name' and optional 'ccxt_config', "
                              f"got {sorted(entry) if isinstance(entry, Mapping) else entry!r}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"exchanges[{i}].name: a ccxt exchange id is required, got {name!r}")
        if name == main or name in {v.name for v in out}:
            raise ConfigError(f"exchanges[{i}].name: venue {name!r} is listed twice")
        ccxt_config = entry.get("ccxt_config", {})
        if not isinstance(ccxt_config, Mapping):
            raise ConfigError(f"exchanges[{i}].ccxt_config: must be an object, got {ccxt_config!r}")
        reject_keys_in_config({"exchange": {"name": name, "ccxt_config": dict(ccxt_config)}},
                              f"config exchanges[{i}]")
        out.append(VenueSpec(name=name, ccxt_config=dict(ccxt_config)))
    return tuple(out)


def bot_parameters(config: Mapping[str, Any], spec: BotSpec) -> dict[str, Any]:
    """Strategy parameters of ``spec``.

    The config's ``strategy_parameters`` (every bot), then the bot's own ``parameters`` over them.

    Raises
    ------
    ConfigError
        ``strategy_parameters`` is not an object.
    """
    common = config.get("strategy_parameters") or {}
    if not isinstance(common, Mapping):
        raise ConfigError("strategy_parameters: must be an object of parameter -> value")
    return {**common, **spec.parameters}


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeOptions:
    """What ``atb trade`` was asked to do (see the module docstring for the modes)."""

    config: Mapping[str, Any]
    bots: tuple[BotSpec, ...]
    timeframe: str
    userdir: Path
    strategy_path: Path | None = None
    datadir: Path | None = None
    timerange: Any = None
    replay: bool = False
    speed: float = 0.0
    live: bool = False
    i_understand_live_risk: bool = False
    risk: RiskConfig | None = None
    markets: Mapping[str, MarketInfo] | None = None
    ccxt_overrides: Mapping[str, Any] = field(default_factory=dict)
    environ: Mapping[str, str] | None = None


@dataclass(slots=True)
class TradeNode:
    """The built stack: engine, its feed, the venue hooks and (live/venue data) a price source."""

    engine: TradingEngine
    feed: Any
    venue: Any
    before_group: Any = None
    risk_source: str = ""
    price_source: Any = None

    async def watch_prices(self) -> None:
        """Feed the venue's tickers to ``engine.on_price`` until cancelled (live and venue data).

        Temporary venue errors are waited out (1 s); the loop never ends by itself.
        """
        if self.price_source is None:
            return
        import asyncio

        from atb.errors import ExchangeError

        async def one(pair: str) -> None:
            while True:
                try:
                    ticker = await self.price_source.watch_ticker(pair)
                except ExchangeError:
                    await asyncio.sleep(1.0)
                    continue
                if ticker.last is not None:
                    if isinstance(self.venue, PaperExchange):
                        self.venue.set_price(pair, ticker.last, ticker.timestamp)
                    await self.engine.on_price(pair, float(ticker.last))

        await asyncio.gather(*(one(p) for p in self.engine.pairs))


def parse_bots(config: Mapping[str, Any], strategy: str | None, pairs: Sequence[str]) -> tuple[BotSpec, ...]:
    """Bots from the config's ``bots`` list, else one bot of ``strategy`` on ``pairs``.

    ``bots`` entries: ``{"id": str, "strategy": str, "pairs": [..], "wallet": float,
    "parameters": {name: value}}``; the wallet defaults to ``dry_run_wallet`` divided by the
    number of bots.

    Raises
    ------
    ConfigError
        Malformed entries (the message names the entry and field), duplicate ids, no strategy.
    """
    wallet = float(config.get("dry_run_wallet") or 1000.0)
    raw = config.get("bots")
    if raw is None:
        if not strategy:
            raise ConfigError("trade: --strategy is required (or a 'bots' list in the config)")
        if not pairs:
            raise ConfigError("trade: no pairs (exchange.pair_whitelist or --pairs)")
        return (BotSpec(strategy_id=strategy, strategy=strategy, pairs=tuple(pairs), wallet=wallet),)
    if not isinstance(raw, list) or not raw:
        raise ConfigError("bots: must be a non-empty list")
    out: list[BotSpec] = []
    for i, entry in enumerate(raw):
        spec = _bot_entry(i, entry, pairs, wallet / len(raw))
        if spec.strategy_id in {b.strategy_id for b in out}:
            raise ConfigError(f"bots[{i}].id: duplicate id {spec.strategy_id!r}")
        out.append(spec)
    return tuple(out)


def _bot_entry(i: int, entry: Any, pairs: Sequence[str], default_wallet: float) -> BotSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"bots[{i}]: must be an object")
    unknown = set(entry) - {"id", "strategy", "pairs", "wallet", "parameters"}
    if unknown:
        raise ConfigError(f"bots[{i}]: unknown field(s) {sorted(unknown)}")
    sid, name = entry.get("id") or entry.get("strategy"), entry.get("strategy")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"bots[{i}].strategy: a strategy class name is required")
    bp = entry.get("pairs") or list(pairs)
    if not isinstance(bp, list) or not bp or not all(isinstance(p, str) and "/" in p for p in bp):
        raise ConfigError(f"bots[{i}].pairs: a list of BASE/QUOTE pairs is required")
    w = entry.get("wallet", default_wallet)
    if not isinstance(w, int | float) or not w > 0:
        raise ConfigError(f"bots[{i}].wallet: must be a positive number, got {w!r}")
    params = entry.get("parameters") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"bots[{i}].parameters: must be an object of parameter -> value")
    return BotSpec(strategy_id=str(sid), strategy=name, pairs=tuple(bp), wallet=float(w),
                   parameters=dict(params))


def check_live(opts: TradeOptions) -> Any:
    """Refuse live trading without the acknowledgement, an exchange id or any venue's keys.

    Returns the main venue's credentials (``exchanges`` venues need keys too).

    Raises
    ------
    ConfigError
        Naming the missing flag, field or environment variables (keys are never printed).
    """
    from atb.config.secrets import env_var_names, load_credentials, reject_keys_in_config

    if not opts.i_understand_live_risk:
        raise ConfigError("live trading sends real orders with real money: add "
                          "--i-understand-live-risk to confirm (paper trading is the default)")
    exchange_id = str((opts.config.get("exchange") or {}).get("name") or "")
    if not exchange_id:
        raise ConfigError("exchange.name: live trading needs an exchange id (e.g. binance)")
    reject_keys_in_config(opts.config, "config")
    creds = None
    for venue_id in (exchange_id, *(v.name for v in parse_exchanges(opts.config))):
        found = load_credentials(venue_id, environ=opts.environ)
        if found is None:
            names = env_var_names(venue_id)
            raise ConfigError(f"live trading on {venue_id} needs API keys: set {names['key']} and "
                              f"{names['secret']} in the environment (or a secrets file), never in "
                              "the config file")
        creds = creds or found
    return creds


def _risk(opts: TradeOptions) -> tuple[RiskConfig, str]:
    if opts.risk is not None:
        return opts.risk, "--risk-config"
    if isinstance(opts.config.get("risk"), Mapping):
        return load_risk_config(opts.config["risk"]), "config 'risk' section"
    return RiskConfig(), "risk defaults (no risk section in the config)"


def market_info(m: Market) -> MarketInfo:
    """The loop's MarketInfo (amount step, price step, minimums, worse fee) of a venue market."""
    return MarketInfo(amount_step=float(m.amount_step), price_step=float(m.price_tick),
                      min_amount=float(m.min_amount) or None, min_cost=float(m.min_notional) or None,
                      fee=float(max(m.taker_fee, m.maker_fee)))


def tick_decimals(price_tick: Decimal) -> int:
    """Decimals of a power-of-ten price tick (``Decimal("0.010")`` -> 2; >= 0)."""
    return max(-int(price_tick.normalize().as_tuple().exponent), 0)


def _history(data: Mapping[str, pd.DataFrame], startup: int) -> tuple[dict[str, pd.DataFrame], int]:
    n0 = max(startup + 1, 2)
    for pair, df in data.items():
        if len(df) <= n0:
            raise DataError(f"{pair}: {len(df)} candles, the strategy needs {n0} before it can trade")
    start = max(df["date"].iloc[n0 - 1] for df in data.values())
    hist = {p: df[df["date"] <= start].reset_index(drop=True) for p, df in data.items()}
    return hist, int(pd.Timestamp(start).value // 1_000_000)


def build_node(opts: TradeOptions, store: OrderStore, *, strategies: Mapping[str, Any]) -> TradeNode:
    """Build the engine for ``opts`` (``strategies``: strategy id -> loaded strategy instance).

    Raises
    ------
    ConfigError
        Live mode without acknowledgement or keys; unsupported combinations.
    DataError
        Not enough candles to warm the strategies up.
    """
    if opts.live:
        check_live(opts)
        raise ConfigError("live trading: run through build_live_node (venue connection is async)")
    if not opts.replay:
        raise ConfigError("paper trading on live venue data: use build_live_node")
    from atb.data.history import load_data

    risk_cfg, risk_source = _risk(opts)
    all_pairs = sorted({p for b in opts.bots for p in b.pairs})
    startup = max(int(getattr(s, "startup_candle_count", 0) or 0) for s in strategies.values())
    if opts.datadir is None:
        raise ConfigError("trade --replay: --datadir is required")
    data = load_data(Path(opts.datadir), all_pairs, opts.timeframe, timerange=opts.timerange,
                     startup_candles=startup)
    missing = [p for p in all_pairs if p not in data or data[p].empty]
    if missing:
        raise DataError(f"no {opts.timeframe} candles for {', '.join(missing)} in {opts.datadir}")
    hist, start_ms = _history(data, startup)
    infos = dict(opts.markets or {})
    ticks = {p: dict(zip(df["date"].map(lambda d: d.value), tick_decimals_for(
        df, infos[p].price_step if p in infos else None), strict=True)) for p, df in data.items()}
    fee = float(opts.config.get("fee") or 0.001)
    markets = paper_markets(all_pairs, infos, fee=fee)
    markets = {p: replace(m, price_tick=Decimal(1).scaleb(-int(max(max(ticks[p].values()), 0))))
               for p, m in markets.items()}
    quote = markets[all_pairs[0]].quote
    wallet_total = sum(b.wallet for b in opts.bots)
    paper = PaperExchange(markets, PaperConfig(fill_mode="bar",
                                               balances={quote: Decimal(repr(wallet_total))}))
    clock = {"now": datetime.fromtimestamp(start_ms / 1000, tz=UTC)}
    bots = []
    for spec in opts.bots:
        strategy = strategies[spec.strategy_id]
        config = dict(opts.config)
        config["dry_run_wallet"] = spec.wallet
        runner = StrategyRunner(strategy, config, {p: hist[p] for p in spec.pairs},
                                markets={p: infos[p] for p in spec.pairs if p in infos},
                                tick_decimals=lambda p, t: int(ticks[p].get(t, 8)))
        portfolio = BotPortfolio(runner, spec.wallet)
        risk = RiskEngine(risk_cfg, portfolio, max_open_trades=_max_open(config),
                          stoploss=float(strategy.stoploss), clock=lambda: clock["now"])
        manager = OrderManager(store, paper, lambda: clock["now"], venue="paper",
                               strategy_id=spec.strategy_id)
        bots.append(TradingBot(spec.strategy_id, runner, risk, portfolio, manager, store,
                               {p: markets[p] for p in spec.pairs}, order_style="limit"))
    tf_ms = timeframe_to_msecs(opts.timeframe)
    engine = TradingEngine(bots, timeframe_ms=tf_ms,
                           checkpoint_dir=Path(opts.userdir) / "live" / "checkpoints")
    frames = {p: df[df["date"] > pd.Timestamp(start_ms, unit="ms", tz="UTC")] for p, df in data.items()}
    feed = ReplayFeed(frames, opts.timeframe, speed=opts.speed)

    def before(t_ms: int, group: Sequence[Candle]) -> None:
        clock["now"] = datetime.fromtimestamp((t_ms + tf_ms) / 1000, tz=UTC)
        for c in group:
            paper.on_candle(c)

    return TradeNode(engine=engine, feed=feed, venue=paper, before_group=before, risk_source=risk_source)


def _max_open(config: Mapping[str, Any]) -> float:
    v = config.get("max_open_trades", -1)
    return math.inf if v is None or float(v) < 0 else float(v)


async def venue_history(venue: Any, pairs: Sequence[str], timeframe: str, limit: int,
                         now_ms: int) -> tuple[dict[str, pd.DataFrame], int]:
    """Closed warm-up candles per pair (``open + timeframe <= now_ms``), cut to end at one candle.

    Returns the frames and the open time of their last candle, UTC ms.
    """
    tf_ms = timeframe_to_msecs(timeframe)
    data = {}
    for p in pairs:
        rows = [r[:6] for r in await venue.fetch_ohlcv(p, timeframe, limit=limit) if r[0] + tf_ms <= now_ms]
        if not rows:
            raise DataError(f"{p}: the venue has no closed {timeframe} candles")
        df = pd.DataFrame(rows, columns=["ms", "open", "high", "low", "close", "volume"])
        df["date"] = pd.to_datetime(df["ms"], unit="ms", utc=True)
        data[p] = df[["date", "open", "high", "low", "close", "volume"]]
    latest_closed = min(int(df["date"].iloc[-1].value // 1_000_000) for df in data.values())
    cut = pd.Timestamp(latest_closed, unit="ms", tz="UTC")
    return {p: df[df["date"] <= cut] for p, df in data.items()}, latest_closed


async def _connect(opts: TradeOptions, exchange_id: str, creds: Any, pairs: Sequence[str],
                   ) -> tuple[dict[str, Any], dict[str, Market]]:
    """The ccxt clients of every venue (main first) and the main venue's markets."""
    from atb.config.secrets import load_credentials
    from atb.execution.ccxt import create_ccxt_exchange

    extra = parse_exchanges(opts.config)
    if extra and not opts.live:
        raise ConfigError("exchanges: smart order routing across venues runs in live mode only "
                          "(paper trading on venue data trades the main exchange)")
    venues: dict[str, Any] = {exchange_id: create_ccxt_exchange(
        exchange_id, credentials=creds, config_overrides=dict(opts.ccxt_overrides))}
    for v in extra:  # keys checked by check_live
        venues[v.name] = create_ccxt_exchange(v.name, config_overrides=dict(v.ccxt_config),
                                              credentials=load_credentials(v.name, environ=opts.environ))
    main: dict[str, Market] = {}
    for name, ex in venues.items():
        listed = dict(await ex.load_markets())
        main = main or listed
        for p in pairs:
            if p not in listed:
                raise ConfigError(f"pairs: {p} is not a market of {name}")
    return venues, main


async def build_live_node(opts: TradeOptions, store: OrderStore, *,
                          strategies: Mapping[str, Any]) -> TradeNode:
    """Paper on venue data, or live: the venue through ccxt (public data; keys for live).

    Time is the venue's: :class:`~atb.execution.feeds.ExchangeFeed` runs with ``clock="venue"``
    (``fetch_time`` once per polling round, one round per second), and the same
    :class:`~atb.execution.feeds.VenueClock` stamps orders (order manager) and drives the risk
    engine, so order times, the venue's trade times and candle closes share one time line (a
    venue replaying history, like the Binance emulator, works as well as a real one). Warm-up
    history is the venue's closed candles (``fetch_ohlcv``). ``exchanges``: see the module docstring.

    Raises
    ------
    ConfigError
        Live without acknowledgement or keys (of any venue), no exchange name, unknown pairs,
        malformed ``exchanges``, ``exchanges`` in paper mode.
    TemporaryExchangeError
        The venue's markets or time cannot be read.
    """
    creds = check_live(opts) if opts.live else None
    exchange_id = str((opts.config.get("exchange") or {}).get("name") or "")
    if not exchange_id:
        raise ConfigError("exchange.name: an exchange id is needed for venue data (e.g. binance)")
    risk_cfg, risk_source = _risk(opts)
    all_pairs = sorted({p for b in opts.bots for p in b.pairs})
    venues, markets = await _connect(opts, exchange_id, creds, all_pairs)
    venue = venues[exchange_id]
    clock = VenueClock(venue)
    if not await clock.refresh():
        raise TemporaryExchangeError(f"{exchange_id}: cannot read the venue's time")
    startup = max(int(getattr(s, "startup_candle_count", 0) or 0) for s in strategies.values())
    tf_ms = timeframe_to_msecs(opts.timeframe)
    data, latest_closed = await venue_history(venue, all_pairs, opts.timeframe, startup + 50, clock.now_ms())
    hist = {p: df.iloc[-(startup + 1):].reset_index(drop=True) for p, df in data.items()}
    infos = {p: market_info(m) for p, m in markets.items()}
    trade_venue: Any = venue
    if not opts.live:
        quote = markets[all_pairs[0]].quote
        trade_venue = PaperExchange({p: markets[p] for p in all_pairs}, PaperConfig(
            fill_mode="immediate", balances={quote: Decimal(repr(sum(b.wallet for b in opts.bots)))}))
        for p, df in data.items():
            last = df.iloc[-1]
            trade_venue.set_price(p, float(last["close"]), latest_closed + tf_ms)
    bots = []
    for spec in opts.bots:
        strategy = strategies[spec.strategy_id]
        config = dict(opts.config)
        config["dry_run_wallet"] = spec.wallet
        runner = StrategyRunner(strategy, config, {p: hist[p] for p in spec.pairs},
                                markets={p: infos[p] for p in spec.pairs},
                                window=max(1000, 2 * startup),
                                tick_decimals={p: tick_decimals(markets[p].price_tick) for p in spec.pairs})
        portfolio = BotPortfolio(runner, spec.wallet)
        risk = RiskEngine(risk_cfg, portfolio, max_open_trades=_max_open(config),
                          stoploss=float(strategy.stoploss), clock=clock.now)
        manager = OrderManager(store, trade_venue, clock.now,
                               venue=exchange_id if opts.live else "paper", strategy_id=spec.strategy_id)
        router = SmartOrderRouter({n: manager if n == exchange_id else OrderManager(  # a manager per venue
            store, ex, clock.now, venue=n, strategy_id=spec.strategy_id) for n, ex in venues.items()},
            venues) if len(venues) > 1 else None
        bots.append(TradingBot(spec.strategy_id, runner, risk, portfolio, manager, store,
                               {p: markets[p] for p in spec.pairs}, order_style="market", router=router))
    engine = TradingEngine(bots, timeframe_ms=tf_ms,
                           checkpoint_dir=Path(opts.userdir) / "live" / "checkpoints")
    feed = ExchangeFeed(venue, all_pairs, opts.timeframe, since_ms=latest_closed + tf_ms, limit=20,
                        clock="venue", venue_clock=clock, poll_interval_s=1.0)

    def before(t_ms: int, group: Sequence[Candle]) -> None:
        if isinstance(trade_venue, PaperExchange):
            for c in group:
                trade_venue.set_price(c.pair, c.close, c.close_time_ms)

    return TradeNode(engine=engine, feed=feed, venue=trade_venue, before_group=before,
                     risk_source=risk_source, price_source=venue)
