"""Turn an :class:`~atb.orders.models.OrderRequest` into ccxt ``create_order`` arguments.

Amounts and prices are rounded with ccxt's own ``amount_to_precision``/``price_to_precision``
(the market's precision mode, tick or decimals). Options go through ccxt's unified params, named
by the capability table:

==============================  =========================================================
request                         ccxt params
==============================  =========================================================
``client_order_id``             ``{caps.client_order_id_param: id}`` (binance ``newClientOrderId``)
``post_only`` or ``PO``         ``postOnly=True`` (binance: ``LIMIT_MAKER``)
``IOC``/``FOK`` (non-market)    ``timeInForce`` (GTC is ccxt's default and not sent)
``stop_limit``                  ``limit`` type + ``{caps.stop_style: stop_price}``
``reduce_only``                 ``reduceOnly=True`` where ``caps.reduce_only`` (spot: dropped)
==============================  =========================================================
"""

from __future__ import annotations

from typing import Any

from atb.core.enums import OrderType, TimeInForce
from atb.errors import InvalidOrderError
from atb.execution.ccxt.capabilities import VenueCapabilities
from atb.orders.models import OrderRequest

__all__ = ["order_args"]


def order_args(exchange: Any, caps: VenueCapabilities,
               request: OrderRequest) -> tuple[str, float, float | None, dict[str, Any]]:
    """``(ccxt type, amount, price, params)`` for ``request``.

    Parameters
    ----------
    exchange : ccxt exchange
        Markets loaded (``amount_to_precision`` needs them).
    caps : VenueCapabilities
        The venue's parameter names and supported options.
    request : OrderRequest
        The order; amount in base currency, prices in quote currency.

    Raises
    ------
    ConfigError
        The client order id breaks the venue's length/charset rule.
    InvalidOrderError
        An option the venue does not support (post-only, time in force, stop orders), or an
        amount below the venue's precision (raised by ccxt, mapped by the caller).
    """
    caps.check_client_order_id(request.client_order_id)
    venue, pair = caps.exchange_id, request.pair
    amount = float(exchange.amount_to_precision(pair, float(request.amount)))
    ccxt_type = "market" if request.order_type == OrderType.MARKET else "limit"
    price = None  # a market order's expected price is informational: not sent
    if ccxt_type == "limit" and request.price is not None:
        price = float(exchange.price_to_precision(pair, float(request.price)))
    params: dict[str, Any] = {caps.client_order_id_param: request.client_order_id}
    if request.order_type == OrderType.STOP_LIMIT:
        if caps.stop_style == "none" or request.stop_price is None:
            raise InvalidOrderError(f"{venue}: stop-limit orders are not supported")
        params[caps.stop_style] = float(exchange.price_to_precision(pair, float(request.stop_price)))
    if request.post_only or request.time_in_force == TimeInForce.PO:
        if not caps.post_only:
            raise InvalidOrderError(f"{venue}: post-only orders are not supported")
        params["postOnly"] = True
    elif ccxt_type != "market" and request.time_in_force != TimeInForce.GTC:
        if request.time_in_force.value not in caps.time_in_force:
            raise InvalidOrderError(f"{venue}: time in force {request.time_in_force.value} is not supported")
        params["timeInForce"] = request.time_in_force.value
    if request.reduce_only and caps.reduce_only:
        params["reduceOnly"] = True
    return ccxt_type, amount, price, params
