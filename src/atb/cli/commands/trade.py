"""``atb trade``: paper trading by default, live only with an explicit acknowledgement.

Composition root for trading: reads the config, loads the strategies, opens the run store (orders,
fills, trades, decisions), builds the engine through :mod:`atb.live.node` and runs it until the
feed ends, ``--max-candles`` candle groups ran, or SIGINT/SIGTERM (graceful: the candle in progress
finishes and every checkpoint is written). Prints the trades at the end.
"""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from atb.errors import ConfigError

__all__ = ["register"]


def _load_config(config_path: Path | None, pairs: list[str] | None, timeframe: str | None,
                 stake_amount: str | None, dry_run_wallet: float | None) -> dict[str, Any]:
    from atb.cli.commands.backtesting import _build_config, _overrides

    config = _build_config(config_path, _overrides(None, None, stake_amount, dry_run_wallet), pairs)
    if timeframe:
        config["timeframe"] = timeframe
    return config


def reload_parameters(engine: Any, config_path: Path | None, bots: Any, console: Any) -> int:
    """Re-read ``config_path`` and queue each bot's strategy parameters (SIGHUP, and at start).

    Parameters come from the config's ``strategy_parameters`` and each ``bots`` entry's
    ``parameters``. A config that no longer validates, or an unknown parameter, is reported and
    nothing changes (the engine keeps trading). Returns the number of bots updated.
    """
    from atb.errors import AtbError
    from atb.live.node import bot_parameters

    config: Any = {}
    if config_path is not None:
        try:
            from atb.config.freqtrade import load_freqtrade_config

            config = load_freqtrade_config(config_path)
        except AtbError as exc:
            console.print(f"[red]reload ignored[/red]: {exc}")
            return 0
    specs = {b.strategy_id: b for b in bots}
    raw = config.get("bots") if isinstance(config.get("bots"), list) else []
    fresh = {str(e.get("id") or e.get("strategy")): e.get("parameters") or {} for e in raw
             if isinstance(e, dict)}
    n = 0
    for sid, spec in specs.items():
        try:
            params = bot_parameters(config, replace(spec, parameters=fresh.get(sid, spec.parameters)))
            if params:
                engine.reload(sid, params)
                n += 1
        except AtbError as exc:
            console.print(f"[red]reload of {sid} ignored[/red]: {exc}")
    return n


def run_trade(*, config_path: Path | None, strategy: str | None, strategy_path: Path | None,
              pairs: list[str] | None, timeframe: str | None, datadir: Path | None,
              timerange: str | None, userdir: Path, db_url: str | None, replay: bool, speed: float,
              live: bool, i_understand_live_risk: bool, risk_config: Path | None,
              ccxt_config: Path | None, max_candles: int | None, stake_amount: str | None,
              dry_run_wallet: float | None) -> int:
    """Run ``atb trade`` (see the module docstring); returns the number of closed trades."""
    from rich.console import Console

    from atb.backtest.markets import load_markets
    from atb.data.timerange import TimeRange
    from atb.live.node import TradeOptions, build_live_node, build_node, check_live, parse_bots
    from atb.persistence.db import create_db_engine, create_session_factory, redact_url
    from atb.persistence.order_store import SqlOrderStore
    from atb.risk.config import load_risk_config
    from atb.strategy.loader import load_strategy

    console = Console(width=160)
    if live and not i_understand_live_risk:
        raise ConfigError("live trading sends real orders with real money: add "
                          "--i-understand-live-risk to confirm (paper trading is the default)")
    if live and replay:
        raise ConfigError("--live and --replay exclude each other (a replay is paper trading)")
    config = _load_config(config_path, pairs, timeframe, stake_amount, dry_run_wallet)
    whitelist = list((config.get("exchange") or {}).get("pair_whitelist") or [])
    bots = parse_bots(config, strategy, whitelist)
    strategies = {b.strategy_id: load_strategy(b.strategy, dict(config), strategy_path) for b in bots}
    tf = timeframe or config.get("timeframe") or str(next(iter(strategies.values())).timeframe)
    tfs = {str(getattr(s, "timeframe", tf) or tf) for s in strategies.values()}
    if len(tfs) > 1 and not timeframe:
        raise ConfigError(f"timeframe: the strategies use {sorted(tfs)}; one engine runs one timeframe "
                          "(give --timeframe)")
    risk = load_risk_config(risk_config) if risk_config is not None else None
    overrides: dict[str, Any] = {}
    if ccxt_config is not None:
        try:
            overrides = json.loads(Path(ccxt_config).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"--ccxt-config {ccxt_config}: cannot read JSON: {exc}") from None
    markets_file = (config.get("exchange") or {}).get("markets_file")
    opts = TradeOptions(
        config=config, bots=bots, timeframe=tf, userdir=userdir, strategy_path=strategy_path,
        datadir=datadir or (Path(config["datadir"]) if config.get("datadir") else None),
        timerange=TimeRange.parse(timerange) if timerange else None, replay=replay, speed=speed,
        live=live, i_understand_live_risk=i_understand_live_risk, risk=risk,
        markets=load_markets(Path(markets_file)) if markets_file else None, ccxt_overrides=overrides)
    if live:
        check_live(opts)  # before anything is written
    engine_db = create_db_engine(db_url, userdir)
    store = SqlOrderStore(create_session_factory(engine_db))
    mode = "LIVE" if live else ("paper replay" if replay else "paper (venue data)")

    async def main() -> None:
        if replay:
            node = build_node(opts, store, strategies=strategies)
        else:
            node = await build_live_node(opts, store, strategies=strategies)
        console.print(f"[bold]{mode}[/bold]: {len(bots)} strateg{'y' if len(bots) == 1 else 'ies'}, "
                      f"{len(node.engine.pairs)} pairs, {tf}; risk: {node.risk_source}; store: "
                      f"{redact_url(str(engine_db.url))}")
        await node.engine.start()
        reload_parameters(node.engine, config_path, bots, console)
        try:
            node.engine.install_signal_handlers()
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: console.print(
                    f"SIGHUP: parameters of {reload_parameters(node.engine, config_path, bots, console)} "
                    "strateg(ies) reloaded, applied from the next candle"))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests)
            pass
        prices = asyncio.create_task(node.watch_prices())
        try:
            await node.engine.run(node.feed, before_group=node.before_group, max_groups=max_candles)
        finally:
            prices.cancel()
            await asyncio.gather(prices, return_exceptions=True)
            venues = [node.venue, node.price_source,
                      *(m.exchange for b in node.engine.bots for m in b.managers)]
            for venue in {id(v): v for v in venues if v is not None}.values():
                close = getattr(venue, "close", None)  # every venue's client, the price source too
                if close is not None:
                    await close()
        stats = node.engine.stats
        console.print(f"candles: {stats.candles} in {stats.groups} groups; entries {stats.entries}, "
                      f"exits {stats.exits}")

    try:
        asyncio.run(main())
    finally:
        engine_db.dispose()
    return _print_trades(console, store, [b.strategy_id for b in bots])


