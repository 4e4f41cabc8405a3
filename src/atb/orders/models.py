"""Order intents: what a strategy (or the risk engine itself) wants to do, before the risk check."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from atb.errors import ConfigError

__all__ = ["IntentKind", "OrderIntent"]

#: ``entry`` opens a position, ``increase`` adds to one (DCA), ``decrease`` is a partial exit,
#: ``exit`` closes it.
IntentKind = Literal["entry", "increase", "decrease", "exit"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIntent:
    """One order a caller wants placed; the :class:`~atb.risk.engine.RiskEngine` decides.

    Attributes
    ----------
    pair : str
        ``BASE/QUOTE`` (``BASE/QUOTE:SETTLE`` for futures).
    kind : IntentKind
        entry / increase / decrease / exit.
    is_short : bool
        Direction of the position the intent belongs to.
    stake : float
        Requested stake (margin), quote currency, > 0 (for exits: the stake being released).
    price : float
        Expected fill price, quote currency, > 0.
    leverage : float
        >= 1; notional = stake x leverage.
    stop_distance : float
        Price move to the stop as a positive ratio (nan: unknown; the engine then uses the
        strategy's stoploss given to it).
    volatility : float
        ATR / close of the signal candle (nan: unknown).
    created_at : datetime
        UTC time of the decision.
    tag : str or None
        Entry/exit tag.
    """

    pair: str
    kind: IntentKind
    is_short: bool
    stake: float
    price: float
    leverage: float = 1.0
    stop_distance: float = math.nan
    volatility: float = math.nan
    created_at: datetime = datetime(1970, 1, 1, tzinfo=UTC)
    tag: str | None = None

    def __post_init__(self) -> None:
        if not self.pair or "/" not in self.pair:
            raise ConfigError(f"order intent: invalid value for 'pair': {self.pair!r}")
        if not (self.stake > 0.0) or math.isinf(self.stake):
            raise ConfigError(f"order intent: invalid value for 'stake': {self.stake!r} (must be > 0)")
        if not (self.price > 0.0) or math.isinf(self.price):
            raise ConfigError(f"order intent: invalid value for 'price': {self.price!r} (must be > 0)")
        if not (self.leverage >= 1.0):
            raise ConfigError(f"order intent: invalid value for 'leverage': {self.leverage!r}")
        if self.created_at.tzinfo is None:
            raise ConfigError("order intent: invalid value for 'created_at': must be timezone-aware UTC")

    @property
    def notional(self) -> float:
        """Stake x leverage, quote currency."""
        return self.stake * self.leverage

    @property
    def opens_risk(self) -> bool:
        """True for entry and increase (checked by the rules); exits always pass."""
        return self.kind in ("entry", "increase")
