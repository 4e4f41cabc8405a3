"""One rooted error hierarchy for atb, classed by how the caller must react.

::

    AtbError
    ├── ConfigError            bad configuration value (stop, fix input)
    │   └── MissingExtraError  an optional extra is not installed (also an ImportError)
    ├── DataError              missing/corrupt/invalid candles (stop, fix input)
    │   └── MissingDataError   no candles for a pair/timeframe/timerange (multi-pair runs skip it)
    ├── StrategyError          strategy cannot be found, imported or run (stop, fix input)
    ├── ModelError             model artefact missing, malformed or not matching its metadata
    ├── PersistenceError       run store cannot be opened or written (stop, check the store)
    ├── ExchangeError          venue problems
    │   ├── TemporaryExchangeError   retry with backoff
    │   │   ├── RateLimitError       retry after waiting
    │   │   └── CircuitOpenError     the venue's circuit breaker is open; wait for its cool-down
    │   ├── InvalidOrderError        skip this order
    │   ├── InsufficientFundsError   skip this order
    │   └── OrderNotFoundError       the venue does not know this order id (reconciliation decides)
    └── OrderStateError        illegal order state transition (a bug)

Expected business outcomes (a risk denial, an unfilled order) are events, not exceptions.
Every error that reaches the CLI is printed as one line and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "AtbError",
    "CircuitOpenError",
    "ConfigError",
    "DataError",
    "ExchangeError",
    "InsufficientFundsError",
    "InvalidOrderError",
    "MissingDataError",
    "MissingExtraError",
    "ModelError",
    "OrderNotFoundError",
    "OrderStateError",
    "PersistenceError",
    "RateLimitError",
    "StrategyError",
    "TemporaryExchangeError",
]


class AtbError(Exception):
    """Root of every error atb raises on purpose."""


class ConfigError(AtbError):
    """A configuration value is missing, of the wrong type or out of range; the message names it."""


class MissingExtraError(ConfigError, ImportError):
    """An optional dependency is missing; the message names the extra: ``pip install 'atb[ml]'``.

    Attributes
    ----------
    extra : str
        Name of the extra that provides the package (``"ml"``, ``"rl"``, ...).
    package : str
        The missing import name.
    """

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(f"{feature} needs the optional package '{package}': "
                         f"pip install 'atb[{extra}]'")
        self.extra = extra
        self.package = package


class DataError(AtbError):
    """Candle data is missing, unreadable or violates the OHLCV contract; names pair/timeframe/row."""


class MissingDataError(DataError):
    """No candle file, or no candle inside the timerange, for a pair and timeframe."""


class StrategyError(AtbError):
    """A strategy cannot be located, imported, instantiated or returned invalid output."""


class ModelError(AtbError):
    """A model artefact is missing, malformed, or does not match its recorded hash/features."""


class PersistenceError(AtbError):
    """The run store cannot be opened, migrated or written."""


class ExchangeError(AtbError):
    """A venue returned an error or could not be reached."""


class TemporaryExchangeError(ExchangeError):
    """A transient venue error (timeout, 5xx, disconnect); retry with backoff."""


class RateLimitError(TemporaryExchangeError):
    """The venue rate limit was hit; retry after waiting."""


class CircuitOpenError(TemporaryExchangeError):
    """Calls to a venue are suspended by its circuit breaker after repeated failures; retry later."""


class InvalidOrderError(ExchangeError):
    """The venue rejected the order as invalid; skip it."""


class InsufficientFundsError(ExchangeError):
    """The account lacks balance for the order; skip it."""


class OrderNotFoundError(ExchangeError):
    """The venue does not know the order (by client or venue order id)."""


class OrderStateError(AtbError):
    """An illegal order state transition was attempted: a bug, never user input."""