def _print_trades(console: Any, store: Any, strategy_ids: list[str]) -> int:
    from rich.table import Table

    n = 0
    for sid in strategy_ids:
        closed = store.closed_trades(sid)
        open_ = store.open_trades(sid)
        table = Table(title=f"{sid}: {len(closed)} closed, {len(open_)} open")
        for col in ("pair", "open", "close", "open rate", "close rate", "amount", "profit", "reason"):
            table.add_column(col)
        for t in sorted(closed, key=lambda t: t.close_time)[-20:]:
            table.add_row(t.pair, f"{t.open_time:%Y-%m-%d %H:%M}", f"{t.close_time:%Y-%m-%d %H:%M}",
                          str(t.open_rate),
                          str(t.close_rate), str(t.amount), f"{float(t.profit_abs or 0):.4f}",
                          str(t.exit_reason))
        console.print(table)
        total = sum(float(t.profit_abs or 0) for t in closed)
        console.print(f"{sid}: closed-trade profit {total:.4f}")
        n += len(closed)
    return n


def register(app: typer.Typer) -> None:
    """Add ``atb trade`` to ``app``."""

    @app.command("trade")
    def trade(
        config: Path = typer.Option(None, "--config", "-c", help="freqtrade-style config file."),
        strategy: str = typer.Option(None, "--strategy", "-s", help="Strategy class name."),
        strategy_path: Path = typer.Option(None, "--strategy-path", help="Folder of strategy files."),
        pairs: list[str] = typer.Option(None, "--pairs", "-p", help="Pairs (override the whitelist)."),
        timeframe: str = typer.Option(None, "--timeframe", "-i", help="Candle timeframe."),
        datadir: Path = typer.Option(None, "--datadir", help="Candle folder (replay)."),
        timerange: str = typer.Option(None, "--timerange", help="Replay range, YYYYMMDD-YYYYMMDD."),
        userdir: Path = typer.Option(Path("user_data"), "--userdir", "--user-data-dir",
                                     help="User directory (run store, checkpoints)."),
        db_url: str = typer.Option(None, "--db-url", help="Run store URL (default SQLite in userdir)."),
        replay: bool = typer.Option(False, "--replay", help="Paper-trade a replay of --datadir candles."),
        speed: float = typer.Option(0.0, "--speed", help="Replay speed: candles per second (0: max)."),
        live: bool = typer.Option(False, "--live", help="Trade real money on the venue (needs keys)."),
        i_understand_live_risk: bool = typer.Option(False, "--i-understand-live-risk",
                                                    help="Acknowledge the risk of live trading."),
        risk_config: Path = typer.Option(None, "--risk-config", help="Risk section JSON file."),
        ccxt_config: Path = typer.Option(None, "--ccxt-config",
                                         help="JSON merged into the ccxt client config (urls, options)."),
        max_candles: int = typer.Option(None, "--max-candles", help="Stop after this many candle groups."),
        stake_amount: str = typer.Option(None, "--stake-amount", help="Stake per trade or 'unlimited'."),
        dry_run_wallet: float = typer.Option(None, "--dry-run-wallet", help="Paper wallet (quote)."),
    ) -> None:
        """Paper-trade (default) or live-trade strategies through the risk engine."""
        run_trade(config_path=config, strategy=strategy, strategy_path=strategy_path,
                  pairs=pairs, timeframe=timeframe, datadir=datadir, timerange=timerange,
                  userdir=userdir, db_url=db_url, replay=replay, speed=speed, live=live,
                  i_understand_live_risk=i_understand_live_risk, risk_config=risk_config,
                  ccxt_config=ccxt_config, max_candles=max_candles, stake_amount=stake_amount,
                  dry_run_wallet=dry_run_wallet)
