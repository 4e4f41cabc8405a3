"""Schema of the fusion engine's configuration (weights, thresholds, vetoes)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atb.errors import ConfigError
from atb.signals.models import COMPONENTS

__all__ = ["FusionConfig", "load_fusion_config"]

_DEFAULT_WEIGHTS = {"technical": 0.4, "model": 0.3, "sentiment": 0.2, "regime": 0.1}
_DEFAULT_REGIME_SCORES = {"bull": 1.0, "bear": -1.0, "range": 0.0, "low": 0.0, "normal": 0.0,
                          "high": 0.0}


class FusionConfig(BaseModel):
    """How components become a :class:`~atb.signals.models.TradingSignal`.

    Attributes
    ----------
    weights : dict[str, float]
        Non-negative weight per component (keys of :data:`~atb.signals.models.COMPONENTS`);
        default technical 0.4, model 0.3, sentiment 0.2, regime 0.1. Missing (NaN) components
        drop out and the remaining weights are renormalised.
    entry_threshold : float, default 0.25
        ``score >= entry_threshold`` gives a long entry, ``score <= -entry_threshold`` a short one
        (when ``allow_short``). In ``(0, 1]``.
    exit_threshold : float, default 0.0
        A long is exited when ``score <= -exit_threshold`` (a short when ``score >=
        exit_threshold``); 0 exits as soon as the fused view is no longer on the trade's side.
    min_components : int, default 1
        Fewer available components than this vetoes entries (``veto = "components"``).
    allow_short : bool, default False
    long_veto_regimes, short_veto_regimes : list[str]
        Regime labels under which long (default ``["bear"]``) / short (default ``["bull"]``)
        entries are vetoed (``veto = "regime"``).
    event_veto : bool, default True
        An active qualifying news event (``atb.sentiment.events``, CRITICAL by default) vetoes
        entries (``veto = "event"``).
    emergency_exit_on_event : bool, default True
        The same event also asks for an emergency exit of open positions (the backtest kernel's
        ``emergency_exit`` column; live: ``RiskEngine.emergency_exit``).
    regime_scores : dict[str, float]
        Regime label -> component value in ``[-1, 1]`` (default bull 1, bear -1, range 0; the
        volatility labels low/normal/high 0).
    sentiment_scale : float, default 1.0
        Sentiment component = ``clip(sentiment / sentiment_scale, -1, 1)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float] = Field(default_factory=lambda: dict(_DEFAULT_WEIGHTS))
    entry_threshold: float = Field(default=0.25, gt=0.0, le=1.0)
    exit_threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    min_components: int = Field(default=1, ge=1, le=len(COMPONENTS))
    allow_short: bool = False
    long_veto_regimes: list[str] = Field(default_factory=lambda: ["bear"])
    short_veto_regimes: list[str] = Field(default_factory=lambda: ["bull"])
    event_veto: bool = True
    emergency_exit_on_event: bool = True
    regime_scores: dict[str, float] = Field(default_factory=lambda: dict(_DEFAULT_REGIME_SCORES))
    sentiment_scale: float = Field(default=1.0, gt=0.0)

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        for key, w in v.items():
            if key not in COMPONENTS:
                raise ValueError(f"unknown component {key!r}; known: {', '.join(COMPONENTS)}")
            if not w >= 0.0:
                raise ValueError(f"weight of {key!r} must be >= 0, got {w}")
        if sum(v.values()) <= 0.0:
            raise ValueError("at least one weight must be > 0")
        return {k: float(v.get(k, 0.0)) for k in COMPONENTS}

    @field_validator("regime_scores")
    @classmethod
    def _regime_scores(cls, v: dict[str, float]) -> dict[str, float]:
        for key, s in v.items():
            if not -1.0 <= s <= 1.0:
                raise ValueError(f"score of regime {key!r} must be in [-1, 1], got {s}")
        return v


def load_fusion_config(data: Any, where: str = "fusion") -> FusionConfig:
    """Validate a mapping (e.g. the ``fusion`` section of a config) into :class:`FusionConfig`.

    Raises
    ------
    ConfigError
        The message names the offending field as ``<where>.<field>``.
    """
    if data is None:
        return FusionConfig()
    if isinstance(data, FusionConfig):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a mapping, got {type(data).__name__}")
    try:
        return FusionConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{where}.{loc}: {err['msg']}") from None
