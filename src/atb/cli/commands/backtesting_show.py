"""``atb backtesting-show``: list stored backtest runs or show one."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``backtesting-show`` to the CLI."""

    @app.command("backtesting-show")
    def backtesting_show(
        run_id: int | None = typer.Option(None, "--run-id", help="Show this run"),
        strategy: str | None = typer.Option(None, "--strategy", "-s", help="Only this strategy"),
        limit: int = typer.Option(50, "--limit", help="How many runs to list"),
        trades: int = typer.Option(20, "--trades", help="Trades to print with --run-id"),
        db_url: str | None = typer.Option(None, "--db-url", help="Run store URL"),
        user_data_dir: Path = typer.Option(Path("user_data"), "--user-data-dir", "--userdir"),
    ) -> None:
        """List past backtest runs (newest first), or show one with --run-id."""
        from rich.console import Console
        from rich.table import Table

        from atb.persistence import BacktestRunRepository, create_db_engine, create_session_factory

        repo = BacktestRunRepository(create_session_factory(create_db_engine(db_url, user_data_dir)))
        console = Console() if Console().is_terminal else Console(width=160)
        if run_id is None:
            table = Table(title="Backtest runs")
            for col in ("Id", "Created (UTC)", "Strategy", "TF", "From", "To", "Pairs", "Trades",
                        "Profit", "Profit %", "Max DD %"):
                table.add_column(col)
            for r in repo.list(limit=limit, strategy=strategy):
                table.add_row(
                    str(r.id), f"{r.created_at:%Y-%m-%d %H:%M}", r.strategy, r.timeframe,
                    f"{r.backtest_start:%Y-%m-%d}", f"{r.backtest_end:%Y-%m-%d}",
                    str(len(r.pairs)), str(r.trade_count),
                    f"{r.profit_total_abs:.3f} {r.stake_currency}", f"{r.profit_total * 100:.2f}",
                    f"{r.max_drawdown_account * 100:.2f}",
                )
            console.print(table)
            return
        run = repo.get(run_id)
        s = run.summary
        console.print(f"Run #{s.id}: {s.strategy} {s.timeframe} {s.backtest_start:%Y-%m-%d} -> "
                      f"{s.backtest_end:%Y-%m-%d}, {len(s.pairs)} pairs, config {s.config_hash[:12]}")
        metrics = Table(title="Summary metrics")
        metrics.add_column("Metric")
        metrics.add_column("Value")
        for key, value in run.metrics.items():
            if not isinstance(value, list | dict):
                metrics.add_row(key, str(value))
        console.print(metrics)
        tt = Table(title=f"Trades (first {min(trades, len(run.trades))} of {len(run.trades)})")
        for col in ("pair", "open_date", "close_date", "open_rate", "close_rate", "profit_ratio",
                    "exit_reason"):
            tt.add_column(col)
        for row in run.trades.head(trades).itertuples(index=False):
            tt.add_row(row.pair, f"{row.open_date:%Y-%m-%d %H:%M}", f"{row.close_date:%Y-%m-%d %H:%M}",
                       f"{row.open_rate:.8g}", f"{row.close_rate:.8g}",
                       f"{row.profit_ratio * 100:.2f}%", row.exit_reason)
        console.print(tt)
