"""Declarative per-venue capability table: every venue quirk the ccxt adapter needs, as data.

The adapter (:mod:`atb.execution.ccxt.client`) never branches on a venue name; it reads a
:class:`VenueCapabilities` record instead (freqtrade's ``_ft_has`` idea, kept outside the client).
Unknown exchange ids get :data:`DEFAULT_CAPABILITIES`, the conservative choice: ccxt's unified
``clientOrderId`` parameter, no lookup by client id (orders are found by scanning open and
closed orders) and no assumption that the venue rejects a duplicate client id.

Examples
--------
>>> capabilities_for("binance").client_order_id_param
'newClientOrderId'
>>> capabilities_for("some-new-venue").fetch_by_client_id
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from atb.errors import ConfigError

__all__ = ["CAPABILITIES", "DEFAULT_CAPABILITIES", "StopStyle", "VenueCapabilities", "capabilities_for"]

#: How a stop-limit order is expressed through ccxt's unified params: ``triggerPrice``
#: (current ccxt name), ``stopPrice`` (older alias) or ``none`` (not supported by the adapter).
StopStyle = Literal["triggerPrice", "stopPrice", "none"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueCapabilities:
    """What one venue supports and how ccxt must be asked for it.

    Attributes
    ----------
    exchange_id : str
        ccxt exchange id (``"binance"``).
    client_order_id_param : str
        Name of the create-order parameter carrying our client order id.
    fetch_by_client_id : bool
        ``fetch_order``/``cancel_order`` accept the client order id as a parameter. When False
        the adapter scans open orders, then closed orders, for a matching ``clientOrderId``.
    fetch_client_id_param : str
        Parameter name for the lookup/cancel by client id (when ``fetch_by_client_id``).
    rejects_duplicate_client_id : bool
        The venue refuses a second order with a client id it already knows (at least while the
        first is open). Informational: the adapter always looks up before resending.
    max_client_id_length : int
        Longest client order id the venue accepts (characters).
    client_id_pattern : str
        Regular expression a client order id must match in full.
    post_only : bool
        Maker-only orders are supported (ccxt's unified ``postOnly``).
    time_in_force : frozenset of str
        Accepted ``timeInForce`` values (``GTC``/``IOC``/``FOK``); ``PO`` is sent as ``postOnly``.
    stop_style : StopStyle
        How stop-limit trigger prices are passed.
    reduce_only : bool
        ccxt's ``reduceOnly`` is meaningful (derivatives venues); otherwise it is not sent.
    websocket : bool
        Use ``ccxt.pro`` for ``watch_*`` when ccxt has it for this id and ``has[...]`` says so.
    closed_orders_scan_limit : int
        How many recent closed orders the client-id scan reads.
    """

    exchange_id: str
    client_order_id_param: str = "clientOrderId"
    fetch_by_client_id: bool = False
    fetch_client_id_param: str = "clientOrderId"
    rejects_duplicate_client_id: bool = False
    max_client_id_length: int = 32
    client_id_pattern: str = r"[A-Za-z0-9_-]+"
    post_only: bool = True
    time_in_force: frozenset[str] = field(default_factory=lambda: frozenset({"GTC", "IOC", "FOK"}))
    stop_style: StopStyle = "triggerPrice"
    reduce_only: bool = False
    websocket: bool = True
    closed_orders_scan_limit: int = 100

    def check_client_order_id(self, client_order_id: str) -> None:
        """Raise :class:`ConfigError` unless the venue accepts ``client_order_id``.

        Raises
        ------
        ConfigError
            Too long or containing characters the venue refuses (names the venue and the rule).
        """
        if len(client_order_id) > self.max_client_id_length:
            raise ConfigError(f"{self.exchange_id}: invalid value for 'client_order_id': "
                              f"{client_order_id!r} is longer than {self.max_client_id_length} characters")
        if re.fullmatch(self.client_id_pattern, client_order_id) is None:
            raise ConfigError(f"{self.exchange_id}: invalid value for 'client_order_id': "
                              f"{client_order_id!r} does not match {self.client_id_pattern}")


#: Conservative capabilities for an exchange id missing from :data:`CAPABILITIES`.
DEFAULT_CAPABILITIES = VenueCapabilities(exchange_id="default")

_SPOT_TIF = frozenset({"GTC", "IOC", "FOK"})

#: Known venues (sources: each venue's API docs and the ccxt 4.5 implementation of its
#: ``createOrder``/``fetchOrder``/``cancelOrder`` parameters).
CAPABILITIES: dict[str, VenueCapabilities] = {
    caps.exchange_id: caps
    for caps in (
        # newClientOrderId on create, origClientOrderId on GET/DELETE /api/v3/order;
        # ids unique among open orders; ^[.A-Z:/a-z0-9_-]{1,36}$
        VenueCapabilities(exchange_id="binance", client_order_id_param="newClientOrderId",
                          fetch_by_client_id=True, fetch_client_id_param="origClientOrderId",
                          rejects_duplicate_client_id=True, max_client_id_length=36,
                          client_id_pattern=r"[.A-Z:/a-z0-9_-]+", time_in_force=_SPOT_TIF),
        VenueCapabilities(exchange_id="binanceusdm", client_order_id_param="newClientOrderId",
                          fetch_by_client_id=True, fetch_client_id_param="origClientOrderId",
                          rejects_duplicate_client_id=True, max_client_id_length=36,
                          client_id_pattern=r"[.A-Z:/a-z0-9_-]+", reduce_only=True),
        # clOrdId: alphanumeric, 1-32; fetch/cancel accept clOrdId
        VenueCapabilities(exchange_id="okx", fetch_by_client_id=True, fetch_client_id_param="clOrdId",
                          rejects_duplicate_client_id=True, max_client_id_length=32,
                          client_id_pattern=r"[A-Za-z0-9]+", reduce_only=True),
        # clientOid up to 40; GET /orders/client-order/{clientOid}
        VenueCapabilities(exchange_id="kucoin", fetch_by_client_id=True, fetch_client_id_param="clientOid",
                          rejects_duplicate_client_id=True, max_client_id_length=40),
        # orderLinkId up to 36; ccxt's fetchOrder only sees recent orders: scan instead
        VenueCapabilities(exchange_id="bybit", rejects_duplicate_client_id=True,
                          max_client_id_length=36, reduce_only=True),
        # cl_ord_id (UUID or up to 18 ASCII chars); lookup by it only in cancel: scan to find
        VenueCapabilities(exchange_id="kraken", max_client_id_length=18,
                          time_in_force=frozenset({"GTC", "IOC"})),
        # client_order_id (UUID-like); no lookup by it: scan
        VenueCapabilities(exchange_id="coinbase", rejects_duplicate_client_id=True,
                          max_client_id_length=36, stop_style="stopPrice"),
    )
}


def capabilities_for(exchange_id: str, **overrides: object) -> VenueCapabilities:
    """The capability record of ``exchange_id`` (default record for unknown ids).

    Parameters
    ----------
    exchange_id : str
        ccxt exchange id.
    **overrides
        Field values replacing the table's (e.g. from the user's config).

    Returns
    -------
    VenueCapabilities
        ``exchange_id`` is always set to the requested id.
    """
    base = CAPABILITIES.get(exchange_id, DEFAULT_CAPABILITIES)
    return replace(base, exchange_id=exchange_id, **overrides)  # type: ignore[arg-type]
