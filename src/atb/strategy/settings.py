"""Strategy attribute resolution: parameter file, config overrides, normalisation, validation.

Mirrors freqtrade's strategy resolver rules. Precedence for each overridable attribute: the
configuration, then the strategy (its value is then copied into the configuration when the
configuration lacks it), then freqtrade's default.
"""

from __future__ import annotations

import math
from typing import Any

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError, StrategyError

__all__ = ["OVERRIDABLE", "apply_config", "apply_params_file", "normalise_and_validate"]

#: (attribute, default applied when neither config nor strategy sets it; None = no default).
OVERRIDABLE: tuple[tuple[str, Any], ...] = (
    ("minimal_roi", {"0": 10.0}),
    ("timeframe", None),
    ("stoploss", None),
    ("trailing_stop", None),
    ("trailing_stop_positive", None),
    ("trailing_stop_positive_offset", 0.0),
    ("trailing_only_offset_is_reached", None),
    ("use_custom_stoploss", None),
    ("process_only_new_candles", None),
    ("order_types", None),
    ("order_time_in_force", None),
    ("stake_currency", None),
    ("stake_amount", None),
    ("startup_candle_count", None),
    ("unfilledtimeout", None),
    ("use_exit_signal", True),
    ("exit_profit_only", False),
    ("ignore_roi_if_entry_signal", False),
    ("exit_profit_offset", 0.0),
    ("disable_dataframe_checks", False),
    ("ignore_buying_expired_candle_after", 0),
    ("position_adjustment_enable", False),
    ("max_entry_position_adjustment", -1),
    ("max_open_trades", None),
)
_REQUIRED_ORDERTYPES = ("entry", "exit", "stoploss", "stoploss_on_exchange")
_REQUIRED_ORDERTIF = ("entry", "exit")


def apply_params_file(strategy: Any, params: dict[str, Any]) -> None:
    """Set ROI, stoploss, trailing and max_open_trades from a hyperopt parameter file's ``params``."""
    if "roi" in params:
        strategy.minimal_roi = params["roi"]
    stop = params.get("stoploss") or {}
    if "stoploss" in stop:
        strategy.stoploss = stop["stoploss"]
    for key, value in (params.get("trailing") or {}).items():
        if key in ("trailing_stop", "trailing_stop_positive", "trailing_stop_positive_offset",
                   "trailing_only_offset_is_reached"):
            setattr(strategy, key, value)
    mot = (params.get("max_open_trades") or {}).get("max_open_trades")
    if mot is not None:
        strategy.max_open_trades = math.inf if mot == -1 else mot


def apply_config(strategy: Any, config: dict[str, Any]) -> None:
    """Apply config overrides to ``strategy`` and copy strategy values into ``config``.

    ``config`` is updated in place (as freqtrade does), so strategies and engines read one set
    of values. A strategy ``max_open_trades`` of -1 is copied as infinity.
    """
    for attr, default in OVERRIDABLE:
        if attr in config and not isinstance(getattr(type(strategy), attr, None), property):
            setattr(strategy, attr, config[attr])
        elif getattr(strategy, attr, None) is not None:
            value = getattr(strategy, attr)
            config[attr] = math.inf if attr == "max_open_trades" and value == -1 else value
        elif default is not None:
            setattr(strategy, attr, default)
            config[attr] = default


def _ratio(name: str, value: Any, low: float, high: float, *, high_open: bool = False) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise StrategyError(f"{name}: {value!r} is not a number") from None
    bad_high = f >= high if high_open else f > high
    if math.isnan(f) or f < low or bad_high:
        bound = f"< {high}" if high_open else f"<= {high}"
        raise StrategyError(f"{name}: {f} is out of range (need {low} <= {name.rsplit('.', 1)[-1]} "
                            f"{bound})")
    return f


def _roi(name: str, roi: Any) -> dict[int, float]:
    if not isinstance(roi, dict):
        raise StrategyError(f"{name}.minimal_roi must be a dict of minutes -> ratio, got {roi!r}")
    out: dict[int, float] = {}
    for key, value in roi.items():
        try:
            minutes = int(key)
            ratio = float(value)
        except (TypeError, ValueError):
            raise StrategyError(f"{name}.minimal_roi: entry {key!r}: {value!r} is not "
                                "whole minutes -> ratio") from None
        if minutes < 0 or math.isnan(ratio):
            raise StrategyError(f"{name}.minimal_roi: entry {key!r}: {value!r} is invalid")
        out[minutes] = ratio
    return dict(sorted(out.items()))


def normalise_and_validate(strategy: Any, config: dict[str, Any]) -> None:
    """Normalise types (ROI keys to int minutes, sorted; stoploss float) and check the values.

    Raises
    ------
    StrategyError
        Naming the attribute: missing ``stoploss``/``timeframe``, positive stoploss, ratios out
        of range, a malformed ROI table, incomplete ``order_types``/``order_time_in_force``, or
        ``can_short`` in spot mode.
    ConfigError
        For an unknown timeframe string.
    """
    name = type(strategy).__name__
    if getattr(strategy, "stoploss", None) is None:
        raise StrategyError(f"{name}.stoploss is required (set it in the strategy or config)")
    if not getattr(strategy, "timeframe", None):
        raise StrategyError(f"{name}.timeframe is required (set it in the strategy or config)")
    try:
        timeframe_to_seconds(str(strategy.timeframe))
    except (ConfigError, ValueError) as exc:
        raise ConfigError(f"{name}.timeframe: {exc}") from None
    strategy.minimal_roi = _roi(name, strategy.minimal_roi)
    strategy.stoploss = _ratio(f"{name}.stoploss", strategy.stoploss, -math.inf, 0.0)
    if strategy.trailing_stop_positive is not None:
        strategy.trailing_stop_positive = _ratio(
            f"{name}.trailing_stop_positive", strategy.trailing_stop_positive, 0.0, 1.0)
    strategy.trailing_stop_positive_offset = _ratio(
        f"{name}.trailing_stop_positive_offset", strategy.trailing_stop_positive_offset or 0.0, 0.0, 1.0)
    strategy.exit_profit_offset = _ratio(f"{name}.exit_profit_offset", strategy.exit_profit_offset,
                                         -math.inf, math.inf)
    mot = getattr(strategy, "max_open_trades", None)
    if mot is not None:
        mot = _ratio(f"{name}.max_open_trades", mot, -1.0, math.inf)
        strategy.max_open_trades = math.inf if mot < 0 else mot
    for attr, required in (("order_types", _REQUIRED_ORDERTYPES),
                           ("order_time_in_force", _REQUIRED_ORDERTIF)):
        value = getattr(strategy, attr)
        missing = [k for k in required if not isinstance(value, dict) or k not in value]
        if missing:
            raise StrategyError(f"{name}.{attr} is incomplete: missing {', '.join(missing)}")
    if strategy.can_short and str(config.get("trading_mode", "spot") or "spot") == "spot":
        raise StrategyError(f"{name}: can_short = True needs trading_mode margin or futures "
                            "(set can_short = False to run it on spot; short signals are ignored)")
