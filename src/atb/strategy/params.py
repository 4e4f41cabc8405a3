"""Hyperoptable strategy parameters with freqtrade's constructor signatures, and their loading.

A strategy declares parameters as class attributes::

    buy_rsi = IntParameter(10, 40, default=30, space="buy")
    bb_std = DecimalParameter(1.5, 3.0, default=2.0, decimals=1, space="buy")

and reads ``self.buy_rsi.value``. ``.value`` is the default until a saved value is loaded
(:func:`load_parameters`), with freqtrade's precedence: the ``<strategy file>.json`` parameter
file, then the strategy's ``buy_params``/``sell_params``/``<space>_params`` dicts, then the default.
``.range`` is every candidate value while hyperopt optimises the parameter's space
(``in_space`` and ``optimize``), else just the current value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from atb.errors import StrategyError

__all__ = [
    "BaseParameter",
    "BooleanParameter",
    "CategoricalParameter",
    "DecimalParameter",
    "IntParameter",
    "NumericParameter",
    "RealParameter",
    "detect_parameters",
    "load_parameters",
    "read_params_file",
]

#: Spaces recognised from a parameter's name prefix when it has no explicit ``space``.
PREFIX_SPACES = ("buy", "sell", "protection", "enter", "exit")


class BaseParameter:
    """Common behaviour of hyperoptable parameters.

    Parameters
    ----------
    default : Any
        Value used until a saved value is loaded.
    space : str, optional
        Hyperopt space (``"buy"``, ``"sell"``, ``"protection"`` or a custom name); optional when
        the attribute name starts with ``buy_``/``sell_``/``protection_``.
    optimize : bool
        Whether hyperopt varies it.
    load : bool
        Whether saved values (params file, ``<space>_params``) replace the default.
    **kwargs
        Extra options for the optimiser's search space (kept in ``space_params``).

    Raises
    ------
    StrategyError
        If ``name`` is passed (the attribute name is the parameter name).
    """

    in_space: bool = False

    def __init__(self, *, default: Any, space: str | None = None, optimize: bool = True,
                 load: bool = True, **kwargs: Any) -> None:
        if "name" in kwargs:
            raise StrategyError(f"{type(self).__name__}: 'name' comes from the attribute name; "
                                "do not pass it")
        self.category = space
        self.space_params = kwargs
        self.default = default
        self.value = default
        self.optimize = optimize
        self.load = load
        self.name = ""
        self.in_space = False

    @property
    def space(self) -> str | None:
        """The hyperopt space (alias of ``category``, freqtrade's attribute)."""
        return self.category

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value})"

    def can_optimize(self) -> bool:
        """True while hyperopt varies this parameter (its space is optimised and ``optimize``)."""
        return bool(self.in_space and self.optimize)

    @property
    def range(self) -> Sequence[Any]:
        """Candidate values: just the current value unless being optimised."""
        return [self.value]


class NumericParameter(BaseParameter):
    """A number in ``[low, high]`` (both inclusive); ``low`` may be a ``[low, high]`` pair.

    Raises
    ------
    StrategyError
        For a malformed range (a pair plus ``high``, not two values, or ``low > high``).
    """

    def __init__(self, low: Any, high: Any | None = None, *, default: Any, space: str | None = None,
                 optimize: bool = True, load: bool = True, **kwargs: Any) -> None:
        cls = type(self).__name__
        if isinstance(low, Sequence):
            if high is not None or len(low) != 2:
                raise StrategyError(f"{cls}: the space must be [low, high] or low, high")
            low, high = low
        elif high is None:
            raise StrategyError(f"{cls}: the space must be [low, high] or low, high")
        if low > high:
            raise StrategyError(f"{cls}: low {low!r} is above high {high!r}")
        self.low = low
        self.high = high
        super().__init__(default=default, space=space, optimize=optimize, load=load, **kwargs)


