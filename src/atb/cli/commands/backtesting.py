"""``atb backtesting`` (freqtrade's flags) and ``atb backtest`` (the short form).

Composition root for a backtest: reads the config, loads the strategy and data through their
contexts, runs the engine, prints the report, exports files and stores the run. Every check of
user input happens before anything is written: a failing run leaves the run store untouched.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from atb.errors import ConfigError, DataError, MissingDataError

__all__ = ["register"]

_DEFAULT_FEE = 0.001  # Binance spot taker/maker, used when neither config, CLI nor markets set one


def _build_config(
    config_path: Path | None,
    overrides: dict[str, Any],
    pairs: list[str] | None,
) -> dict[str, Any]:
    from atb.config.freqtrade import load_freqtrade_config, validate_freqtrade_config

    raw: dict[str, Any] = {}
    if config_path is not None:
        raw = load_freqtrade_config(config_path)
    merged = {**raw, **{k: v for k, v in overrides.items() if v is not None}}
    if pairs:
        exchange = dict(merged.get("exchange") or {})
        exchange["pair_whitelist"] = list(pairs)
        merged["exchange"] = exchange
    if "max_open_trades" in merged and merged["max_open_trades"] == math.inf:
        merged["max_open_trades"] = -1
    return validate_freqtrade_config(merged, source=str(config_path or "command line"))


def _resolve_fee(config: dict[str, Any], markets: dict[str, Any] | None, pairs: list[str]) -> float:
    """Config/CLI fee, else the worse of taker/maker of the first pair's market, else 0.1 %."""
    if config.get("fee") is not None:
        return float(config["fee"])
    if markets and pairs:
        m = markets.get(pairs[0])
        if m is not None and m.fee is not None:
            return float(m.fee)
    return _DEFAULT_FEE


def _parse_stake(value: str | None) -> float | str | None:
    if value is None:
        return None
    if value.strip().lower() == "unlimited":
        return "unlimited"
    try:
        return float(value)
    except ValueError:
        raise ConfigError(
            f"--stake-amount: expected a number or 'unlimited', got {value!r}"
        ) from None


def _overrides(fee: float | None, max_open_trades: int | None, stake_amount: str | None,
               dry_run_wallet: float | None) -> dict[str, Any]:
    """CLI flags that override config keys (None = not given)."""
    return {"fee": fee, "max_open_trades": max_open_trades,
            "stake_amount": _parse_stake(stake_amount), "dry_run_wallet": dry_run_wallet}


def run_backtesting(
    *,
    config_path: Path | None,
    strategy_name: str,
    strategy_path: Path | None,
    datadir: Path | None,
    timeframe: str | None,
    timerange: str | None,
    pairs: list[str] | None,
    markets_path: Path | None,
    export_trades: Path | None,
    export_html: Path | None,
    db_url: str | None,
    user_data_dir: Path,
    store: bool,
    overrides: dict[str, Any],
    data_format: str | None = None,
    days: int | None = None,
    risk_config: Path | None = None,
) -> None:
    """Run one backtest end to end (see the module docstring)."""
    from atb.backtest.engine import BacktestInputs, run_backtest, whitelist_from_config
    from atb.backtest.markets import load_markets
    from atb.core.timeframe import timeframe_to_seconds
    from atb.data.history import load_data
    from atb.data.timerange import TimeRange
    from atb.strategy.loader import load_strategy, strategy_source_hash
    from atb.strategy.trade import Trade

    config = _build_config(config_path, overrides, pairs)
    if timeframe:
        config["timeframe"] = timeframe
    whitelist = list(whitelist_from_config(config))
    if not whitelist:
        raise ConfigError("no pairs: give --pairs or exchange.pair_whitelist in the config")
    if not config.get("stake_currency"):
        config["stake_currency"] = whitelist[0].split("/")[1].split(":")[0]
    if config.get("max_open_trades") is None:
        config["max_open_trades"] = float(len(whitelist))
    markets_file = markets_path or (config.get("exchange") or {}).get("markets_file")
    markets = load_markets(Path(markets_file)) if markets_file else None
    if markets is not None:
        inactive = [p for p in whitelist if p in markets and not markets[p].active]
        whitelist = [p for p in whitelist if p not in inactive]
    config["fee"] = _resolve_fee(config, markets, whitelist)
    risk = _load_risk(risk_config, config, whitelist)
    strategy = load_strategy(strategy_name, config, strategy_path)
    tf = timeframe or config.get("timeframe") or strategy.timeframe
    timeframe_to_seconds(tf)  # validates
    config["timeframe"] = tf
    data_dir = _resolve_datadir(datadir, config, user_data_dir)
    tr = TimeRange.parse(timerange) if timerange else None
    if days is not None and tr is None:
        tr = _last_days(data_dir, whitelist, tf, days, config)
    inputs = BacktestInputs(
        datadir=data_dir,
        pairs=tuple(whitelist),
        timeframe=tf,
        timerange=tr,
        markets=markets,
        data_format=data_format or config.get("dataformat_ohlcv"),
        candle_type="futures" if config.get("trading_mode") == "futures" else "spot",
        keep_candles=export_html is not None,
    )
    result = run_backtest(
        config, strategy, inputs, load_data=load_data, trade_cls=Trade,
        strategy_source_hash=strategy_source_hash(strategy),
        preload=lambda: _preload_outputs(store), risk=risk,
    )
    _report_and_store(result, export_trades, export_html, db_url, user_data_dir, store)


