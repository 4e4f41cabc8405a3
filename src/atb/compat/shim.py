"""Build the ``freqtrade``/``technical`` shim modules and install them temporarily."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

__all__ = ["freqtrade_compat"]


class PairLocks:
    """Stand-in for freqtrade's ``PairLocks``: protections are not simulated, nothing is locked."""

    @staticmethod
    def is_pair_locked(pair: str, candle_date: Any = None, side: str = "*") -> bool:
        """Always False."""
        return False

    @staticmethod
    def is_global_lock(candle_date: Any = None, side: str = "*") -> bool:
        """Always False."""
        return False

    @staticmethod
    def get_pair_locks(pair: str | None = None, *args: Any, **kwargs: Any) -> list[Any]:
        """No locks."""
        return []


def _module(name: str, **attrs: Any) -> ModuleType:
    mod = ModuleType(name)
    mod.__dict__.update(attrs)
    mod.__path__ = []  # importable as a package
    return mod


def _build() -> dict[str, ModuleType]:
    from atb.core import enums, timeframe
    from atb.indicators import qtpylib
    from atb.strategy import helpers, interface, params, trade

    strategy_names = {
        "IStrategy": interface.IStrategy,
        "Trade": trade.Trade,
        "Order": trade.Order,
        "PairLocks": PairLocks,
        "IntParameter": params.IntParameter,
        "DecimalParameter": params.DecimalParameter,
        "RealParameter": params.RealParameter,
        "CategoricalParameter": params.CategoricalParameter,
        "BooleanParameter": params.BooleanParameter,
        "BaseParameter": params.BaseParameter,
        "merge_informative_pair": helpers.merge_informative_pair,
        "stoploss_from_open": helpers.stoploss_from_open,
        "stoploss_from_absolute": helpers.stoploss_from_absolute,
        "timeframe_to_minutes": timeframe.timeframe_to_minutes,
        "timeframe_to_seconds": timeframe.timeframe_to_seconds,
        "timeframe_to_msecs": timeframe.timeframe_to_msecs,
        "timeframe_to_next_date": timeframe.timeframe_to_next_date,
        "timeframe_to_prev_date": timeframe.timeframe_to_prev_date,
        "informative": __import__("atb.strategy.informative", fromlist=["x"]).informative,
    }
    enum_names = {n: getattr(enums, n) for n in enums.__all__}
    mods = {
        "freqtrade": _module("freqtrade", __version__="2026.9-atb"),
        "freqtrade.strategy": _module("freqtrade.strategy", **strategy_names),
        "freqtrade.strategy.interface": _module("freqtrade.strategy.interface", **strategy_names),
        "freqtrade.strategy.hyper": _module("freqtrade.strategy.hyper", **strategy_names),
        "freqtrade.strategy.parameters": _module("freqtrade.strategy.parameters", **strategy_names),
        "freqtrade.persistence": _module(
            "freqtrade.persistence", Trade=trade.Trade, Order=trade.Order, PairLocks=PairLocks,
            LocalTrade=trade.Trade,
        ),
        "freqtrade.vendor": _module("freqtrade.vendor"),
        "freqtrade.vendor.qtpylib": _module("freqtrade.vendor.qtpylib", indicators=qtpylib),
        "freqtrade.vendor.qtpylib.indicators": qtpylib,
        "freqtrade.exchange": _module("freqtrade.exchange", **{
            k: v for k, v in strategy_names.items() if k.startswith("timeframe_")}),
        "freqtrade.enums": _module("freqtrade.enums", **enum_names),
        "freqtrade.constants": _module("freqtrade.constants", DATETIME_PRINT_FORMAT="%Y-%m-%d %H:%M:%S",
                                       DEFAULT_DATAFRAME_COLUMNS=["date", "open", "high", "low",
                                                                  "close", "volume"]),
    }
    mods["freqtrade"].strategy = mods["freqtrade.strategy"]  # type: ignore[attr-defined]
    mods["freqtrade"].vendor = mods["freqtrade.vendor"]  # type: ignore[attr-defined]
    mods["freqtrade"].persistence = mods["freqtrade.persistence"]  # type: ignore[attr-defined]
    mods["freqtrade"].enums = mods["freqtrade.enums"]  # type: ignore[attr-defined]
    mods["freqtrade"].exchange = mods["freqtrade.exchange"]  # type: ignore[attr-defined]
    mods["freqtrade.vendor"].qtpylib = mods["freqtrade.vendor.qtpylib"]  # type: ignore[attr-defined]
    if importlib.util.find_spec("technical") is None:
        mods["technical"] = _module("technical", qtpylib=qtpylib)
        mods["technical.qtpylib"] = qtpylib
    return mods


@contextlib.contextmanager
def freqtrade_compat() -> Iterator[None]:
    """Serve the shim modules while the block runs; previous ``sys.modules`` entries return after."""
    mods = _build()
    saved = {name: sys.modules.get(name) for name in mods}
    sys.modules.update(mods)
    try:
        yield
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
