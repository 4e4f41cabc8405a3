"""``atb models list`` and ``atb models show NAME``: browse the model registry (``<userdir>/models``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["register"]

_USERDIR = typer.Option(Path("user_data"), "--userdir", "--user-data-dir", help="User directory.")
_REGISTRY = typer.Option(None, "--registry", help="Registry folder (default <userdir>/models).")


def _console() -> Console:
    from rich.console import Console

    return Console() if Console().is_terminal else Console(width=160)


def _list(registry: Path) -> None:
    from rich.table import Table

    from atb.ml.registry import ModelRegistry

    records = ModelRegistry(registry).list()
    table = Table(title=f"Models in {registry}")
    for col in ("Name", "Version", "Kind", "Task", "Features", "Train from", "Train to", "Created (UTC)",
                "SHA-256"):
        table.add_column(col)
    for r in records:
        table.add_row(r.name, str(r.version), r.kind, r.task, str(len(r.features)),
                      f"{r.train_start:%Y-%m-%d %H:%M}", f"{r.train_end:%Y-%m-%d %H:%M}",
                      f"{r.created_at:%Y-%m-%d %H:%M}", r.sha256[:12])
    _console().print(table)
    if not records:
        typer.echo(f"No models registered in {registry}")


def _show(registry: Path, name: str, version: int | None) -> None:
    from rich.table import Table

    from atb.ml.registry import ModelRegistry

    reg = ModelRegistry(registry)
    r = reg.get(name, version)
    reg.verify(r)
    console = _console()
    table = Table(title=f"{r.name} v{r.version}")
    table.add_column("Field")
    table.add_column("Value")
    rows = [("kind", r.kind), ("task", r.task), ("path", str(r.path)),
            ("train_start", r.train_start.isoformat()), ("train_end", r.train_end.isoformat()),
            ("created_at", r.created_at.isoformat()), ("sha256", f"{r.sha256} (verified)"),
            ("atb_version", r.atb_version), ("files", ", ".join(r.files)),
            ("features", ", ".join(r.features))]
    rows += [(f"metric {k}", str(v)) for k, v in r.metrics.items()]
    rows += [(f"param {k}", json.dumps(v)) for k, v in r.params.items()]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach the ``models`` sub-app (``list``, ``show``) to the ``atb`` app."""
    sub = typer.Typer(name="models", help="Browse registered ML models.", no_args_is_help=True)

    @sub.command("list")
    def list_cmd(
        userdir: Path = _USERDIR,
        registry: Path | None = _REGISTRY,
    ) -> None:
        """List every registered model version."""
        _list(registry or userdir / "models")

    @sub.command("show")
    def show_cmd(
        name: str = typer.Argument(..., help="Registry name of the model."),
        version: int | None = typer.Option(None, "--version", help="Version (default: latest)."),
        userdir: Path = _USERDIR,
        registry: Path | None = _REGISTRY,
    ) -> None:
        """Show one model version's metadata (hash verified)."""
        _show(registry or userdir / "models", name, version)

    app.add_typer(sub, name="models")
