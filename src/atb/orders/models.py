"""Order records: intents (before the risk check), requests sent to a venue, orders and fills.

All frozen; order-path prices and amounts are ``Decimal`` rounded to the venue's precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import ConfigError
from atb.orders.state import OrderStatus, check_transition

__all__ = ["Fill", "IntentKind", "Order", "OrderIntent", "OrderRequest"]

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


def _need_positive(name: str, value: Decimal | None, *, allow_none: bool = False) -> None:
    if value is None:
        if not allow_none:
            raise ConfigError(f"order: missing value for '{name}'")
        return
    if not value.is_finite() or value <= 0:
        raise ConfigError(f"order: invalid value for '{name}': {value!r} (must be > 0)")


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What is sent to a venue: one order, identified by its idempotent client order id.

    Attributes
    ----------
    client_order_id : str
        Our id, unique per order and stable across retries and restarts (a retried create with
        the same id never makes a second order on venues that enforce uniqueness; reconciliation
        finds the order by it otherwise).
    pair : str
        ``BASE/QUOTE``.
    side : OrderSide
        buy / sell.
    order_type : OrderType
        market / limit / stop_limit.
    amount : Decimal
        Base-currency amount, > 0, already rounded to the venue's amount step.
    price : Decimal or None
        Limit price in quote currency (limit and stop_limit); None for market orders.
    stop_price : Decimal or None
        Trigger price in quote currency (stop_limit only).
    time_in_force : TimeInForce
        GTC by default; ``PO`` (or ``post_only``) makes a maker-only order.
    post_only : bool
        Reject instead of taking liquidity.
    reduce_only : bool
        Only reduce a position (futures); spot venues ignore it.
    """

    client_order_id: str
    pair: str
    side: OrderSide
    order_type: OrderType
    amount: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False

    def __post_init__(self) -> None:
        if not self.client_order_id or len(self.client_order_id) > 36:
            raise ConfigError(f"order: invalid value for 'client_order_id': {self.client_order_id!r} "
                              "(1 to 36 characters)")
        if not self.pair or "/" not in self.pair:
            raise ConfigError(f"order: invalid value for 'pair': {self.pair!r}")
        _need_positive("amount", self.amount)
        if self.order_type == OrderType.MARKET:
            if self.price is not None:
                _need_positive("price", self.price)
        else:
            _need_positive("price", self.price)
        if self.order_type == OrderType.STOP_LIMIT:
            _need_positive("stop_price", self.stop_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of (part of) an order.

    Attributes
    ----------
    fill_id : str
        The venue's trade id (unique per venue); paper fills use ``<client_order_id>-<n>``.
    client_order_id : str
        The order it belongs to.
    pair : str
        ``BASE/QUOTE``.
    side : OrderSide
        buy / sell.
    price : Decimal
        Execution price, quote currency.
    amount : Decimal
        Base-currency amount executed.
    fee : Decimal
        Fee paid, in ``fee_currency``.
    fee_currency : str
        Usually the quote currency.
    is_maker : bool
        Maker (resting order) or taker fill.
    at : datetime
        UTC time of the execution.
    """

    fill_id: str
    client_order_id: str
    pair: str
    side: OrderSide
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_currency: str
    is_maker: bool
    at: datetime

    def __post_init__(self) -> None:
        _need_positive("price", self.price)
        _need_positive("amount", self.amount)
        if self.at.tzinfo is None:
            raise ConfigError("fill: invalid value for 'at': must be timezone-aware UTC")

    @property
    def cost(self) -> Decimal:
        """Price x amount, quote currency."""
        return self.price * self.amount


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """An order and its state; replaced (``dataclasses.replace``), never mutated.

    Attributes
    ----------
    request : OrderRequest
        What was (or will be) sent.
    status : OrderStatus
        Current state (:mod:`atb.orders.state`).
    venue : str
        Venue id (``"binance"``, ``"paper"``).
    strategy_id : str
        The strategy instance that owns it.
    venue_order_id : str or None
        The venue's id, once known.
    filled : Decimal
        Base-currency amount filled so far (0 <= filled <= amount).
    average : Decimal or None
        Average fill price, quote currency.
    fee : Decimal
        Fees paid so far, in quote currency.
    created_at, updated_at : datetime
        UTC.
    tag : str or None
        Entry/exit tag or reason (``"roi"``, ``"stop_loss"``, ...).
    """

    request: OrderRequest
    status: OrderStatus
    venue: str
    strategy_id: str
    created_at: datetime
    updated_at: datetime
    venue_order_id: str | None = None
    filled: Decimal = Decimal(0)
    average: Decimal | None = None
    fee: Decimal = Decimal(0)
    tag: str | None = None

    def __post_init__(self) -> None:
        if self.filled < 0 or self.filled > self.request.amount:
            raise ConfigError(f"order {self.request.client_order_id}: invalid value for 'filled': "
                              f"{self.filled} (0..{self.request.amount})")

    @property
    def client_order_id(self) -> str:
        """The request's idempotent id."""
        return self.request.client_order_id

    @property
    def remaining(self) -> Decimal:
        """Amount - filled, base currency."""
        return self.request.amount - self.filled

    def with_status(self, status: OrderStatus, at: datetime, **changes: object) -> Order:
        """Return a copy in ``status`` (checked by the transition table) with ``changes`` applied.

        Raises
        ------
        OrderStateError
            ``self.status -> status`` is not allowed.
        """
        check_transition(self.status, status, client_order_id=self.client_order_id)
        return replace(self, status=status, updated_at=at, **changes)  # type: ignore[arg-type]
