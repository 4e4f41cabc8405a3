"""Find and load a strategy class by name (freqtrade's resolver semantics).

Search order: every ``*.py`` file of ``strategy_path`` (sorted by name; or that one file when
``strategy_path`` is a file), then atb's built-in strategies (:mod:`atb.strategies`). A file is
imported only when its syntax tree defines a class of that name, so unrelated broken files do
not matter. While it is imported, ``freqtrade.*`` and (when absent) ``technical.*`` resolve to
atb's compatibility modules (:mod:`atb.compat`) and the strategy folder is importable (sibling
helper modules and base strategies), so freqtrade strategy files run unmodified.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import inspect
import pkgutil
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from atb.compat import freqtrade_compat
from atb.errors import AtbError, StrategyError
from atb.strategy.interface import IStrategy

__all__ = ["load_strategy", "strategy_source_hash"]


def _parse(path: Path) -> ast.Module | SyntaxError:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        return exc
    except (OSError, ValueError) as exc:
        raise StrategyError(f"{path}: cannot be read: {exc}") from None


def _declares(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body)


@contextlib.contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    entry = str(folder)
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def _import_file(path: Path) -> ModuleType:
    """Import ``path`` as a uniquely named module (kept in ``sys.modules`` for pickling)."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    mod_name = f"atb_user_strategy_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        with freqtrade_compat(), _on_sys_path(path.parent):
            spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise StrategyError(_one_line(path, exc)) from None
    return module


def _one_line(path: Path, exc: BaseException) -> str:
    """``<file> line <n>: <Error>: <message>`` naming the line in the strategy file itself."""
    frames = traceback.extract_tb(exc.__traceback__)
    target = str(path.resolve())
    line = next((f.lineno for f in reversed(frames) if str(Path(f.filename).resolve()) == target), None)
    where = f"{path} line {line}" if line else str(path)
    message = " ".join(str(exc).split())
    return f"{where}: {type(exc).__name__}: {message}"


def _find_class(module: ModuleType, name: str) -> type[IStrategy] | None:
    cls = getattr(module, name, None)
    if inspect.isclass(cls) and issubclass(cls, IStrategy):
        return cls
    return None


def _search_folder(folder: Path, name: str) -> type[IStrategy] | None:
    files = [folder] if folder.is_file() else sorted(folder.glob("*.py"))
    for path in files:
        tree = _parse(path)
        if isinstance(tree, SyntaxError):
            if name in path.read_text(encoding="utf-8", errors="replace"):
                raise StrategyError(f"{path} line {tree.lineno}: SyntaxError: {tree.msg}")
            continue
        if not _declares(tree, name):
            continue
        cls = _find_class(_import_file(path), name)
        if cls is None:
            raise StrategyError(f"{path}: class {name} does not subclass IStrategy "
                                "(from freqtrade.strategy import IStrategy)")
        return cls
    return None


#: Package of the built-in strategies, found by name at run time (a plug-in folder: the built-in
#: strategies compose higher layers - ML, fusion, RL - so this layer must not import them).
BUILTIN_PACKAGE = "atb.strategies"


def _search_builtin(name: str) -> type[IStrategy] | None:
    builtin = importlib.import_module(BUILTIN_PACKAGE)

    for info in pkgutil.iter_modules(builtin.__path__):
        if info.name.startswith("_"):
            continue
        cls = _find_class(importlib.import_module(f"atb.strategies.{info.name}"), name)
        if cls is not None:
            return cls
    return None


def load_strategy(name: str, config: dict[str, Any], strategy_path: Path | None = None) -> IStrategy:
    """Load strategy class ``name`` and instantiate it with ``config``.

    Parameters
    ----------
    name : str
        Class name, e.g. ``"SampleStrategy"``.
    config : dict
        Configuration passed to the strategy (config overrides apply; strategy values are copied
        into it where it lacks them, as freqtrade does).
    strategy_path : Path, optional
        Folder of user strategy files (or one ``.py`` file).

    Returns
    -------
    IStrategy
        The strategy instance.

    Raises
    ------
    StrategyError
        Unknown name (the message lists where it looked), a file that does not parse or import
        (one line naming the file and line), a class that is not an ``IStrategy``, or a strategy
        whose attributes are invalid / whose ``__init__`` fails.

    Examples
    --------
    >>> load_strategy("AtbEmaRsiTrend", {}).timeframe
    '1h'
    """
    searched: list[str] = []
    cls: type[IStrategy] | None = None
    if strategy_path is not None:
        folder = Path(strategy_path)
        if not folder.exists():
            raise StrategyError(f"strategy path {folder} does not exist")
        searched.append(str(folder))
        cls = _search_folder(folder, name)
    if cls is None:
        searched.append("atb.strategies (built-in)")
        cls = _search_builtin(name)
    if cls is None:
        raise StrategyError(f"strategy {name!r} not found (looked in {', '.join(searched)})")
    return _instantiate(cls, config)


def _instantiate(cls: type[IStrategy], config: dict[str, Any]) -> IStrategy:
    try:
        with freqtrade_compat():
            return cls(config)
    except AtbError:
        raise
    except Exception as exc:
        where = cls.atb_source_file() or cls.__module__
        detail = " ".join(str(exc).split())
        raise StrategyError(f"strategy {cls.__name__} ({where}) failed to start: "
                            f"{type(exc).__name__}: {detail}") from None


def strategy_source_hash(strategy: IStrategy | type[IStrategy]) -> str:
    """SHA-256 (hex) of the file defining the strategy's class ("" when it has no file)."""
    cls = strategy if isinstance(strategy, type) else type(strategy)
    path = cls.atb_source_file()
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
