"""Regime -> parameter sets: switch a strategy's (hyperopt) parameters by market regime."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from atb.errors import ConfigError
from atb.regime.models import Regime, VolRegime

__all__ = ["KNOWN_REGIMES", "StrategyModeManager", "mode_column"]

#: Regime names a parameter set may be keyed on: the values of ``Regime`` and ``VolRegime``.
KNOWN_REGIMES: frozenset[str] = frozenset(r.value for r in (*Regime, *VolRegime))

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _regime_key(regime: Any) -> str | None:
    """Normalise a label (str, Enum member, None/NaN) to its string, or None if it is no string."""
    if isinstance(regime, Enum):
        regime = regime.value
    return regime if isinstance(regime, str) else None


def _check_params(where: str, params: Any) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}: must be a mapping of parameter name -> value, "
                          f"got {type(params).__name__}")
    for name in params:
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{where}: parameter name {name!r} is not a valid attribute name")
    return MappingProxyType(dict(params))


def _is_parameter(obj: Any) -> bool:
    """A hyperopt-style parameter object: has a ``value`` attribute and is not a plain value."""
    plain = (numbers.Number, str, bytes, np.generic, pd.Timestamp, pd.Timedelta, type)
    return not isinstance(obj, plain) and hasattr(obj, "value")


@dataclass(frozen=True)
class StrategyModeManager:
    """Parameter sets per regime, merged over a default set, applied to a strategy-like object.

    ``params_for(regime)`` is ``{**default, **param_sets[regime]}``; a regime without a set (also
    ``None``/NaN warm-up labels and ``"unknown"``) gets ``default`` alone. Put every switched
    parameter in ``default`` so leaving a regime restores it.

    Parameters
    ----------
    param_sets : Mapping[str, Mapping[str, Any]]
        Regime name (``"bull"``, ``"bear"``, ``"range"``, ``"low"``, ``"normal"``, ``"high"``, or
        the enum members) -> parameter name -> value. Stored as read-only mappings.
    default : Mapping[str, Any] or None
        Base parameters for every regime (``None`` = empty).

    Raises
    ------
    ConfigError
        At construction: a key that is not a known regime name (the message names the key), a set
        that is not a mapping, or a parameter name that is not an identifier.

    Examples
    --------
    >>> m = StrategyModeManager({"bull": {"buy_rsi": 40}}, default={"buy_rsi": 30})
    >>> dict(m.params_for("bull")), dict(m.params_for("bear"))
    ({'buy_rsi': 40}, {'buy_rsi': 30})
    """

    param_sets: Mapping[str, Mapping[str, Any]]
    default: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.param_sets, Mapping):
            raise ConfigError("StrategyModeManager.param_sets: must be a mapping of regime -> parameters")
        sets: dict[str, Mapping[str, Any]] = {}
        for key, params in self.param_sets.items():
            name = _regime_key(key)
            if name not in KNOWN_REGIMES:
                raise ConfigError(f"StrategyModeManager.param_sets[{key!r}]: unknown regime; "
                                  f"expected one of {sorted(KNOWN_REGIMES)}")
            assert name is not None
            sets[name] = _check_params(f"StrategyModeManager.param_sets[{name!r}]", params)
        base = _EMPTY if self.default is None else _check_params("StrategyModeManager.default",
                                                                 self.default)
        object.__setattr__(self, "param_sets", MappingProxyType(sets))
        object.__setattr__(self, "default", base)

    def params_for(self, regime: Any) -> Mapping[str, Any]:
        """Parameters for ``regime`` (str, enum member, or None/NaN): read-only mapping.

        Unknown or missing regimes get the default set.
        """
        base = self.default if self.default is not None else _EMPTY
        name = _regime_key(regime)
        if name is None or name not in self.param_sets:
            return base
        return MappingProxyType({**base, **self.param_sets[name]})

    def apply(self, target: Any, regime: Any, *, strict: bool = False) -> Mapping[str, Any]:
        """Set ``target``'s attributes to the parameters of ``regime``; return what was applied.

        For each ``name, value``: if ``target.name`` is a hyperopt-style parameter object (it has a
        ``value`` attribute, e.g. ``IntParameter``), its ``.value`` is set; otherwise
        ``setattr(target, name, value)``. A parameter object found only on the class of an
        instance ``target`` is first copied onto the instance, so other instances and the class
        keep their values (freqtrade gives each strategy instance its own copies as well).

        Parameters
        ----------
        target : object
            Strategy instance (or any object accepting attributes).
        regime : str, Regime, VolRegime or None
        strict : bool, default False
            If True, every parameter must already exist on ``target``.

        Returns
        -------
        Mapping[str, Any]
            The applied parameters (read-only).

        Raises
        ------
        ConfigError
            With ``strict=True``, for a parameter ``target`` lacks (the message names it).
        """
        params = self.params_for(regime)
        missing = object()
        for name, value in params.items():
            current: Any = getattr(target, name, missing)
            if current is missing and strict:
                raise ConfigError(f"StrategyModeManager.apply: {type(target).__name__} has no "
                                  f"parameter {name!r}")
            if current is not missing and _is_parameter(current):
                if not isinstance(target, type) and name not in getattr(target, "__dict__", {name: 0}):
                    current = copy.copy(current)
                    setattr(target, name, current)
                current.value = value
            else:
                setattr(target, name, value)
        return params

    def column(self, labels: pd.Series, name: str, default: Any = np.nan) -> pd.Series:
        """Per-row value of parameter ``name`` for a regime label series (vectorised strategies).

        Parameters
        ----------
        labels : Series
            Regime labels (any index; ``None``/NaN allowed).
        name : str
            Parameter name.
        default : Any, default NaN
            Value where neither the regime's set nor the default set defines ``name``.

        Returns
        -------
        Series
            Same index as ``labels``, named ``name``; numeric dtype when all values are numeric.
        """
        base = self.params_for(None).get(name, default)
        mapping = {r: self.params_for(r).get(name, default) for r in self.param_sets}
        return mode_column(labels, mapping, default=base).rename(name)


def mode_column(labels: pd.Series, mapping: Mapping[Any, Any], default: Any = np.nan) -> pd.Series:
    """Map a regime label series to a per-row parameter column (e.g. an RSI threshold per row).

    Parameters
    ----------
    labels : Series
        Regime labels (str, enum members, ``None``/NaN); any index.
    mapping : Mapping
        Regime name (or enum member) -> value.
    default : Any, default NaN
        Value for labels absent from ``mapping`` and for ``None``/NaN labels.

    Returns
    -------
    Series
        Same index and name as ``labels``; dtype inferred (float64/int64 when the values allow).

    Examples
    --------
    >>> mode_column(pd.Series(["bull", None, "bear"]), {"bull": 40.0, "bear": 25.0}).tolist()
    [40.0, nan, 25.0]
    """
    table = {_regime_key(k): v for k, v in mapping.items()}
    values = [table.get(_regime_key(v), default) if _regime_key(v) is not None else default
              for v in labels.to_numpy(dtype=object)]
    return pd.Series(values, index=labels.index, name=labels.name, dtype=object).infer_objects()
