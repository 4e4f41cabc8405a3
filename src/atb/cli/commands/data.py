"""``atb list-data`` and ``atb download-data``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from atb.errors import ConfigError

__all__ = ["register"]


def _list_data(datadir: Path, show_timerange: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from atb.data.storage import FileCandleStore, list_available
    from atb.errors import DataError

    if not datadir.is_dir():
        raise DataError(f"datadir not found: {datadir}")
    files = list_available(datadir)
    table = Table(title=f"Candles in {datadir}")
    for col in ("Pair", "Timeframe", "Type", *(("From", "To", "Candles") if show_timerange else ())):
        table.add_column(col)
    for pair, tf, ctype, path in files:
        row = [pair, tf, ctype]
        if show_timerange:
            fmt = "jsongz" if path.name.endswith(".json.gz") else path.suffix.lstrip(".")
            df = FileCandleStore(datadir, fmt).load(pair, tf, ctype)
            row += [f"{df['date'].iloc[0]:%Y-%m-%d %H:%M}", f"{df['date'].iloc[-1]:%Y-%m-%d %H:%M}",
                    str(len(df))] if len(df) else ["-", "-", "0"]
        table.add_row(*row)
    Console().print(table)
    typer.echo(f"Found {len(files)} candle files.")


async def _download(exchange_id: str, ccxt_config: dict[str, Any], pairs: list[str],
                    timeframes: list[str], datadir: Path, data_format: str, since_ms: int,
                    until_ms: int | None, candle_type: str) -> None:
    import ccxt.async_support as ccxt_async
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from atb.core.timeframe import timeframe_to_msecs
    from atb.data.download import download_pair
    from atb.data.storage import FileCandleStore

    cls = getattr(ccxt_async, exchange_id, None)
    if cls is None:
        raise ConfigError(f"exchange: {exchange_id!r} is not a ccxt exchange id")
    exchange = cls({"enableRateLimit": True, **ccxt_config})
    store = FileCandleStore(datadir, data_format)
    try:
        await exchange.load_markets()
        unknown = [p for p in pairs if p not in exchange.markets]
        if unknown:
            raise ConfigError(f"pairs: {', '.join(unknown)} not listed on {exchange_id}")
        end = until_ms or int(time.time() * 1000)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            for tf in timeframes:
                for pair in pairs:
                    total = max(1, (end - since_ms) // timeframe_to_msecs(tf))
                    task = progress.add_task(f"{pair} {tf}", total=total)
                    def advance(n: int, t: Any = task) -> None:
                        progress.advance(t, n)

                    report = await download_pair(
                        exchange, store, pair, tf, since_ms=since_ms, until_ms=until_ms,
                        candle_type=candle_type, on_progress=advance,
                    )
                    progress.update(task, completed=total)
                    progress.console.print(
                        f"{pair} {tf}: +{report.new_candles} candles, {report.total_candles} stored"
                        f" ({report.first} .. {report.last}), {report.gaps} gaps"
                    )
    finally:
        await exchange.close()


def register(app: typer.Typer) -> None:
    """Add ``list-data`` and ``download-data``."""

    @app.command("list-data")
    def list_data(
        datadir: Path = typer.Option(Path("user_data/data/binance"), "--datadir", "--data-dir"),
        show_timerange: bool = typer.Option(False, "--show-timerange"),
    ) -> None:
        """List the candle files of a data folder (freqtrade layout)."""
        _list_data(datadir, show_timerange)

    @app.command("download-data")
    def download_data(
        pairs: list[str] = typer.Option(..., "--pairs", "-p", help="--pairs BTC/USDT ETH/USDT"),
        timeframes: list[str] = typer.Option(["1h"], "--timeframes", "-t"),
        exchange: str | None = typer.Option(None, "--exchange", help="ccxt exchange id"),
        days: int | None = typer.Option(None, "--days", help="Download the last N days"),
        timerange: str | None = typer.Option(None, "--timerange", help="YYYYMMDD-[YYYYMMDD]"),
        datadir: Path | None = typer.Option(None, "--datadir", "--data-dir"),
        data_format: str = typer.Option("feather", "--data-format-ohlcv"),
        trading_mode: str = typer.Option("spot", "--trading-mode"),
        config: Path | None = typer.Option(None, "--config", "-c", help="freqtrade config.json"),
    ) -> None:
        """Download candles through ccxt into the freqtrade data layout (resumable)."""
        from atb.config.freqtrade import load_freqtrade_config
        from atb.core.timeframe import timeframe_to_seconds
        from atb.data.storage import FORMATS
        from atb.data.timerange import TimeRange

        cfg = load_freqtrade_config(config) if config else {}
        ex_cfg = cfg.get("exchange") or {}
        exchange_id = exchange or ex_cfg.get("name") or "binance"
        ccxt_config = {**(ex_cfg.get("ccxt_config") or {}), **(ex_cfg.get("ccxt_async_config") or {})}
        for tf in timeframes:
            timeframe_to_seconds(tf)
        if data_format not in FORMATS:
            raise ConfigError(f"--data-format-ohlcv: {data_format!r} is not one of {', '.join(FORMATS)}")
        now_ms = int(time.time() * 1000)
        until_ms = None
        if timerange:
            tr = TimeRange.parse(timerange)
            if tr.startdt is None:
                raise ConfigError("--timerange: a start date is required for download-data")
            since_ms = int(tr.startdt.timestamp() * 1000)
            until_ms = int(tr.stopdt.timestamp() * 1000) if tr.stopdt else None
        else:
            since_ms = now_ms - (days or 30) * 86_400_000
        target = datadir or Path("user_data/data") / exchange_id
        candle_type = "futures" if trading_mode == "futures" else "spot"
        import asyncio

        asyncio.run(_download(exchange_id, ccxt_config, list(pairs), list(timeframes), target,
                              data_format, since_ms, until_ms, candle_type))
