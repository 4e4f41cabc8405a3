"""Build the ``freqtrade.*`` / ``technical.*`` stand-in modules served by :mod:`atb.compat`."""

from __future__ import annotations

import importlib.util
import sys
from enum import StrEnum
from types import ModuleType
from typing import Any

from atb.errors import AtbError, StrategyError

__all__ = ["PairLocks", "build_modules"]


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

    @staticmethod
    def get_pair_longest_lock(pair: str | None = None, *args: Any, **kwargs: Any) -> None:
        """No lock."""
        return None


class OperationalException(StrategyError):
    """freqtrade's ``OperationalException`` (a :class:`~atb.errors.StrategyError` here)."""


class DependencyException(AtbError):
    """freqtrade's ``DependencyException``."""


class SignalType(StrEnum):
    """Signal column names."""

    ENTER_LONG = "enter_long"
    EXIT_LONG = "exit_long"
    ENTER_SHORT = "enter_short"
    EXIT_SHORT = "exit_short"


class SignalTagType(StrEnum):
    """Tag column names."""

    ENTER_TAG = "enter_tag"
    EXIT_TAG = "exit_tag"


class MarketDirection(StrEnum):
    """Market direction hint (freqtrade's values)."""

    LONG = "long"
    SHORT = "short"
    EVEN = "even"
    NONE = "none"


class PriceType(StrEnum):
    """Price used for stoploss on exchange."""

    LAST = "last"
    MARK = "mark"
    INDEX = "index"


def _module(name: str, **attrs: Any) -> ModuleType:
    mod = ModuleType(name, f"atb compatibility stand-in for {name}")
    mod.__dict__.update(attrs)
    mod.__atb_compat__ = True  # type: ignore[attr-defined]
    mod.__path__ = []  # a package: submodules are looked up in sys.modules only
    return mod


def _strategy_names() -> dict[str, Any]:
    from atb.core import timeframe
    from atb.strategy import helpers, informative, interface, params, trade

    names: dict[str, Any] = {
        "IStrategy": interface.IStrategy,
        "Trade": trade.Trade,
        "Order": trade.Order,
        "PairLocks": PairLocks,
        "informative": informative.informative,
        "merge_informative_pair": helpers.merge_informative_pair,
        "stoploss_from_open": helpers.stoploss_from_open,
        "stoploss_from_absolute": helpers.stoploss_from_absolute,
    }
    names.update({n: getattr(params, n) for n in (
        "BaseParameter", "BooleanParameter", "CategoricalParameter", "DecimalParameter",
        "IntParameter", "NumericParameter", "RealParameter")})
    names.update({n: getattr(timeframe, n) for n in (
        "timeframe_to_minutes", "timeframe_to_seconds", "timeframe_to_msecs",
        "timeframe_to_next_date", "timeframe_to_prev_date")})
    return names


def _enums() -> dict[str, Any]:
    from atb.core import enums

    names: dict[str, Any] = {n: getattr(enums, n) for n in enums.__all__}
    names.update(SignalType=SignalType, SignalTagType=SignalTagType,
                 MarketDirection=MarketDirection, PriceType=PriceType)
    return names


def build_modules() -> dict[str, ModuleType]:
    """A fresh set of stand-in modules keyed by dotted name (nothing is installed here).

    ``technical`` / ``technical.qtpylib`` are included only when the real ``technical`` package
    is not importable.
    """
    from atb.indicators import qtpylib
    from atb.strategy import dataprovider, trade

    s = _strategy_names()
    tf = {k: v for k, v in s.items() if k.startswith("timeframe_")}
    persistence = {"Trade": trade.Trade, "Order": trade.Order, "LocalTrade": trade.Trade,
                   "PairLocks": PairLocks}
    mods = {
        "freqtrade": _module("freqtrade", __version__="2026.9+atb"),
        "freqtrade.strategy": _module("freqtrade.strategy", **s),
        "freqtrade.strategy.interface": _module("freqtrade.strategy.interface", **s),
        "freqtrade.strategy.hyper": _module("freqtrade.strategy.hyper", **s),
        "freqtrade.strategy.parameters": _module("freqtrade.strategy.parameters", **s),
        "freqtrade.strategy.strategy_helper": _module("freqtrade.strategy.strategy_helper", **s),
        "freqtrade.strategy.informative_decorator": _module(
            "freqtrade.strategy.informative_decorator", **s),
        "freqtrade.persistence": _module("freqtrade.persistence", **persistence),
        "freqtrade.persistence.trade_model": _module("freqtrade.persistence.trade_model", **persistence),
        "freqtrade.vendor": _module("freqtrade.vendor"),
        "freqtrade.vendor.qtpylib": _module("freqtrade.vendor.qtpylib", indicators=qtpylib),
        "freqtrade.vendor.qtpylib.indicators": qtpylib,
        "freqtrade.exchange": _module("freqtrade.exchange", **tf),
        "freqtrade.enums": _module("freqtrade.enums", **_enums()),
        "freqtrade.exceptions": _module(
            "freqtrade.exceptions", OperationalException=OperationalException,
            DependencyException=DependencyException, StrategyError=StrategyError),
        "freqtrade.data": _module("freqtrade.data"),
        "freqtrade.data.dataprovider": _module("freqtrade.data.dataprovider",
                                               DataProvider=dataprovider.DataProvider),
        "freqtrade.constants": _module(
            "freqtrade.constants", DATETIME_PRINT_FORMAT="%Y-%m-%d %H:%M:%S",
            DEFAULT_DATAFRAME_COLUMNS=["date", "open", "high", "low", "close", "volume"],
            REQUIRED_ORDERTYPES=["entry", "exit", "stoploss", "stoploss_on_exchange"],
            REQUIRED_ORDERTIF=["entry", "exit"], UNLIMITED_STAKE_AMOUNT="unlimited",
            Config=dict, ListPairsWithTimeframes=list),
    }
    for dotted, mod in mods.items():  # parent.child attributes, as real imports set them
        parent, _, child = dotted.rpartition(".")
        if parent in mods:
            setattr(mods[parent], child, mod)
    if not _real_technical():
        mods["technical"] = _module("technical", qtpylib=qtpylib)
        mods["technical.qtpylib"] = qtpylib
    return mods


def _real_technical() -> bool:
    """Whether the real ``technical`` package is importable (our stand-in does not count)."""
    current = sys.modules.get("technical")
    if current is not None:
        return not getattr(current, "__atb_compat__", False)
    try:
        return importlib.util.find_spec("technical") is not None
    except (ImportError, ValueError):
        return False