def _load_risk(path: Path | None, config: dict[str, Any], whitelist: list[str]) -> Any:
    """The risk section from ``--risk-config`` (wins) or the config's ``risk`` key.

    Validated against the whitelist before anything runs; also written back into ``config``.
    """
    if path is None and config.get("risk") is None:
        return None
    from atb.risk.config import load_risk_config

    risk = load_risk_config(path) if path is not None else load_risk_config(config["risk"], "config.risk")
    risk.check_pairs(whitelist, str(path) if path is not None else "config.risk")
    config["risk"] = risk.model_dump(mode="json")
    return risk


def _resolve_datadir(datadir: Path | None, config: dict[str, Any], user_data_dir: Path) -> Path:
    if datadir is not None:
        path = Path(datadir)
    elif config.get("datadir"):
        path = Path(config["datadir"])
    else:
        exchange = (config.get("exchange") or {}).get("name", "binance")
        path = user_data_dir / "data" / exchange
        if not path.exists():
            from atb.data.demo import demo_datadir

            path = demo_datadir()
    if not path.is_dir():
        raise DataError(f"datadir not found: {path}")
    return path


def _last_days(datadir: Path, pairs: list[str], tf: str, days: int, config: dict[str, Any]) -> Any:
    """Timerange covering the last ``days`` days of the newest candle among ``pairs``."""
    from atb.data.history import load_pair_history
    from atb.data.timerange import TimeRange

    if days <= 0:
        raise ConfigError(f"--days: must be a positive number of days, got {days}")
    last = None
    first_error: MissingDataError | None = None
    for pair in pairs:
        try:
            df = load_pair_history(datadir, pair, tf, fill_missing=False)
        except MissingDataError as exc:  # the backtest skips it and says so
            first_error = first_error or exc
            continue
        end = df["date"].iloc[-1]
        last = end if last is None or end > last else last
    if last is None:
        raise first_error or DataError(f"no candles for {', '.join(pairs)} {tf} in {datadir}")
    start = (last - timedelta(days=days)).strftime("%Y%m%d")
    return TimeRange.parse(f"{start}-")


def _preload_outputs(store: bool) -> None:
    """Import the modules of the reporting steps ahead of time (runs in parallel work time)."""
    import atb.backtest.export
    import atb.backtest.metrics
    import atb.backtest.report  # noqa: F401

    if store:
        import atb.persistence  # noqa: F401


def _report_and_store(
    result: Any,
    export_trades: Path | None,
    export_html: Path | None,
    db_url: str | None,
    user_data_dir: Path,
    store: bool,
) -> None:
    from atb.backtest.export import export_trades_json
    from atb.backtest.metrics import compute_metrics
    from atb.backtest.report import render_report

    metrics = compute_metrics(result)
    if result.skipped_pairs:
        typer.echo(f"Skipped (no candles in range): {', '.join(result.skipped_pairs)}")
    render_report(result, metrics)
    t = result.timings
    typer.echo(
        f"Timings: load data {t['load_data']:.2f}s, signals {t['signals']:.2f}s, "
        f"simulation {t['simulation']:.3f}s, total {t['total']:.2f}s"
    )
    if export_trades is not None:
        export_trades_json(result, export_trades)
        typer.echo(f"Trades exported to {export_trades}")
    if export_html is not None:
        from atb.backtest.html_report import write_html_report

        write_html_report(result, metrics, export_html)
        typer.echo(f"HTML report written to {export_html}")
    if store:
        from atb.persistence.db import create_db_engine, create_session_factory
        from atb.persistence.repositories import BacktestRunRepository

        engine = create_db_engine(db_url, user_data_dir)
        run_id = BacktestRunRepository(create_session_factory(engine)).save(result, metrics)
        typer.echo(f"Run stored as #{run_id} (atb backtesting-show --run-id {run_id})")


