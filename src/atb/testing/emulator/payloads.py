"""Binance spot JSON layouts (REST and user-data events) built from the emulator's records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from atb.testing.emulator.market import fmt
from atb.testing.emulator.models import EmuFill, EmuOrder, OrderEvent, SymbolRules

__all__ = ["account", "account_position", "cancel_json", "execution_report", "my_trade", "order_ack",
           "order_full", "order_json", "symbol_info"]

_ZERO = "0.00000000"


def _px(value: Decimal | None) -> str:
    return _ZERO if value is None else fmt(value)


def symbol_info(rules: SymbolRules) -> dict[str, Any]:
    """One ``exchangeInfo`` symbol with PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and NOTIONAL."""
    return {
        "symbol": rules.symbol, "status": "TRADING", "baseAsset": rules.base,
        "baseAssetPrecision": 8, "quoteAsset": rules.quote, "quotePrecision": 8,
        "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT"],
        "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": False,
        "cancelReplaceAllowed": False, "amendAllowed": False, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(rules.tick), "maxPrice": "1000000.00000000",
             "tickSize": fmt(rules.tick)},
            {"filterType": "LOT_SIZE", "minQty": fmt(rules.min_qty), "maxQty": fmt(rules.max_qty),
             "stepSize": fmt(rules.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": fmt(rules.max_qty),
             "stepSize": "0.00000000"},
            {"filterType": "NOTIONAL", "minNotional": fmt(rules.min_notional),
             "applyMinToMarket": True, "maxNotional": "9000000.00000000",
             "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH"],
    }


def order_ack(order: EmuOrder) -> dict[str, Any]:
    """``newOrderRespType=ACK`` body."""
    return {"symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
            "clientOrderId": order.client_order_id, "transactTime": order.time}


def _core(order: EmuOrder) -> dict[str, Any]:
    return {
        "symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
        "clientOrderId": order.client_order_id, "price": _px(order.price),
        "origQty": fmt(order.orig_qty), "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cumm_quote), "status": order.status,
        "timeInForce": order.time_in_force or "GTC", "type": order.type, "side": order.side,
    }


def order_full(order: EmuOrder, with_fills: bool) -> dict[str, Any]:
    """``newOrderRespType=RESULT`` (``with_fills=False``) or ``FULL`` body."""
    body = {**_core(order), "transactTime": order.time, "workingTime": order.time,
            "selfTradePreventionMode": "NONE"}
    if order.stop_price is not None:
        body["stopPrice"] = fmt(order.stop_price)
    if with_fills:
        body["fills"] = [{"price": fmt(f.price), "qty": fmt(f.qty), "commission": fmt(f.commission),
                          "commissionAsset": f.commission_asset, "tradeId": f.trade_id}
                         for f in order.fills]
    return body


def order_json(order: EmuOrder) -> dict[str, Any]:
    """``GET /api/v3/order`` (and ``openOrders``/``allOrders`` rows)."""
    return {**_core(order), "stopPrice": _px(order.stop_price), "icebergQty": _ZERO,
            "time": order.time, "updateTime": order.update_time, "isWorking": True,
            "workingTime": order.time, "origQuoteOrderQty": _ZERO, "selfTradePreventionMode": "NONE"}


def cancel_json(order: EmuOrder) -> dict[str, Any]:
    """``DELETE /api/v3/order`` body (``clientOrderId`` repeats the original id)."""
    return {**_core(order), "origClientOrderId": order.client_order_id,
            "transactTime": order.update_time, "selfTradePreventionMode": "NONE"}


def my_trade(fill: EmuFill) -> dict[str, Any]:
    """One ``GET /api/v3/myTrades`` row."""
    return {"symbol": fill.symbol, "id": fill.trade_id, "orderId": fill.order_id,
            "orderListId": -1, "price": fmt(fill.price), "qty": fmt(fill.qty),
            "quoteQty": fmt(fill.quote_qty), "commission": fmt(fill.commission),
            "commissionAsset": fill.commission_asset, "time": fill.time, "isBuyer": fill.is_buyer,
            "isMaker": fill.is_maker, "isBestMatch": True}


def account(balances: dict[str, tuple[Decimal, Decimal]], maker_fee: Decimal, taker_fee: Decimal,
            now_ms: int) -> dict[str, Any]:
    """``GET /api/v3/account`` body."""
    return {
        "makerCommission": int(maker_fee * 10_000), "takerCommission": int(taker_fee * 10_000),
        "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": fmt(maker_fee), "taker": fmt(taker_fee), "buyer": _ZERO,
                            "seller": _ZERO},
        "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now_ms,
        "accountType": "SPOT",
        "balances": [{"asset": a, "free": fmt(f), "locked": fmt(lk)} for a, (f, lk) in balances.items()],
        "permissions": ["SPOT"], "uid": 1,
    }


def execution_report(event: OrderEvent, now_ms: int) -> dict[str, Any]:
    """User-data ``executionReport`` for one order event."""
    o, f = event.order, event.fill
    return {
        "e": "executionReport", "E": now_ms, "s": o.symbol, "c": o.client_order_id, "S": o.side,
        "o": o.type, "f": o.time_in_force or "GTC", "q": fmt(o.orig_qty), "p": _px(o.price),
        "P": _px(o.stop_price), "F": _ZERO, "g": -1,
        "C": o.client_order_id if event.execution_type == "CANCELED" else "",
        "x": event.execution_type, "X": o.status, "r": "NONE", "i": o.order_id,
        "l": fmt(f.qty) if f else _ZERO, "z": fmt(o.executed_qty), "L": fmt(f.price) if f else _ZERO,
        "n": fmt(f.commission) if f else "0", "N": f.commission_asset if f else None,
        "T": o.update_time, "t": f.trade_id if f else -1, "I": 0, "w": o.is_open,
        "m": f.is_maker if f else False, "M": False, "O": o.time, "Z": fmt(o.cumm_quote),
        "Y": fmt(f.quote_qty) if f else _ZERO, "Q": _ZERO, "W": o.time, "V": "NONE",
    }


def account_position(balances: dict[str, tuple[Decimal, Decimal]], assets: set[str],
                     now_ms: int) -> dict[str, Any]:
    """User-data ``outboundAccountPosition`` for the assets that changed."""
    return {"e": "outboundAccountPosition", "E": now_ms, "u": now_ms,
            "B": [{"a": a, "f": fmt(balances[a][0]), "l": fmt(balances[a][1])}
                  for a in sorted(assets) if a in balances]}
