"""Find and load a strategy class by name (freqtrade's resolver semantics).

Search order: every ``*.py`` file in ``strategy_path`` (sorted), then atb's built-in strategies.
While a strategy module is imported, ``freqtrade.*`` and (when absent) ``technical.*`` resolve
to atb's compatibility modules (:mod:`atb.compat`), so freqtrade strategy files run unmodified.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import json
import pkgutil
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from atb.compat import freqtrade_compat
from atb.errors import StrategyError
from atb.strategy.interface import IStrategy

__all__ = ["load_strategy", "strategy_source_hash"]


def _declares_class(path: Path, name: str) -> bool | None:
    """True/False whether ``path`` defines class ``name``; None when it does not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError:
        return None
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body)


def _syntax_error(path: Path) -> str:
    try:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return f"{path}: syntax error at line {exc.lineno}: {exc.msg}"
    return f"{path}: cannot be parsed"


def _import_file(path: Path) -> ModuleType:
    mod_name = f"atb_user_strategy_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"cannot import strategy file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        with freqtrade_compat():
            spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        tb = traceback.extract_tb(exc.__traceback__)
        line = next((f.lineno for f in reversed(tb) if f.filename == str(path)), None)
        where = f"{path}" + (f" line {line}" if line else "")
        raise StrategyError(f"{where}: {type(exc).__name__}: {exc}") from None
    return module


def _find_class(module: ModuleType, name: str) -> type[IStrategy] | None:
    cls = getattr(module, name, None)
    if inspect.isclass(cls) and issubclass(cls, IStrategy):
        return cls
    return None


def _params_file(path: Path) -> dict[str, Any]:
    """Values from ``<file>.json`` beside the strategy (freqtrade's hyperopt result file)."""
    pfile = path.with_suffix(".json")
    if not pfile.is_file():
        return {}
    try:
        data = json.loads(pfile.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StrategyError(f"{pfile}: invalid parameter file: {exc}") from None
    params: dict[str, Any] = {}
    for space in (data.get("params") or {}).values():
        if isinstance(space, dict):
            params.update(space)
    return params


def load_strategy(name: str, config: dict[str, Any], strategy_path: Path | None = None) -> IStrategy:
    """Load and instantiate strategy class ``name``.

    Parameters
    ----------
    name : str
        Class name.
    config : dict
        Configuration passed to the strategy (config overrides apply).
    strategy_path : Path, optional
        Folder of user strategy files.

    Raises
    ------
    StrategyError
        Unknown name (lists where it looked), a file that does not parse or import (names file
        and line), or a strategy whose attributes are invalid.
    """
    searched: list[str] = []
    if strategy_path is not None:
        folder = Path(strategy_path)
        if not folder.is_dir():
            raise StrategyError(f"strategy path {folder} is not a folder")
        searched.append(str(folder))
        for path in sorted(folder.glob("*.py")):
            declares = _declares_class(path, name)
            if declares is None:
                # only a file that might hold the class is worth failing on
                if name in path.read_text(encoding="utf-8", errors="replace"):
                    raise StrategyError(_syntax_error(path))
                continue
            if not declares:
                continue
            cls = _find_class(_import_file(path), name)
            if cls is not None:
                return _instantiate(cls, config, _params_file(path))
    import atb.strategies as builtin

    searched.append("atb.strategies (built-in)")
    for info in pkgutil.iter_modules(builtin.__path__):
        module = __import__(f"atb.strategies.{info.name}", fromlist=["_"])
        cls = _find_class(module, name)
        if cls is not None:
            return _instantiate(cls, config, {})
    raise StrategyError(f"strategy {name!r} not found in {', '.join(searched)}")


def _instantiate(cls: type[IStrategy], config: dict[str, Any], params: dict[str, Any]) -> IStrategy:
    if params:
        cls.atb_loaded_params = params  # type: ignore[attr-defined]
    try:
        strategy = cls(config)
    except StrategyError:
        raise
    except Exception as exc:
        raise StrategyError(f"strategy {cls.__name__} failed to start: {type(exc).__name__}: {exc}") from None
    return strategy


def strategy_source_hash(strategy: IStrategy) -> str:
    """SHA-256 of the source file of the strategy's class (empty string if unknown)."""
    try:
        path = inspect.getfile(type(strategy))
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (TypeError, OSError):
        return ""
