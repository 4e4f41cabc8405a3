"""The ``risk`` configuration section: typed, validated, every rule with a documented default.

Given in a freqtrade-style config under ``"risk"`` or in its own JSON file
(``atb backtesting --risk-config FILE``). Unknown keys are rejected (a typo must not switch a
protection off silently); every error names the field, e.g.
``risk: invalid value for 'max_drawdown': Input should be greater than 0``.

Defaults (applied when the section exists; without a ``risk`` section no rule runs and
freqtrade parity is exact):

==========================  =========  ===================================================
field                       default    meaning
==========================  =========  ===================================================
max_position_risk           0.01       equity fraction lost if the stop is hit
max_portfolio_exposure      0.20       notional per base asset / equity
max_sector_exposure         0.40       notional per sector (``sectors`` map) / equity
max_total_exposure          1.0        all open notional / equity
max_open_positions          None       open positions (None: freqtrade's max_open_trades)
min_notional / max_notional None       order notional bounds, quote currency
volatility_threshold        None       deny entries when ATR / close is above it
max_correlation             0.95       deny when |rolling return correlation| with an open
                                       position exceeds it (``correlation_window`` candles)
daily_loss_limit            0.05       equity loss since the UTC day start -> REDUCING
max_drawdown                0.20       equity drawdown from the peak -> HALTED (+ flatten)
reduce_at_drawdown          None       drawdown -> REDUCING (exits only) until it recovers
halt_cooldown               None       time HALTED lasts (None: until reset)
max_orders_per_window       None       entry orders per ``order_window``
kill_switch                 False      HALTED from the start
==========================  =========  ===================================================
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from atb.core.timeframe import timeframe_to_seconds
from atb.errors import ConfigError
from atb.risk import layout as L

__all__ = [
    "RULES",
    "BracketConfig",
    "RegimeRiskConfig",
    "RiskConfig",
    "SizingConfig",
    "TakeProfitLevel",
    "load_risk_config",
]

#: Rule names accepted in ``rules`` (the enabled subset; default: all).
RULES: tuple[str, ...] = (
    "kill_switch", "max_open_positions", "order_rate", "volatility", "correlation",
    "position_risk", "asset_exposure", "sector_exposure", "total_exposure", "min_notional",
    "max_notional", "daily_loss", "max_drawdown", "drawdown_reduce",
)



class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SizingConfig(_Strict):
    """Position sizing (:mod:`atb.risk.sizing`); ``method`` ``fixed`` keeps freqtrade's stake."""

    method: Literal["fixed", "fixed_fractional", "kelly", "volatility_target"] = "fixed"
    risk_fraction: float = Field(default=0.01, gt=0.0, le=1.0)
    kelly_multiplier: float = Field(default=0.5, gt=0.0, le=1.0)
    kelly_cap: float = Field(default=0.25, gt=0.0, le=1.0)
    kelly_window: int = Field(default=50, ge=2)
    kelly_min_trades: int = Field(default=20, ge=1)
    target_volatility: float = Field(default=0.01, gt=0.0, le=1.0)
    drawdown_scaling: bool = False
    drawdown_floor: float = Field(default=0.25, ge=0.0, le=1.0)


class TakeProfitLevel(_Strict):
    """One bracket target: ``atr`` ATR multiples from the entry closes ``fraction`` of the amount."""

    atr: float = Field(gt=0.0)
    fraction: float = Field(gt=0.0, le=1.0)


class BracketConfig(_Strict):
    """ATR stop and take-profit brackets (partial exits, trailing from the brackets)."""

    atr_period: int = Field(default=14, ge=1)
    stop_atr: float | None = Field(default=None, gt=0.0)
    take_profit: list[TakeProfitLevel] = Field(default_factory=list, max_length=L.TP_MAX)
    trail_after_tp: bool = True

    @model_validator(mode="after")
    def _levels(self) -> BracketConfig:
        atrs = [lv.atr for lv in self.take_profit]
        if atrs != sorted(atrs) or len(set(atrs)) != len(atrs):
            raise ValueError("take_profit levels must have strictly increasing 'atr'")
        if sum(lv.fraction for lv in self.take_profit) > 1.0 + 1e-12:
            raise ValueError("take_profit fractions must sum to at most 1")
        return self


