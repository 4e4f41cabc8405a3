"""The ``atb`` command: subcommands mirror freqtrade's names where they overlap.

Each subcommand lives in ``atb.cli.commands.<name>`` and exposes ``register(app)``.
Every :class:`atb.errors.AtbError` reaching the top is printed as one line naming the problem
and the process exits with status 2 (no traceback).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer

from atb.errors import AtbError

__all__ = ["app", "main"]

app = typer.Typer(
    name="atb",
    help="AI-assisted algorithmic trading: freqtrade-compatible backtests and more.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = (
    "backtesting",
    "backtesting_show",
    "data",
    "db",
    "models",
    "train",
    "sentiment",
    "trade",
)

for _name in _COMMAND_MODULES:
    importlib.import_module(f"atb.cli.commands.{_name}").register(app)


_MULTI_VALUE_FLAGS = frozenset({"--pairs", "-p", "--timeframes", "-t"})


def expand_multi_value_flags(argv: list[str]) -> list[str]:
    """Rewrite freqtrade-style ``--pairs A B C`` into ``--pairs A --pairs B --pairs C``.

    Click options take one value each; freqtrade users type several after one flag.
    """
    out: list[str] = []
    flag: str | None = None
    for tok in argv:
        if tok in _MULTI_VALUE_FLAGS:
            flag = tok
            continue
        if flag is not None:
            if tok.startswith("-"):
                flag = None
            else:
                out += [flag, tok]
                continue
        out.append(tok)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; map :class:`AtbError` to a one-line message and exit status 2."""
    args = expand_multi_value_flags(list(sys.argv[1:] if argv is None else argv))
    code = 0
    try:
        app(args=args, standalone_mode=True)
    except AtbError as exc:
        message = " ".join(str(exc).split())  # exactly one line
        typer.echo(f"Error: {message}", err=True)
        code = 2
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if argv is not None:  # called as a library function: behave like sys.exit
        sys.exit(code)
    # The command line process ends here. Skipping interpreter teardown (unloading numba,
    # pandas, ...) saves a few hundred milliseconds; all output is flushed first.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
