"""ccxt exception -> atb.errors mapping, one case per class; cause kept, secrets redacted."""

from __future__ import annotations

import aiohttp
import ccxt
import pytest

from atb.config.secrets import Credentials
from atb.errors import (
    CircuitOpenError,
    ExchangeError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    RateLimitError,
    TemporaryExchangeError,
)
from atb.execution.ccxt.errors import (
    DuplicateClientOrderIdError,
    VenueRateLimitError,
    map_ccxt_error,
    retry_after_seconds,
)

CASES = [
    (ccxt.InsufficientFunds, InsufficientFundsError),
    (ccxt.InvalidOrder, InvalidOrderError),
    (ccxt.OrderImmediatelyFillable, InvalidOrderError),
    (ccxt.OrderNotFillable, InvalidOrderError),
    (ccxt.BadSymbol, InvalidOrderError),
    (ccxt.DuplicateOrderId, DuplicateClientOrderIdError),
    (ccxt.OrderNotFound, OrderNotFoundError),
    (ccxt.RateLimitExceeded, RateLimitError),
    (ccxt.DDoSProtection, RateLimitError),
    (ccxt.NetworkError, TemporaryExchangeError),
    (ccxt.RequestTimeout, TemporaryExchangeError),
    (ccxt.ExchangeNotAvailable, TemporaryExchangeError),
    (ccxt.OnMaintenance, TemporaryExchangeError),
    (ccxt.InvalidNonce, TemporaryExchangeError),
    (ccxt.BadResponse, TemporaryExchangeError),
    (ccxt.NullResponse, TemporaryExchangeError),
    (ccxt.CancelPending, TemporaryExchangeError),
    (ccxt.AuthenticationError, ExchangeError),
    (ccxt.PermissionDenied, ExchangeError),
    (ccxt.AccountSuspended, ExchangeError),
    (ccxt.NotSupported, ExchangeError),
    (ccxt.ExchangeError, ExchangeError),
    (ccxt.BaseError, ExchangeError),
]


@pytest.mark.parametrize(("ccxt_cls", "atb_cls"), CASES, ids=[c.__name__ for c, _ in CASES])
def test_each_ccxt_class_maps_to_its_reaction(ccxt_cls, atb_cls):
    original = ccxt_cls("binance something happened")
    try:
        raise map_ccxt_error(original, venue="binance") from original
    except ExchangeError as err:
        assert type(err) is atb_cls or isinstance(err, atb_cls)
        assert err.__cause__ is original
        assert "binance" in str(err)
    if atb_cls is ExchangeError:
        assert not isinstance(map_ccxt_error(original, venue="binance"), TemporaryExchangeError)


def test_rate_limit_is_temporary_and_not_circuit_open():
    err = map_ccxt_error(ccxt.RateLimitExceeded("429"), venue="binance", headers={"Retry-After": "3"})
    assert isinstance(err, VenueRateLimitError) and isinstance(err, TemporaryExchangeError)
    assert not isinstance(err, CircuitOpenError)
    assert err.retry_after_s == 3.0


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "1.5"}) == 1.5
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds({"Retry-After": "-4"}) == 0.0


def test_transport_error_wrapped_by_ccxt_is_temporary():
    try:
        try:
            raise aiohttp.ClientPayloadError("Response payload is not completed")
        except aiohttp.ClientError as inner:
            raise ccxt.ExchangeError("binance GET https://127.0.0.1/api/v3/order") from inner
    except ccxt.ExchangeError as exc:
        assert isinstance(map_ccxt_error(exc, venue="binance"), TemporaryExchangeError)


@pytest.mark.parametrize("exc", [ValueError("Expecting value"), TypeError("string indices"),
                                 KeyError("orderId")])
def test_parse_errors_from_malformed_bodies_are_temporary(exc):
    assert isinstance(map_ccxt_error(exc, venue="binance"), TemporaryExchangeError)


def test_authentication_message_names_env_vars_and_redacts_keys():
    creds = Credentials(exchange_id="binance", key="APIKEY-1234567890", secret="SECRET-abcdefghij")
    exc = ccxt.AuthenticationError(
        'binance {"code":-2015,"msg":"Invalid API-key APIKEY-1234567890"} '
        "https://api.binance.com/api/v3/order?symbol=BTCUSDT&signature=deadbeef")
    err = map_ccxt_error(exc, venue="binance", credentials=creds)
    text = str(err)
    assert "ATB__EXCHANGE__BINANCE__KEY" in text and "ATB__EXCHANGE__BINANCE__SECRET" in text
    assert "APIKEY-1234567890" not in text and "SECRET-abcdefghij" not in text
    assert "deadbeef" not in text
    assert not isinstance(err, TemporaryExchangeError)


def test_messages_never_leak_keys_for_any_class():
    creds = Credentials(exchange_id="binance", key="k" * 20, secret="s" * 30, password="p" * 12)
    for ccxt_cls, _ in CASES:
        err = map_ccxt_error(ccxt_cls(f"boom {'k' * 20} {'s' * 30} {'p' * 12}"), venue="binance",
                             credentials=creds)
        assert "k" * 20 not in str(err) and "s" * 30 not in str(err) and "p" * 12 not in str(err)


def test_long_messages_are_shortened():
    err = map_ccxt_error(ccxt.ExchangeError("x" * 5000), venue="binance")
    assert len(str(err)) < 500