class RegimeRiskConfig(_Strict):
    """Regime detection used by risk (and split in the report)."""

    detector: Literal["sma", "hmm", "volatility"] = "sma"
    reference_pair: str = "BTC/USDT"
    stake_scale: dict[str, float] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _labels(self) -> RegimeRiskConfig:
        known = ("low", "normal", "high") if self.detector == "volatility" else ("bull", "bear", "range")
        for k in self.stake_scale:
            if k not in known:
                raise ValueError(f"stake_scale: unknown regime {k!r} for the {self.detector!r} detector; "
                                 f"known: {', '.join(known)}")
        return self

    @field_validator("stake_scale")
    @classmethod
    def _scale(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not (x >= 0.0) or math.isinf(x):
                raise ValueError(f"stake_scale[{k!r}] must be a finite number >= 0")
        return v


class RiskConfig(_Strict):
    """Validated risk section; see the module docstring for the defaults."""

    rules: list[str] | None = None
    max_position_risk: float = Field(default=0.01, gt=0.0, le=1.0)
    max_portfolio_exposure: float = Field(default=0.20, gt=0.0)
    max_sector_exposure: float = Field(default=0.40, gt=0.0)
    sectors: dict[str, list[str]] = Field(default_factory=dict)
    max_total_exposure: float = Field(default=1.0, gt=0.0)
    max_open_positions: int | None = Field(default=None, ge=1)
    min_notional: float | None = Field(default=None, ge=0.0)
    max_notional: float | None = Field(default=None, gt=0.0)
    volatility_threshold: float | None = Field(default=None, gt=0.0)
    atr_period: int = Field(default=14, ge=1)
    max_correlation: float | None = Field(default=0.95, gt=0.0, le=1.0)
    correlation_window: int = Field(default=168, ge=3)
    daily_loss_limit: float | None = Field(default=0.05, gt=0.0, lt=1.0)
    daily_loss_action: Literal["reduce", "flatten"] = "reduce"
    max_drawdown: float | None = Field(default=0.20, gt=0.0, lt=1.0)
    reduce_at_drawdown: float | None = Field(default=None, gt=0.0, lt=1.0)
    halt_cooldown: str | None = None
    flatten_on_halt: bool = True
    max_orders_per_window: int | None = Field(default=None, ge=1)
    order_window: str = "1h"
    kill_switch: bool = False
    sizing: SizingConfig = Field(default_factory=lambda: SizingConfig())
    stops: BracketConfig = Field(default_factory=lambda: BracketConfig())
    regime: RegimeRiskConfig | None = None

    @field_validator("rules")
    @classmethod
    def _rules(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            for name in v:
                if name not in RULES:
                    raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(RULES)}")
        return v

    @field_validator("halt_cooldown", "order_window")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                timeframe_to_seconds(v)
            except ConfigError as exc:
                raise ValueError(f"{v!r} is not a duration like '30m', '24h' or '7d'") from exc
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RiskConfig:
        if (self.reduce_at_drawdown is not None and self.max_drawdown is not None
                and self.reduce_at_drawdown >= self.max_drawdown):
            raise ValueError("reduce_at_drawdown must be below max_drawdown")
        if (self.min_notional is not None and self.max_notional is not None
                and self.min_notional > self.max_notional):
            raise ValueError("min_notional must not exceed max_notional")
        seen: dict[str, str] = {}
        for sector, pairs in self.sectors.items():
            for pair in pairs:
                if pair in seen:
                    raise ValueError(f"sectors: pair {pair!r} is in both {seen[pair]!r} and {sector!r}")
                seen[pair] = sector
        return self

    def enabled(self, rule: str) -> bool:
        """True when ``rule`` (a :data:`RULES` name) is enabled."""
        return self.rules is None or rule in self.rules

    def sector_of(self, pair: str) -> str | None:
        """Sector name of ``pair`` in the ``sectors`` map, None if unmapped."""
        for sector, pairs in self.sectors.items():
            if pair in pairs:
                return sector
        return None

    def check_pairs(self, pairs: Iterable[str], source: str = "risk") -> None:
        """Reject a sector map naming pairs outside the whitelist.

        Raises
        ------
        ConfigError
            Naming ``sectors.<sector>`` and the unknown pair.
        """
        known = set(pairs)
        for sector, members in self.sectors.items():
            for pair in members:
                if pair not in known:
                    raise ConfigError(
                        f"{source}: invalid value for 'sectors.{sector}': unknown pair {pair!r} "
                        f"(not in the pair whitelist)")

    def to_vector(self, max_open_trades: float = math.inf) -> np.ndarray:
        """Pack into the float64 parameter vector of :mod:`atb.risk.layout` (off = nan/inf)."""
        rp = np.full(L.R_N, np.nan)
        on = self.enabled
        inf = math.inf

        def opt(rule: str, value: float | None, off: float = inf) -> float:
            return float(value) if (value is not None and on(rule)) else off

        rp[L.R_ENABLED] = 1.0
        rp[L.R_KILL_SWITCH] = 1.0 if (self.kill_switch and on("kill_switch")) else 0.0
        rp[L.R_MAX_POSITION_RISK] = opt("position_risk", self.max_position_risk, math.nan)
        rp[L.R_MAX_ASSET_EXPOSURE] = opt("asset_exposure", self.max_portfolio_exposure)
        rp[L.R_MAX_SECTOR_EXPOSURE] = opt("sector_exposure", self.max_sector_exposure)
        rp[L.R_MAX_TOTAL_EXPOSURE] = opt("total_exposure", self.max_total_exposure)
        mop = self.max_open_positions if self.max_open_positions is not None else max_open_trades
        rp[L.R_MAX_OPEN_POSITIONS] = opt("max_open_positions", mop)
        rp[L.R_MIN_NOTIONAL] = opt("min_notional", self.min_notional, math.nan)
        rp[L.R_MAX_NOTIONAL] = opt("max_notional", self.max_notional, math.nan)
        rp[L.R_VOLATILITY_THRESHOLD] = opt("volatility", self.volatility_threshold)
        rp[L.R_MAX_CORRELATION] = opt("correlation", self.max_correlation)
        rp[L.R_CORRELATION_WINDOW] = float(self.correlation_window)
        rp[L.R_DAILY_LOSS_LIMIT] = opt("daily_loss", self.daily_loss_limit)
        rp[L.R_DAILY_LOSS_FLATTEN] = 1.0 if self.daily_loss_action == "flatten" else 0.0
        rp[L.R_MAX_DRAWDOWN] = opt("max_drawdown", self.max_drawdown)
        rp[L.R_REDUCE_AT_DRAWDOWN] = opt("drawdown_reduce", self.reduce_at_drawdown)
        rp[L.R_HALT_COOLDOWN_NS] = (
            timeframe_to_seconds(self.halt_cooldown) * 1e9 if self.halt_cooldown else inf)
        rp[L.R_FLATTEN_ON_HALT] = 1.0 if self.flatten_on_halt else 0.0
        rp[L.R_MAX_ORDERS] = opt("order_rate", self.max_orders_per_window)
        rp[L.R_ORDER_WINDOW_NS] = timeframe_to_seconds(self.order_window) * 1e9
        s = self.sizing
        rp[L.R_SIZING_METHOD] = {v: k for k, v in L.SIZING_NAMES.items()}[s.method]
        rp[L.R_RISK_FRACTION] = s.risk_fraction
        rp[L.R_KELLY_MULTIPLIER] = s.kelly_multiplier
        rp[L.R_KELLY_CAP] = s.kelly_cap
        rp[L.R_KELLY_WINDOW] = s.kelly_window
        rp[L.R_KELLY_MIN_TRADES] = s.kelly_min_trades
        rp[L.R_TARGET_VOLATILITY] = s.target_volatility
        rp[L.R_DRAWDOWN_SCALING] = 1.0 if s.drawdown_scaling else 0.0
        rp[L.R_DRAWDOWN_FLOOR] = s.drawdown_floor
        b = self.stops
        rp[L.R_STOP_ATR] = b.stop_atr if b.stop_atr is not None else math.nan
        rp[L.R_TP_COUNT] = len(b.take_profit)
        for k, lv in enumerate(b.take_profit):
            rp[L.R_TP_ATR_0 + k] = lv.atr
            rp[L.R_TP_FRACTION_0 + k] = lv.fraction
        rp[L.R_TRAIL_AFTER_TP] = 1.0 if b.trail_after_tp else 0.0
        return rp


def _format(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    field = ".".join(str(x) for x in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{source}: invalid value for '{field or 'risk'}': {msg} (got {err.get('input')!r})"


def load_risk_config(source: str | Path | Mapping[str, Any], name: str = "risk") -> RiskConfig:
    """Validate a risk section given as a mapping or a JSON file path.

    A file may hold the section itself or a whole config with a ``"risk"`` key.

    Raises
    ------
    ConfigError
        Unreadable file, unknown key, out-of-range value, unknown rule; the message names the
        field.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        name = str(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ConfigError(f"risk config file not found: {path}") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"risk config {path}: cannot read JSON: {exc}") from exc
        if isinstance(raw, dict) and isinstance(raw.get("risk"), dict):
            raw = raw["risk"]
    else:
        raw = dict(source)
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: the risk section must be a JSON object")
    try:
        return RiskConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, name)) from exc
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from exc
