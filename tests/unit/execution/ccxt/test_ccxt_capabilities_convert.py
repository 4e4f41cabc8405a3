"""Capability lookup, order-argument mapping and ccxt dict -> record conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ccxt_fakes import FakeCcxt, request

from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import ConfigError, ExchangeError, InvalidOrderError
from atb.execution.ccxt.capabilities import CAPABILITIES, DEFAULT_CAPABILITIES, capabilities_for
from atb.execution.ccxt.convert import (
    map_order_status,
    to_balances,
    to_market,
    to_positions,
    to_venue_order,
)
from atb.execution.ccxt.params import order_args
from atb.orders.state import OrderStatus


def test_known_venues_and_default():
    binance = capabilities_for("binance")
    assert binance.client_order_id_param == "newClientOrderId"
    assert binance.fetch_by_client_id and binance.fetch_client_id_param == "origClientOrderId"
    assert binance.max_client_id_length == 36
    assert capabilities_for("okx").fetch_client_id_param == "clOrdId"
    assert not capabilities_for("kraken").fetch_by_client_id
    unknown = capabilities_for("someexchange")
    assert unknown.exchange_id == "someexchange"
    assert unknown.client_order_id_param == "clientOrderId" and not unknown.fetch_by_client_id
    assert DEFAULT_CAPABILITIES.exchange_id == "default"
    assert capabilities_for("binance", websocket=False).websocket is False
    assert all(caps.exchange_id == key for key, caps in CAPABILITIES.items())


def test_client_order_id_rules():
    capabilities_for("binance").check_client_order_id("atb-1_x:y/z.0")
    with pytest.raises(ConfigError, match="okx: invalid value for 'client_order_id'"):
        capabilities_for("okx").check_client_order_id("has-dash")
    with pytest.raises(ConfigError, match="longer than 18"):
        capabilities_for("kraken").check_client_order_id("x" * 19)


@pytest.mark.parametrize(("status", "filled", "expected"), [
    ("open", "0", OrderStatus.OPEN),
    ("open", "0.5", OrderStatus.PARTIALLY_FILLED),
    ("closed", "1", OrderStatus.FILLED),
    ("canceled", "0.2", OrderStatus.CANCELLED),
    ("expired", "0", OrderStatus.EXPIRED),
    ("rejected", "0", OrderStatus.REJECTED),
    (None, None, OrderStatus.SUBMITTED),
])
def test_status_mapping(status, filled, expected):
    assert map_order_status(status, None if filled is None else Decimal(filled)) is expected


def test_unknown_status_is_an_error():
    with pytest.raises(ExchangeError, match="'weird'"):
        map_order_status("weird", Decimal(0))


def test_order_args_binance_limit_post_only_and_precision():
    fake = FakeCcxt()
    caps = capabilities_for("binance")
    kind, amount, price, params = order_args(fake, caps, request(order_type=OrderType.LIMIT, post_only=True))
    assert (kind, amount, price) == ("limit", 0.01234, 50000.0)
    assert params == {"newClientOrderId": "atb-1", "postOnly": True}
    _, _, _, params = order_args(fake, caps, request(order_type=OrderType.LIMIT,
                                                     time_in_force=TimeInForce.IOC))
    assert params == {"newClientOrderId": "atb-1", "timeInForce": "IOC"}
    kind, _, price, params = order_args(fake, caps, request(price=Decimal(1)))
    assert kind == "market" and price is None and "timeInForce" not in params


def test_order_args_stop_limit_reduce_only_and_unsupported():
    fake = FakeCcxt("okx")
    caps = capabilities_for("okx")
    req = request("atb1", order_type=OrderType.STOP_LIMIT, stop_price=Decimal("48000.004"),
                  reduce_only=True)
    kind, _, _, params = order_args(fake, caps, req)
    assert kind == "limit"
    assert params == {"clientOrderId": "atb1", "triggerPrice": 48000.0, "reduceOnly": True}
    # spot venue: reduce_only dropped; kraken: no FOK
    _, _, _, params = order_args(fake, capabilities_for("binance"), request(reduce_only=True))
    assert "reduceOnly" not in params
    with pytest.raises(InvalidOrderError, match="FOK"):
        order_args(fake, capabilities_for("kraken"), request("k1", order_type=OrderType.LIMIT,
                                                             time_in_force=TimeInForce.FOK))
    with pytest.raises(InvalidOrderError, match="post-only"):
        order_args(fake, capabilities_for("x", post_only=False), request(post_only=True))
    with pytest.raises(InvalidOrderError, match="stop-limit"):
        order_args(fake, capabilities_for("x", stop_style="none"), req)


def test_market_precision_tick_and_decimal_places():
    raw = {"symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "active": True,
           "precision": {"amount": 0.00001, "price": 0.01},
           "limits": {"amount": {"min": 0.00001}, "cost": {"min": 5.0}}, "maker": 0.0002, "taker": 0.0004}
    m = to_market(raw, 4)
    assert (m.price_tick, m.amount_step) == (Decimal("0.01"), Decimal("0.00001"))
    assert (m.min_amount, m.min_notional) == (Decimal("0.00001"), Decimal("5.0"))
    assert (m.maker_fee, m.taker_fee) == (Decimal("0.0002"), Decimal("0.0004"))
    m = to_market({**raw, "precision": {"amount": 5, "price": 2}, "maker": None}, 2)
    assert (m.price_tick, m.amount_step, m.maker_fee) == (Decimal("0.01"), Decimal("0.00001"),
                                                          Decimal("0.001"))


def test_balances():
    fake_balance = {"USDT": {"free": 900.5, "used": 99.5, "total": 1000.0},
                    "ETH": {"free": None, "used": None, "total": 2.0},
                    "total": {"USDT": 1000.0, "ETH": 2.0}}
    out = to_balances(fake_balance)
    assert out["USDT"].free == Decimal("900.5") and out["USDT"].total == Decimal("1000.0")
    assert out["ETH"].free == Decimal("2.0") and out["ETH"].used == 0


def test_venue_order_with_fills_and_fees():
    raw = {"id": "7", "clientOrderId": "atb-1", "symbol": "BTC/USDT", "type": "market", "side": "buy",
           "status": "closed", "amount": 0.1, "filled": 0.1, "average": 100.0, "price": None,
           "timestamp": 1_700_000_000_000, "fees": [{"cost": 0.01, "currency": "USDT"},
                                                    {"cost": 0.0001, "currency": "BTC"},
                                                    {"cost": 0.5, "currency": "BNB"}],
           "trades": [{"id": "t1", "price": 100.0, "amount": 0.1, "takerOrMaker": "taker",
                       "fee": {"cost": 0.01, "currency": "USDT"}, "timestamp": None}]}
    order = to_venue_order(raw)
    assert order.status is OrderStatus.FILLED and order.order_type is OrderType.MARKET
    assert order.fee == Decimal("0.01") + Decimal("0.0001") * Decimal("100.0")  # BNB not in quote
    assert len(order.fills) == 1
    fill = order.fills[0]
    assert (fill.fill_id, fill.client_order_id, fill.pair, fill.fee_currency) == ("t1", "atb-1",
                                                                                "BTC/USDT", "USDT")
    assert fill.at.year == 2023 and not fill.is_maker and fill.side is OrderSide.BUY


def test_partial_acknowledgement_uses_the_request():
    req = request(order_type=OrderType.LIMIT)
    order = to_venue_order({"id": "9", "status": None}, fallback=req)
    assert order.status is OrderStatus.SUBMITTED
    assert (order.pair, order.client_order_id, order.amount, order.price) == (
        "BTC/USDT", "atb-1", req.amount, req.price)
    assert to_venue_order({"id": "1", "type": "stop_loss_limit", "status": "open"}).order_type \
        is OrderType.STOP_LIMIT


def test_positions():
    rows = [{"symbol": "BTC/USDT:USDT", "side": "short", "contracts": 2.0, "entryPrice": 10.0,
             "leverage": 3}, {"symbol": "ETH/USDT:USDT", "contracts": 0}]
    (pos,) = to_positions(rows)
    assert pos.is_short and pos.amount == Decimal("2.0") and pos.leverage == Decimal(3)
