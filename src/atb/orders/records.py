"""Records of the order store: positions, balance snapshots, decisions and live trades.

All frozen (replaced, never mutated). Amounts are ``Decimal`` in base currency, prices and money
``Decimal`` in quote currency, times tz-aware UTC ``datetime``. :func:`apply_fill` is the one
position rule both order stores use (:class:`~atb.orders.memory.InMemoryOrderStore` and
``atb.persistence.order_store.SqlOrderStore``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any

from atb.core.enums import OrderSide, SignalDirection
from atb.errors import ConfigError
from atb.orders.models import Fill

__all__ = ["BalanceSnapshot", "Decision", "LiveTrade", "PositionState", "apply_fill", "fee_in_quote"]

_ZERO = Decimal(0)
#: Arithmetic context of the position rule (IEEE decimal128 precision), independent of the caller's.
_CTX = Context(prec=34)


def _need_utc(owner: str, name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ConfigError(f"{owner}: invalid value for '{name}': must be timezone-aware UTC")


def _need_text(owner: str, name: str, value: str) -> None:
    if not value:
        raise ConfigError(f"{owner}: missing value for '{name}'")


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionState:
    """Net position of one strategy in one pair, maintained from its fills (average-cost method).

    Attributes
    ----------
    strategy_id : str
        Owner of the position.
    pair : str
        ``BASE/QUOTE`` (``BASE/QUOTE:SETTLE`` for futures).
    amount : Decimal
        Net amount, base currency: > 0 long, < 0 short, 0 flat.
    avg_price : Decimal
        Average entry price of the open amount, quote currency, fees excluded (0 when flat).
    realised_pnl : Decimal
        Realised profit, quote currency, net of every fee paid (see :func:`apply_fill`).
    fees : Decimal
        Fees paid so far, quote currency (as counted by :func:`fee_in_quote`).
    updated_at : datetime or None
        UTC time of the last fill applied (None: no fill yet).
    """

    strategy_id: str
    pair: str
    amount: Decimal = _ZERO
    avg_price: Decimal = _ZERO
    realised_pnl: Decimal = _ZERO
    fees: Decimal = _ZERO
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        _need_text("position", "strategy_id", self.strategy_id)
        _need_text("position", "pair", self.pair)
        _need_utc("position", "updated_at", self.updated_at)

    @property
    def is_flat(self) -> bool:
        """True when no amount is open."""
        return self.amount == 0


def fee_in_quote(fill: Fill) -> Decimal:
    """The fee of ``fill`` in the pair's quote currency.

    A fee in the quote (or settle) currency counts as is; a fee in the base currency counts at the
    fill price (``fee x price``); a fee in any other currency (BNB, ...) counts as 0 here - it is
    seen in the balance snapshots, not in the position.
    """
    base, _, rest = fill.pair.partition("/")
    quote, _, settle = rest.partition(":")
    currency = fill.fee_currency.upper()
    if currency in (quote.upper(), settle.upper()):
        return fill.fee
    if currency == base.upper():
        with localcontext(_CTX):
            return fill.fee * fill.price
    return _ZERO


def apply_fill(position: PositionState, fill: Fill) -> PositionState:
    """Return ``position`` after ``fill`` (average-cost method, signed amounts).

    A buy adds ``fill.amount`` to the signed amount, a sell subtracts it. Adding to a position (or
    opening one) moves the average price to the amount-weighted mean of the old average and the fill
    price. Reducing realises ``closed x (price - avg_price)`` for a long (``closed x (avg_price -
    price)`` for a short) and keeps the average; a fill larger than the position closes it and opens
    the other side at the fill price. Fees are realised when paid: every fill's
    :func:`fee_in_quote` is subtracted from ``realised_pnl`` (entry fees included), and the average
    price excludes fees. The amount is the venue's fill amount: a fee charged in the base currency
    does not reduce it (the venue balance is then ``amount - base fees``; balance reconciliation
    accounts for that, not the position).

    Examples
    --------
    >>> from atb.core.enums import OrderSide
    >>> def f(i, side, amount, price):
    ...     return Fill(fill_id=str(i), client_order_id="c", pair="BTC/USDT", side=side,
    ...                 price=Decimal(price), amount=Decimal(amount), fee=Decimal("0.1"),
    ...                 fee_currency="USDT", is_maker=False, at=datetime(2024, 1, 1, tzinfo=UTC))
    >>> p = PositionState(strategy_id="s", pair="BTC/USDT")
    >>> for i, (side, a, px) in enumerate([(OrderSide.BUY, "1", "100"), (OrderSide.BUY, "1", "110"),
    ...                                    (OrderSide.SELL, "1.5", "120")]):
    ...     p = apply_fill(p, f(i, side, a, px))
    >>> p.amount, p.avg_price, p.realised_pnl, p.fees
    (Decimal('0.5'), Decimal('105'), Decimal('22.2'), Decimal('0.3'))
    """
    if fill.pair != position.pair:
        raise ConfigError(f"fill {fill.fill_id}: invalid value for 'pair': {fill.pair!r} "
                          f"(position is {position.pair!r})")
    with localcontext(_CTX):
        qty = fill.amount if fill.side == OrderSide.BUY else -fill.amount
        old, avg, pnl = position.amount, position.avg_price, position.realised_pnl
        new = old + qty
        if old == 0 or (old > 0) == (qty > 0):
            avg = (abs(old) * avg + abs(qty) * fill.price) / abs(new)
        else:
            closed = min(abs(qty), abs(old))
            pnl += closed * (fill.price - avg) * (1 if old > 0 else -1)
            if new == 0:
                avg = _ZERO
            elif (new > 0) != (old > 0):
                avg = fill.price
        fee = fee_in_quote(fill)
        return PositionState(strategy_id=position.strategy_id, pair=position.pair, amount=new,
                             avg_price=avg, realised_pnl=pnl - fee,
                             fees=position.fees + fee, updated_at=fill.at)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceSnapshot:
    """Balances of one venue account at one time.

    Attributes
    ----------
    venue : str
        Venue id.
    at : datetime
        UTC time of the snapshot.
    balances : Mapping[str, tuple[Decimal, Decimal]]
        ``{currency: (free, used)}``, amounts in that currency (read-only view).
    """

    venue: str
    at: datetime
    balances: Mapping[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _need_text("balance snapshot", "venue", self.venue)
        _need_utc("balance snapshot", "at", self.at)
        frozen = {str(c): (Decimal(f), Decimal(u)) for c, (f, u) in self.balances.items()}
        object.__setattr__(self, "balances", MappingProxyType(frozen))

    def total(self, currency: str) -> Decimal:
        """Free + used of ``currency`` (0 when absent)."""
        free, used = self.balances.get(currency, (_ZERO, _ZERO))
        return free + used


def _json_clean(owner: str, value: Any, path: str) -> Any:
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_clean(owner, v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(owner, v, f"{path}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _json_clean(owner, item(), path)
    raise ConfigError(f"{owner}: invalid value for '{path}': {type(value).__name__} is not JSON-able")


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What a strategy decided on one candle, and what the risk engine said about it.

    Attributes
    ----------
    strategy_id : str
        The strategy instance.
    pair : str
        ``BASE/QUOTE``.
    candle_time : datetime
        UTC open time of the candle the decision was made on.
    action : str
        ``entry``, ``increase``, ``decrease``, ``exit``, ``hold``, ``denied`` (or another
        non-empty word the caller documents).
    signals : Mapping[str, Any]
        Signal values behind the decision. Normalised on construction to JSON-able values:
        non-finite floats become None, ``Decimal`` becomes ``str``, NumPy scalars Python scalars,
        tuples lists; anything else raises :class:`~atb.errors.ConfigError`.
    risk_verdict : str or None
        ``approved``, ``reduced`` or ``denied`` (None: no order was asked for).
    risk_rule : str or None
        The rule that reduced or denied it.
    risk_reason : str or None
        Human-readable reason.
    client_order_id : str or None
        The order the decision produced.
    created_at : datetime
        UTC time the decision was recorded (default: now).
    """

    strategy_id: str
    pair: str
    candle_time: datetime
    action: str
    signals: Mapping[str, Any] = field(default_factory=dict)
    risk_verdict: str | None = None
    risk_rule: str | None = None
    risk_reason: str | None = None
    client_order_id: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        for name in ("strategy_id", "pair", "action"):
            _need_text("decision", name, getattr(self, name))
        _need_utc("decision", "candle_time", self.candle_time)
        _need_utc("decision", "created_at", self.created_at)
        clean = _json_clean("decision", dict(self.signals), "signals")
        json.dumps(clean, allow_nan=False)
        object.__setattr__(self, "signals", clean)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveTrade:
    """One round trip of a live or paper strategy (open until ``close_time`` is set).

    Attributes
    ----------
    trade_id : str
        Caller-chosen unique id (``save_trade`` inserts or updates by it), <= 64 characters.
    strategy_id : str
        The strategy instance.
    venue : str
        Venue id.
    pair : str
        ``BASE/QUOTE``.
    side : SignalDirection
        long / short.
    amount : Decimal
        Base-currency amount of the position, > 0.
    open_time : datetime
        UTC time of the entry fill.
    open_rate : Decimal
        Average entry price, quote currency.
    entry_client_order_id : str
        The entry order.
    close_time : datetime or None
        UTC time of the exit fill (None while open).
    close_rate : Decimal or None
        Average exit price, quote currency.
    profit_abs : Decimal or None
        Profit in quote currency, net of fees.
    profit_ratio : Decimal or None
        Profit over the entry stake (ratio, not percent).
    exit_reason : str or None
        ``roi``, ``stop_loss``, ``exit_signal``, ...
    exit_client_order_id : str or None
        The exit order.
    enter_tag : str or None
        Entry tag.
    """

    trade_id: str
    strategy_id: str
    venue: str
    pair: str
    side: SignalDirection
    amount: Decimal
    open_time: datetime
    open_rate: Decimal
    entry_client_order_id: str
    close_time: datetime | None = None
    close_rate: Decimal | None = None
    profit_abs: Decimal | None = None
    profit_ratio: Decimal | None = None
    exit_reason: str | None = None
    exit_client_order_id: str | None = None
    enter_tag: str | None = None

    def __post_init__(self) -> None:
        for name in ("trade_id", "strategy_id", "venue", "pair", "entry_client_order_id"):
            _need_text("trade", name, getattr(self, name))
        if len(self.trade_id) > 64:
            raise ConfigError(f"trade: invalid value for 'trade_id': {self.trade_id!r} (<= 64 characters)")
        object.__setattr__(self, "side", SignalDirection(self.side))
        if not self.amount.is_finite() or self.amount <= 0:
            raise ConfigError(f"trade {self.trade_id}: invalid value for 'amount': {self.amount!r}")
        if not self.open_rate.is_finite() or self.open_rate <= 0:
            raise ConfigError(f"trade {self.trade_id}: invalid value for 'open_rate': {self.open_rate!r}")
        _need_utc(f"trade {self.trade_id}", "open_time", self.open_time)
        _need_utc(f"trade {self.trade_id}", "close_time", self.close_time)
        if (self.close_time is None) != (self.close_rate is None):
            raise ConfigError(f"trade {self.trade_id}: invalid value for 'close_rate': close_time and "
                              "close_rate are set together")

    @property
    def is_open(self) -> bool:
        """True until the trade has a close time."""
        return self.close_time is None
