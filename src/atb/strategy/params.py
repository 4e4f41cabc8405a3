"""Hyperoptable strategy parameters with freqtrade's constructor signatures.

``IntParameter(low, high, *, default, space, optimize, load)`` and friends: ``.value`` is the
default until a value is loaded from the strategy's ``buy_params``/``sell_params``/... dicts or
a ``<strategy file>.json`` parameter file (``{"params": {"buy": {...}}}``), as freqtrade does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atb.errors import StrategyError

__all__ = [
    "BaseParameter",
    "BooleanParameter",
    "CategoricalParameter",
    "DecimalParameter",
    "IntParameter",
    "RealParameter",
]


class BaseParameter:
    """Common behaviour: a value, a search space name, optimize/load flags."""

    def __init__(self, *, default: Any, space: str | None = None, optimize: bool = True,
                 load: bool = True, **kwargs: Any) -> None:
        self.value = default
        self.default = default
        self.space = space
        self.optimize = optimize
        self.load = load
        self.name = ""
        self.hyperopt_kwargs = kwargs
        self.in_space = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    @property
    def range(self) -> Sequence[Any]:
        """Values the parameter can take (a single value when not being optimised)."""
        return [self.value]


class _Numeric(BaseParameter):
    def __init__(self, low: Any, high: Any | None = None, *, default: Any, space: str | None = None,
                 optimize: bool = True, load: bool = True, **kwargs: Any) -> None:
        if high is None and isinstance(low, Sequence):
            low, high = low[0], low[1]
        if high is None or low > high:
            raise StrategyError(f"{type(self).__name__}: need low <= high, got {low!r}, {high!r}")
        super().__init__(default=default, space=space, optimize=optimize, load=load, **kwargs)
        self.low = low
        self.high = high


class IntParameter(_Numeric):
    """Integer in ``[low, high]``."""

    @property
    def range(self) -> Sequence[Any]:
        """All integers ``low..high`` when optimising, else the current value."""
        return range(self.low, self.high + 1) if self.in_space and self.optimize else [self.value]


class RealParameter(_Numeric):
    """Float in ``[low, high]``."""


class DecimalParameter(_Numeric):
    """Float in ``[low, high]`` with ``decimals`` digits (default 3)."""

    def __init__(self, low: Any, high: Any | None = None, *, default: float, decimals: int = 3,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **kwargs: Any) -> None:
        self._decimals = decimals
        super().__init__(low, high, default=round(default, decimals), space=space,
                         optimize=optimize, load=load, **kwargs)

    @property
    def range(self) -> Sequence[Any]:
        """The grid ``low..high`` at ``10**-decimals`` steps when optimising."""
        if not (self.in_space and self.optimize):
            return [self.value]
        step = 10 ** -self._decimals
        n = int(round((self.high - self.low) / step))
        return [round(self.low + i * step, self._decimals) for i in range(n + 1)]


class CategoricalParameter(BaseParameter):
    """One of ``categories``."""

    def __init__(self, categories: Sequence[Any], *, default: Any | None = None,
                 space: str | None = None, optimize: bool = True, load: bool = True,
                 **kwargs: Any) -> None:
        if len(categories) < 2:
            raise StrategyError("CategoricalParameter needs at least two categories")
        super().__init__(default=categories[0] if default is None else default, space=space,
                         optimize=optimize, load=load, **kwargs)
        self.opt_range = list(categories)

    @property
    def range(self) -> Sequence[Any]:
        """The categories when optimising."""
        return self.opt_range if self.in_space and self.optimize else [self.value]


class BooleanParameter(CategoricalParameter):
    """True or False."""

    def __init__(self, *, default: bool | None = True, space: str | None = None,
                 optimize: bool = True, load: bool = True, **kwargs: Any) -> None:
        super().__init__([True, False], default=default, space=space, optimize=optimize,
                         load=load, **kwargs)
