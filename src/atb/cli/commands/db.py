"""``atb db upgrade`` and ``atb db current``: migrate the run store and show its schema revision."""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["register"]

_USERDIR = typer.Option(Path("user_data"), "--userdir", "--user-data-dir",
                        help="User directory (default store: <userdir>/atb.sqlite).")
_DB_URL = typer.Option(None, "--db-url", help="SQLAlchemy URL of the run store (default: SQLite in userdir).")


def _url(db_url: str | None, userdir: Path) -> str:
    return db_url or f"sqlite:///{userdir / 'atb.sqlite'}"


def _upgrade(db_url: str | None, userdir: Path, revision: str) -> None:
    from atb.persistence.db import redact_url
    from atb.persistence.migrate import head_revision, upgrade_db

    if db_url is None:
        userdir.mkdir(parents=True, exist_ok=True)
    url = _url(db_url, userdir)
    before = _current(url)
    after = upgrade_db(url, revision)
    state = "head" if after == head_revision() else f"head is {head_revision()}"
    change = "unchanged" if before == after else f"from {before or 'empty'}"
    typer.echo(f"{redact_url(url)}: at revision {after} ({state}; {change})")


def _current(url: str) -> str | None:
    from atb.persistence.migrate import current_revision

    return current_revision(url)


def _show_current(db_url: str | None, userdir: Path) -> None:
    from atb.persistence.db import redact_url
    from atb.persistence.migrate import head_revision

    url = _url(db_url, userdir)
    if db_url is None and not (userdir / "atb.sqlite").is_file():
        typer.echo(f"{redact_url(url)}: no database yet (head is {head_revision()}; run 'atb db upgrade')")
        return
    current = _current(url)
    head = head_revision()
    if current is None:
        note = f"not under migration control; head is {head}, run 'atb db upgrade'"
    elif current == head:
        note = "head"
    else:
        note = f"head is {head}, run 'atb db upgrade'"
    typer.echo(f"{redact_url(url)}: at revision {current or 'none'} ({note})")


def register(app: typer.Typer) -> None:
    """Attach the ``db`` sub-app (``upgrade``, ``current``) to the ``atb`` app."""
    sub = typer.Typer(name="db", help="Run store schema: migrate and inspect.", no_args_is_help=True)

    @sub.command("upgrade")
    def upgrade_cmd(
        db_url: str | None = _DB_URL,
        userdir: Path = _USERDIR,
        revision: str = typer.Option("head", "--revision", help="Target revision id or 'head'."),
    ) -> None:
        """Migrate the run store to a revision (default: the newest); safe to run repeatedly."""
        _upgrade(db_url, userdir, revision)

    @sub.command("current")
    def current_cmd(
        db_url: str | None = _DB_URL,
        userdir: Path = _USERDIR,
    ) -> None:
        """Show the run store's schema revision and whether it is the newest."""
        _show_current(db_url, userdir)

    app.add_typer(sub, name="db")