_OPT_CONFIG = typer.Option(None, "--config", "-c", help="freqtrade config.json")
_OPT_STRATEGY_PATH = typer.Option(None, "--strategy-path", help="Folder with strategy files")
_OPT_DATADIR = typer.Option(
    None, "--datadir", "--data-dir", help="Candle folder (freqtrade layout)"
)
_OPT_TF = typer.Option(None, "--timeframe", "-i", help="Candle timeframe, e.g. 5m, 1h")
_OPT_TR = typer.Option(None, "--timerange", help="YYYYMMDD-YYYYMMDD (end inclusive)")
_OPT_PAIRS = typer.Option(None, "--pairs", "-p", help="Pairs, e.g. --pairs BTC/USDT ETH/USDT")
_OPT_MARKETS = typer.Option(None, "--markets", help="ccxt markets JSON (amount step, limits)")
_OPT_EXPORT = typer.Option(None, "--export-trades", help="Write trades as a JSON list")
_OPT_HTML = typer.Option(None, "--export-html", help="Write an HTML report (plotly)")
_OPT_DB = typer.Option(None, "--db-url", help="Run store URL (default sqlite user_data/atb.sqlite)")
_OPT_USERDIR = typer.Option(Path("user_data"), "--user-data-dir", "--userdir")
_OPT_NO_STORE = typer.Option(False, "--no-store", help="Do not record the run in the run store")
_OPT_FEE = typer.Option(None, "--fee", help="Fee ratio per side, e.g. 0.001")
_OPT_MOT = typer.Option(None, "--max-open-trades", help="-1 for unlimited")
_OPT_STAKE = typer.Option(None, "--stake-amount", help="Stake per trade or 'unlimited'")
_OPT_WALLET = typer.Option(None, "--dry-run-wallet", "--starting-balance")
_OPT_FORMAT = typer.Option(None, "--data-format-ohlcv", help="feather, parquet, json, jsongz")
_OPT_RISK = typer.Option(None, "--risk-config", help="Risk engine section (JSON); see atb.risk.config")


def register(app: typer.Typer) -> None:
    """Add ``backtesting`` and ``backtest`` to the CLI."""

    @app.command("backtesting")
    def backtesting(
        config: Path | None = _OPT_CONFIG,
        strategy: str = typer.Option(..., "--strategy", "-s", help="Strategy class name"),
        strategy_path: Path | None = _OPT_STRATEGY_PATH,
        datadir: Path | None = _OPT_DATADIR,
        timeframe: str | None = _OPT_TF,
        timerange: str | None = _OPT_TR,
        pairs: list[str] | None = _OPT_PAIRS,
        markets: Path | None = _OPT_MARKETS,
        export_trades: Path | None = _OPT_EXPORT,
        export_html: Path | None = _OPT_HTML,
        db_url: str | None = _OPT_DB,
        user_data_dir: Path = _OPT_USERDIR,
        no_store: bool = _OPT_NO_STORE,
        fee: float | None = _OPT_FEE,
        max_open_trades: int | None = _OPT_MOT,
        stake_amount: str | None = _OPT_STAKE,
        dry_run_wallet: float | None = _OPT_WALLET,
        data_format: str | None = _OPT_FORMAT,
        cache: str = typer.Option("none", "--cache", help="Accepted for freqtrade compatibility"),
        risk_config: Path | None = _OPT_RISK,
    ) -> None:
        """Backtest a freqtrade strategy file with freqtrade's semantics (trade for trade)."""
        run_backtesting(
            config_path=config, strategy_name=strategy, strategy_path=strategy_path,
            datadir=datadir, timeframe=timeframe, timerange=timerange, pairs=pairs,
            markets_path=markets, export_trades=export_trades, export_html=export_html,
            db_url=db_url, user_data_dir=user_data_dir, store=not no_store,
            overrides=_overrides(fee, max_open_trades, stake_amount, dry_run_wallet),
            data_format=data_format, risk_config=risk_config,
        )

    @app.command("backtest")
    def backtest(
        strategy: str = typer.Argument(..., help="Strategy class name"),
        pairs: list[str] | None = _OPT_PAIRS,
        timeframe: str | None = _OPT_TF,
        days: int | None = typer.Option(None, "--days", help="Backtest the last N days of data"),
        timerange: str | None = _OPT_TR,
        config: Path | None = _OPT_CONFIG,
        strategy_path: Path | None = _OPT_STRATEGY_PATH,
        datadir: Path | None = _OPT_DATADIR,
        markets: Path | None = _OPT_MARKETS,
        export_trades: Path | None = _OPT_EXPORT,
        export_html: Path | None = _OPT_HTML,
        db_url: str | None = _OPT_DB,
        user_data_dir: Path = _OPT_USERDIR,
        no_store: bool = _OPT_NO_STORE,
        fee: float | None = _OPT_FEE,
        max_open_trades: int | None = _OPT_MOT,
        stake_amount: str | None = _OPT_STAKE,
        dry_run_wallet: float | None = _OPT_WALLET,
        risk_config: Path | None = _OPT_RISK,
    ) -> None:
        """Short form: ``atb backtest STRATEGY --pairs BTC/USDT ETH/USDT --timeframe 1h --days 90``.

        Without a config: wallet 1000 in the pairs' quote currency, stake ``unlimited`` split
        over one slot per pair, fee 0.1 %; without --datadir, ``user_data/data/binance`` or the
        bundled demo candles.
        """
        run_backtesting(
            config_path=config, strategy_name=strategy, strategy_path=strategy_path,
            datadir=datadir, timeframe=timeframe, timerange=timerange, pairs=pairs,
            markets_path=markets, export_trades=export_trades, export_html=export_html,
            db_url=db_url, user_data_dir=user_data_dir, store=not no_store,
            overrides=_overrides(fee, max_open_trades, stake_amount, dry_run_wallet),
            days=days, risk_config=risk_config,
        )
