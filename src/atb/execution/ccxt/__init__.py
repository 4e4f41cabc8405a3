"""ccxt adapter of the exchange port: client, error mapping, capability table, breaker, retries."""

from atb.execution.ccxt.breaker import CircuitBreaker
from atb.execution.ccxt.capabilities import VenueCapabilities, capabilities_for
from atb.execution.ccxt.client import CcxtExchange, create_ccxt_exchange
from atb.execution.ccxt.errors import map_ccxt_error
from atb.execution.ccxt.retry import RetryPolicy

__all__ = [
    "CcxtExchange", "CircuitBreaker", "RetryPolicy", "VenueCapabilities", "capabilities_for",
    "create_ccxt_exchange", "map_ccxt_error",
]