class IntParameter(NumericParameter):
    """Integer in ``[low, high]``."""

    def __init__(self, low: int | Sequence[int], high: int | None = None, *, default: int,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(low, high, default=default, space=space, optimize=optimize, load=load,
                         **kwargs)

    @property
    def range(self) -> Sequence[int]:
        """``range(low, high + 1)`` while optimised, else ``range(value, value + 1)``."""
        if self.can_optimize():
            return range(self.low, self.high + 1)
        return range(self.value, self.value + 1)


class RealParameter(NumericParameter):
    """Float in ``[low, high]`` with unlimited precision."""

    def __init__(self, low: float | Sequence[float], high: float | None = None, *, default: float,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(low, high, default=default, space=space, optimize=optimize, load=load,
                         **kwargs)


class DecimalParameter(NumericParameter):
    """Float in ``[low, high]`` on a grid of ``decimals`` digits (default 3); default rounded."""

    def __init__(self, low: float | Sequence[float], high: float | None = None, *, default: float,
                 decimals: int = 3, space: str | None = None, optimize: bool = True,
                 load: bool = True, **kwargs: Any) -> None:
        self._decimals = decimals
        super().__init__(low, high, default=round(default, decimals), space=space,
                         optimize=optimize, load=load, **kwargs)

    @property
    def decimals(self) -> int:
        """Digits after the decimal point."""
        return self._decimals

    @property
    def range(self) -> Sequence[float]:
        """Every grid value ``low..high`` (step ``10**-decimals``) while optimised, else ``[value]``."""
        if not self.can_optimize():
            return [self.value]
        scale = 10 ** self._decimals
        lo, hi = int(self.low * scale), int(self.high * scale)
        return [round(n / scale, self._decimals) for n in range(lo, hi + 1)]


class CategoricalParameter(BaseParameter):
    """One of ``categories`` (at least two); the default is the first category unless given."""

    def __init__(self, categories: Sequence[Any], *, default: Any | None = None,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **kwargs: Any) -> None:
        if len(categories) < 2:
            raise StrategyError(f"{type(self).__name__}: needs at least two categories, "
                                f"got {list(categories)!r}")
        self.opt_range = categories
        super().__init__(default=categories[0] if default is None else default, space=space,
                         optimize=optimize, load=load, **kwargs)

    @property
    def range(self) -> Sequence[Any]:
        """The categories while optimised, else ``[value]``."""
        return self.opt_range if self.can_optimize() else [self.value]


class BooleanParameter(CategoricalParameter):
    """``True`` or ``False`` (a :class:`CategoricalParameter` over ``[True, False]``)."""

    def __init__(self, *, default: Any | None = None, space: str | None = None,
                 optimize: bool = True, load: bool = True, **kwargs: Any) -> None:
        super().__init__([True, False], default=default, space=space, optimize=optimize,
                         load=load, **kwargs)


# -- discovery and loading -----------------------------------------------------------------------
def _space_of(name: str, param: BaseParameter) -> str | None:
    prefixed = next((s for s in PREFIX_SPACES if name.startswith(s + "_")), None)
    if param.category is None:
        return prefixed
    if prefixed in ("buy", "sell", "protection") and param.category != prefixed:
        raise StrategyError(f"parameter {name}: name says space {prefixed!r} but space="
                            f"{param.category!r} (inconclusive)")
    return param.category


def detect_parameters(obj: Any) -> Iterator[tuple[str, str | None, BaseParameter]]:
    """Yield ``(name, space, parameter)`` for each parameter attribute of ``obj`` (sorted by name).

    Raises
    ------
    StrategyError
        If a parameter's name prefix contradicts its explicit ``space``.
    """
    for name in dir(obj):
        if name.startswith("__"):
            continue
        attr = getattr(obj, name, None)
        if isinstance(attr, BaseParameter):
            yield name, _space_of(name, attr), attr


def read_params_file(strategy_file: Path | str | None, class_name: str) -> dict[str, Any]:
    """The ``params`` section of ``<strategy_file minus .py>.json`` (freqtrade's hyperopt export).

    Returns ``{}`` when there is no such file. The file looks like
    ``{"strategy_name": ..., "params": {"buy": {...}, "sell": {...}, "roi": {...},
    "stoploss": {"stoploss": ...}, "trailing": {...}, "max_open_trades": {...}}}``.

    Raises
    ------
    StrategyError
        If the file is not valid JSON or belongs to another strategy (``strategy_name``).
    """
    if not strategy_file:
        return {}
    pfile = Path(strategy_file).with_suffix(".json")
    if not pfile.is_file():
        return {}
    try:
        data = json.loads(pfile.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StrategyError(f"{pfile}: invalid parameter file: {exc}") from None
    if not isinstance(data, dict) or data.get("strategy_name") != class_name:
        found = data.get("strategy_name") if isinstance(data, dict) else None
        raise StrategyError(f"{pfile}: parameter file is not for strategy {class_name} "
                            f"(strategy_name={found!r})")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise StrategyError(f"{pfile}: 'params' must be an object")
    return params


def load_parameters(strategy: Any, file_params: dict[str, Any]) -> dict[str, BaseParameter]:
    """Give ``strategy`` its own copy of each parameter, named and loaded with saved values.

    Copies are set as instance attributes (the class's parameter objects are never changed, so
    two strategy instances never share values). Precedence for a loadable parameter: the file's
    ``params[space][name]``, then ``strategy.<space>_params[name]``, then the default.

    Returns
    -------
    dict
        Parameter name -> the instance's parameter.
    """
    found: dict[str, BaseParameter] = {}
    for name, space, param in detect_parameters(type(strategy)):
        mine = copy.copy(param)
        mine.name = name
        if mine.category is None:
            mine.category = space
        if space is not None and mine.load:
            saved = {**(getattr(strategy, f"{space}_params", None) or {}),
                     **(file_params.get(space) or {})}
            if name in saved:
                mine.value = saved[name]
        setattr(strategy, name, mine)
        found[name] = mine
    return found
