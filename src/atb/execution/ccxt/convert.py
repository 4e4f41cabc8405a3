"""Convert ccxt's unified dicts into the frozen records of :mod:`atb.execution.models`.

Numbers become ``Decimal`` through ``str`` (ccxt returns floats or numeric strings), so ``0.1``
stays ``Decimal("0.1")``. Times are UTC ms as ccxt reports them.

Order status (ccxt unified ``status``) maps to :class:`~atb.orders.state.OrderStatus`:

=============  ==========================================================
ccxt           atb
=============  ==========================================================
``open``       ``OPEN``, or ``PARTIALLY_FILLED`` when ``filled > 0``
``closed``     ``FILLED``
``canceled``   ``CANCELLED`` (``filled`` tells how much executed before)
``expired``    ``EXPIRED``
``rejected``   ``REJECTED``
``None``       ``SUBMITTED`` (acknowledged without a state: fetch it)
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from atb.core.enums import OrderSide, OrderType
from atb.errors import ExchangeError
from atb.execution.models import Balance, BookSnapshot, Market, Position, Ticker, TradeTick, VenueOrder
from atb.orders.models import Fill, OrderRequest
from atb.orders.state import OrderStatus

__all__ = [
    "map_order_status", "to_balances", "to_book", "to_fill", "to_market", "to_positions", "to_ticker",
    "to_trade_tick", "to_venue_order",
]

# ccxt.base.decimal_to_precision constants (kept here to avoid importing a private module)
_DECIMAL_PLACES = 2
_SIGNIFICANT_DIGITS = 3
_TICK_SIZE = 4
_FALLBACK_TICK = Decimal("1e-8")

_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: Any) -> Decimal | None:
    """``Decimal`` of a ccxt number (None stays None; non-finite or garbage is None)."""
    if value is None or value == "":
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return out if out.is_finite() else None


def _dec0(value: Any) -> Decimal:
    out = dec(value)
    return Decimal(0) if out is None else out


def _ms(value: Any) -> int:
    return int(value) if value is not None else 0


def map_order_status(status: str | None, filled: Decimal | None) -> OrderStatus:
    """The :class:`OrderStatus` of a ccxt order status (see the module table).

    Raises
    ------
    ExchangeError
        An unknown status string (the message names it).

    Examples
    --------
    >>> map_order_status("open", Decimal("0.5")).value
    'partially_filled'
    >>> map_order_status("closed", Decimal(1)).value
    'filled'
    """
    if status is None:
        return OrderStatus.SUBMITTED
    if status == "open":
        return OrderStatus.PARTIALLY_FILLED if filled and filled > 0 else OrderStatus.OPEN
    try:
        return _STATUS[status]
    except KeyError:
        raise ExchangeError(f"unknown ccxt order status {status!r}") from None


def _tick(value: Any, precision_mode: int) -> Decimal:
    raw = dec(value)
    if raw is None:
        return _FALLBACK_TICK
    if precision_mode == _TICK_SIZE:
        return raw
    if precision_mode == _DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(raw))
    return _FALLBACK_TICK  # SIGNIFICANT_DIGITS: no fixed tick; ccxt's *_to_precision still rounds


def to_market(raw: Mapping[str, Any], precision_mode: int) -> Market:
    """A :class:`Market` from a ccxt market dict; ``precision_mode`` is ``exchange.precisionMode``."""
    precision = raw.get("precision") or {}
    limits = raw.get("limits") or {}
    maker, taker = dec(raw.get("maker")), dec(raw.get("taker"))
    return Market(
        pair=raw["symbol"], base=raw["base"], quote=raw["quote"],
        price_tick=_tick(precision.get("price"), precision_mode),
        amount_step=_tick(precision.get("amount"), precision_mode),
        min_amount=_dec0((limits.get("amount") or {}).get("min")),
        min_notional=_dec0((limits.get("cost") or {}).get("min")),
        maker_fee=Decimal("0.001") if maker is None else maker,
        taker_fee=Decimal("0.001") if taker is None else taker,
        active=raw.get("active") is not False,
    )


def to_balances(raw: Mapping[str, Any]) -> dict[str, Balance]:
    """Balances by currency from ``fetch_balance`` (currencies with a ``total`` entry)."""
    totals = raw.get("total") or {}
    out: dict[str, Balance] = {}
    for currency in totals:
        entry = raw.get(currency) or {}
        free, used, total = dec(entry.get("free")), dec(entry.get("used")), dec(entry.get("total"))
        if free is None and total is None:
            continue
        free = free if free is not None else (total or Decimal(0)) - (used or Decimal(0))
        used = used if used is not None else (total or free) - free
        out[currency] = Balance(currency=currency, free=free, used=used)
    return out


def to_ticker(raw: Mapping[str, Any], now_ms: int) -> Ticker:
    """A :class:`Ticker`; ``now_ms`` stands in for a missing timestamp."""
    ts = raw.get("timestamp")
    return Ticker(pair=raw["symbol"], timestamp=now_ms if ts is None else int(ts),
                  bid=dec(raw.get("bid")), ask=dec(raw.get("ask")), last=dec(raw.get("last")))


def _levels(rows: Any) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((_dec0(row[0]), _dec0(row[1])) for row in rows or ())


def to_book(raw: Mapping[str, Any], pair: str, now_ms: int) -> BookSnapshot:
    """A :class:`BookSnapshot` from ``fetch_order_book``."""
    ts = raw.get("timestamp")
    return BookSnapshot(pair=raw.get("symbol") or pair, timestamp=now_ms if ts is None else int(ts),
                        bids=_levels(raw.get("bids")), asks=_levels(raw.get("asks")))


def to_trade_tick(raw: Mapping[str, Any]) -> TradeTick:
    """A public trade."""
    return TradeTick(pair=raw["symbol"], timestamp=_ms(raw.get("timestamp")), price=_dec0(raw.get("price")),
                     amount=_dec0(raw.get("amount")), side=OrderSide(raw.get("side") or "buy"),
                     trade_id=str(raw.get("id") or ""))


def _fee_entries(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    fees = raw.get("fees") or []
    if not fees and raw.get("fee"):
        fees = [raw["fee"]]
    return [f for f in fees if f and f.get("cost") is not None]


def to_fill(raw: Mapping[str, Any], *, client_order_id: str, side: OrderSide,
            fallback_ms: int = 0) -> Fill | None:
    """A :class:`Fill` from a ccxt trade (None when price or amount is missing or zero)."""
    price, amount = dec(raw.get("price")), dec(raw.get("amount"))
    if not price or not amount or price <= 0 or amount <= 0:
        return None
    fees = _fee_entries(raw)
    fee = sum((_dec0(f.get("cost")) for f in fees), Decimal(0))
    pair = str(raw.get("symbol") or "")
    currency = str(fees[0].get("currency") or "") if fees else (pair.split("/")[-1] if pair else "")
    ts = raw.get("timestamp") or fallback_ms
    return Fill(
        fill_id=str(raw.get("id") or f"{client_order_id}-{ts}"), client_order_id=client_order_id,
        pair=pair, side=OrderSide(raw.get("side") or side), price=price, amount=amount, fee=fee,
        fee_currency=currency, is_maker=raw.get("takerOrMaker") == "maker",
        at=datetime.fromtimestamp(int(ts) / 1000, tz=UTC),
    )


def _fee_in_quote(fees: list[Mapping[str, Any]], pair: str, price: Decimal | None) -> Decimal:
    """Sum of fees in quote currency; base-currency fees are valued at ``price``; others skipped."""
    base, _, quote = pair.split(":")[0].partition("/")
    total = Decimal(0)
    for fee in fees:
        cost, currency = _dec0(fee.get("cost")), fee.get("currency")
        if currency in (None, quote):
            total += cost
        elif currency == base and price is not None:
            total += cost * price
    return total


def _order_type(raw: Mapping[str, Any], fallback: OrderRequest | None) -> OrderType:
    if raw.get("triggerPrice") or raw.get("stopPrice"):
        return OrderType.STOP_LIMIT
    kind = str(raw.get("type") or "").lower()
    if kind in ("market", "limit"):
        return OrderType(kind)
    if "stop" in kind:
        return OrderType.STOP_LIMIT
    return fallback.order_type if fallback is not None else OrderType.LIMIT


def to_venue_order(raw: Mapping[str, Any], fallback: OrderRequest | None = None) -> VenueOrder:
    """A :class:`VenueOrder` from a ccxt order dict.

    Parameters
    ----------
    raw : mapping
        ccxt unified order structure (may be partial, e.g. a bare create/cancel acknowledgement).
    fallback : OrderRequest, optional
        Fills the fields a partial answer lacks (pair, side, amount, price, client id).
    """
    filled = dec(raw.get("filled"))
    amount = dec(raw.get("amount"))
    if amount is None:
        amount = fallback.amount if fallback is not None else Decimal(0)
    side = raw.get("side") or (fallback.side if fallback is not None else "buy")
    pair = raw.get("symbol") or (fallback.pair if fallback is not None else "")
    cid = raw.get("clientOrderId") or (fallback.client_order_id if fallback is not None else "")
    price = dec(raw.get("price"))
    if price is None and fallback is not None:
        price = fallback.price
    average = dec(raw.get("average"))
    ts = _ms(raw.get("timestamp") or raw.get("lastTradeTimestamp"))
    fills = tuple(f for f in (to_fill({"symbol": pair, **t}, client_order_id=cid, side=OrderSide(side),
                                      fallback_ms=ts) for t in raw.get("trades") or ()) if f is not None)
    fees = _fee_entries(raw)
    fee = (_fee_in_quote(fees, pair, average or price) if fees
           else sum((f.fee for f in fills if f.fee_currency == pair.split("/")[-1]), Decimal(0)))
    return VenueOrder(
        venue_order_id=str(raw.get("id") or ""), client_order_id=str(cid), pair=pair,
        side=OrderSide(side), order_type=_order_type(raw, fallback),
        status=map_order_status(raw.get("status"), filled), amount=amount,
        filled=filled if filled is not None else Decimal(0), price=price, average=average, fee=fee,
        timestamp=ts, fills=fills,
    )


def to_positions(rows: Any) -> list[Position]:
    """Open positions (``contracts`` > 0) from ``fetch_positions``."""
    out: list[Position] = []
    for raw in rows or ():
        contracts = dec(raw.get("contracts"))
        if not contracts:
            continue
        out.append(Position(pair=raw["symbol"], is_short=raw.get("side") == "short", amount=abs(contracts),
                            entry_price=_dec0(raw.get("entryPrice")),
                            leverage=dec(raw.get("leverage")) or Decimal(1)))
    return out
