"""Map ccxt exceptions to :mod:`atb.errors`, classed by how the caller must react.

==========================================================  ======================================
ccxt                                                        atb
==========================================================  ======================================
``InsufficientFunds``                                       ``InsufficientFundsError`` (skip)
``OrderNotFound``                                           ``OrderNotFoundError`` (reconcile)
``DuplicateOrderId``                                        :class:`DuplicateClientOrderIdError`
``InvalidOrder`` (incl. ``OrderImmediatelyFillable``,       ``InvalidOrderError`` (skip)
``OrderNotFillable``), ``BadSymbol``
``RateLimitExceeded``, ``DDoSProtection``                   :class:`VenueRateLimitError` (wait)
``NetworkError`` (``RequestTimeout``,                       ``TemporaryExchangeError`` (retry)
``ExchangeNotAvailable``, ``InvalidNonce``, ...),
``BadResponse``/``NullResponse`` (malformed body),
``OperationFailed``, a transport error (aiohttp), a parse
error (``ValueError``/``TypeError``/``KeyError``...)
``AuthenticationError``, ``PermissionDenied``               ``ExchangeError`` naming the key env vars
anything else                                               ``ExchangeError``
==========================================================  ======================================

A malformed (non-JSON, truncated) response is *temporary*: for a create it is a lost response
(the order may exist), resolved by the idempotent retry in the client. The original exception is
kept as ``__cause__``; messages are redacted (API key, secret, password, URL signatures) and
shortened, so they are safe for logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ccxt

from atb.config.secrets import Credentials, env_var_names, redact
from atb.errors import (
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    RateLimitError,
    TemporaryExchangeError,
)

__all__ = [
    "DuplicateClientOrderIdError", "VenueRateLimitError", "is_malformed", "map_ccxt_error",
    "retry_after_seconds",
]

_MAX_MESSAGE = 400
#: What ccxt's parsers raise on a body that is not the JSON they expect (treated as BadResponse).
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)
_SIGNATURE = re.compile(r"(signature|sign|apiKey|api_key|X-MBX-APIKEY)=([^&\s\"']+)", re.IGNORECASE)


class VenueRateLimitError(RateLimitError):
    """A rate-limit answer, with the wait the venue asked for (``Retry-After``), if any.

    Attributes
    ----------
    retry_after_s : float or None
        Seconds the venue asked us to wait before the next request; None when not given.
    """

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DuplicateClientOrderIdError(InvalidOrderError):
    """The venue already knows an order with this client order id (a resend raced a placement)."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds form), or None.

    Examples
    --------
    >>> retry_after_seconds({"Retry-After": "2"})
    2.0
    >>> retry_after_seconds({"content-type": "application/json"}) is None
    True
    """
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value)
            except (TypeError, ValueError):
                return None  # HTTP-date form: ignored, the backoff applies
            return max(seconds, 0.0)
    return None


def is_malformed(result: Any) -> bool:
    """True when ccxt returned a structure built from a body that was not JSON.

    ccxt does not raise on an unparsable (e.g. truncated) body: it returns a unified structure
    whose ``info`` is the raw text and whose fields are all None (an order without id, candles
    of Nones). Accepting that as an answer would turn a lost create response into a phantom
    order, or a lost lookup into "not found"; it is a ``BadResponse`` (temporary) instead.

    Examples
    --------
    >>> is_malformed({"info": '{"orderId": 1, "cli', "id": None})
    True
    >>> is_malformed([[1700000000000, 1.0, 2.0, 0.5, 1.5, 10.0]])
    False
    """
    first = result[0] if isinstance(result, list) and result else result
    if isinstance(first, dict):
        return isinstance(first.get("info"), str)
    if isinstance(first, list):  # OHLCV rows
        return bool(first) and first[0] is None
    return False


def _clean(text: str, credentials: Credentials | None) -> str:
    text = _SIGNATURE.sub(r"\1=***", redact(text, credentials))
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."


def _is_transport_error(exc: BaseException) -> bool:
    cause = exc.__cause__
    return cause is not None and type(cause).__module__.split(".")[0] in {"aiohttp", "asyncio", "socket"}


def _classify(exc: BaseException) -> type[ExchangeError]:
    """The atb class for a ccxt exception (order matters: subclasses first)."""
    table: tuple[tuple[type[BaseException], type[ExchangeError]], ...] = (
        (ccxt.InsufficientFunds, InsufficientFundsError),
        (ccxt.OrderNotFound, OrderNotFoundError),
        (ccxt.DuplicateOrderId, DuplicateClientOrderIdError),
        (ccxt.InvalidOrder, InvalidOrderError),
        (ccxt.BadSymbol, InvalidOrderError),
        (ccxt.RateLimitExceeded, VenueRateLimitError),
        (ccxt.DDoSProtection, VenueRateLimitError),
        (ccxt.OperationFailed, TemporaryExchangeError),  # NetworkError, BadResponse, CancelPending
    )
    for ccxt_cls, atb_cls in table:
        if isinstance(exc, ccxt_cls):
            return atb_cls
    if not isinstance(exc, ccxt.BaseError) and isinstance(exc, _PARSE_ERRORS):
        return TemporaryExchangeError  # ccxt choked on a malformed body: a lost response
    if isinstance(exc, ccxt.ExchangeError) and _is_transport_error(exc):
        return TemporaryExchangeError  # aiohttp.ClientError (payload/disconnect) wrapped by ccxt
    return ExchangeError


def map_ccxt_error(exc: BaseException, *, venue: str, credentials: Credentials | None = None,
                   headers: Mapping[str, str] | None = None) -> ExchangeError:
    """Translate a ccxt exception into the :mod:`atb.errors` class the caller reacts to.

    Parameters
    ----------
    exc : BaseException
        What ccxt raised (non-ccxt exceptions become ``ExchangeError``).
    venue : str
        ccxt exchange id, used in the message.
    credentials : Credentials or None
        Values to redact from the message.
    headers : mapping or None
        Response headers of the failed request (``Retry-After`` for rate limits).

    Returns
    -------
    ExchangeError
        A new exception; raise it ``from exc`` to keep the original as ``__cause__``.

    Examples
    --------
    >>> err = map_ccxt_error(ccxt.InsufficientFunds("binance Account has insufficient balance"),
    ...                      venue="binance")
    >>> type(err).__name__
    'InsufficientFundsError'
    """
    message = _clean(f"{venue}: {type(exc).__name__}: {exc}", credentials)
    if isinstance(exc, ccxt.AuthenticationError):
        names = env_var_names(venue)
        return ExchangeError(
            f"{venue}: authentication failed ({type(exc).__name__}); check the API key/secret in "
            f"{names['key']} / {names['secret']} (or the secrets file) and the key's permissions. "
            f"Venue said: {_clean(str(exc), credentials)}")
    atb_cls = _classify(exc)
    if atb_cls is VenueRateLimitError:
        return VenueRateLimitError(message, retry_after_s=retry_after_seconds(headers))
    return atb_cls(message)
