"""REST routes of the emulator (Binance spot API v3) on aiohttp.web.

Public: ``ping``, ``time``, ``exchangeInfo``, ``klines``, ``ticker/24hr``, ``ticker/price``,
``ticker/bookTicker``, ``depth``, ``trades``, ``aggTrades``, ``avgPrice``. Signed (``X-MBX-APIKEY``
header plus ``timestamp`` and ``signature`` params required, the signature itself is not
checked): ``account``, ``order`` (POST/GET/DELETE), ``order/test``, ``openOrders`` (GET/DELETE),
``allOrders``, ``myTrades``. Errors are Binance's JSON bodies ``{"code": ..., "msg": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from atb.testing.emulator.core import EmulatorCore
from atb.testing.emulator.faults import fault_middleware
from atb.testing.emulator.models import EmuOrder, OrderRequest, Reject
from atb.testing.emulator.payloads import (
    account,
    cancel_json,
    my_trade,
    order_ack,
    order_full,
    order_json,
    symbol_info,
)

__all__ = ["build_app"]

_Params = dict[str, str]
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_TYPES = ("MARKET", "LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT")


def _error(exc: Reject) -> web.Response:
    return web.json_response({"code": exc.code, "msg": exc.msg}, status=exc.status)


def _missing(name: str) -> Reject:
    return Reject(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _dec(params: _Params, name: str) -> Decimal | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Reject(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.") from None
    if not value.is_finite() or value < 0:
        raise Reject(-1100, f"Illegal characters found in parameter '{name}'.")
    return value


def _int(params: _Params, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise Reject(-1100, f"Illegal characters found in parameter '{name}'.") from None


class _Rest:
    """Route handlers bound to one :class:`EmulatorCore`."""

    def __init__(self, core: EmulatorCore) -> None:
        self.core = core

    # ----------------------------------------------------------------------------------- plumbing
    def route(self, fn: Callable[[_Params], Any], signed: bool = False,
              status: int = 200) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap ``fn(params) -> body`` into a handler: params, auth, lock, Binance errors."""

        async def handler(request: web.Request) -> web.StreamResponse:
            params: _Params = dict(request.query)
            if request.method in ("POST", "PUT") and request.can_read_body:
                params.update({k: str(v) for k, v in (await request.post()).items()})
            try:
                if signed:
                    self._check_signed(request, params)
                with self.core.lock:
                    body = fn(params)
                    self.core.flush_user_events()
            except Reject as exc:
                return _error(exc)
            return web.json_response(body, status=status)

        return handler

    @staticmethod
    def _check_signed(request: web.Request, params: _Params) -> None:
        if not request.headers.get("X-MBX-APIKEY"):
            raise Reject(-2014, "API-key format invalid.", status=401)
        for name in ("timestamp", "signature"):
            if not params.get(name):
                raise _missing(name)

    def _symbol(self, params: _Params, required: bool = True) -> str | None:
        sym = params.get("symbol")
        if not sym:
            if required:
                raise _missing("symbol")
            return None
        if sym not in self.core.market.by_symbol:
            raise Reject(-1121, "Invalid symbol.")
        return sym

    def _pair(self, params: _Params) -> str:
        sym = self._symbol(params)
        return self.core.market.by_symbol[str(sym)].pair

    # ----------------------------------------------------------------------------------- public
    def time(self, params: _Params) -> Any:
        return {"serverTime": self.core.market.now_ms}

    def exchange_info(self, params: _Params) -> Any:
        rules = list(self.core.market.rules.values())
        wanted = params.get("symbol")
        if wanted:
            rules = [r for r in rules if r.symbol == wanted]
            if not rules:
                raise Reject(-1121, "Invalid symbol.")
        return {"timezone": "UTC", "serverTime": self.core.market.now_ms,
                "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                "intervalNum": 1, "limit": 6000}],
                "exchangeFilters": [], "symbols": [symbol_info(r) for r in rules]}

    def klines(self, params: _Params) -> Any:
        pair = self._pair(params)
        if params.get("interval") != self.core.market.timeframe:
            raise Reject(-1120, "Invalid interval.")
        limit = min(_int(params, "limit") or 500, 1000)
        return self.core.market.klines(pair, _int(params, "startTime"), _int(params, "endTime"), limit)

    def _each(self, params: _Params, fn: Callable[[str], Any]) -> Any:
        if params.get("symbol"):
            return fn(self._pair(params))
        pairs = list(self.core.market.rules)
        if params.get("symbols"):
            wanted = set(re.findall(r"[A-Z0-9]+", params["symbols"]))
            pairs = [p for p in pairs if self.core.market.rules[p].symbol in wanted]
        return [fn(p) for p in pairs]

    def ticker_24h(self, params: _Params) -> Any:
        return self._each(params, self.core.market.ticker_24h)

    def book_ticker(self, params: _Params) -> Any:
        return self._each(params, self.core.market.book_ticker)

    def ticker_price(self, params: _Params) -> Any:
        m = self.core.market
        return self._each(params, lambda p: {"symbol": m.rules[p].symbol,
                                             "price": m.ticker_24h(p)["lastPrice"]})

    def avg_price(self, params: _Params) -> Any:
        return {"mins": 5, "price": self.core.market.ticker_24h(self._pair(params))["lastPrice"],
                "closeTime": self.core.market.now_ms}

    def depth(self, params: _Params) -> Any:
        return self.core.market.depth(self._pair(params), _int(params, "limit") or 100)

    def trades(self, params: _Params) -> Any:
        return self.core.market.recent_trades(self._pair(params), min(_int(params, "limit") or 500,
                                                                        1000))

    def agg_trades(self, params: _Params) -> Any:
        rows = self.trades(params)
        return [{"a": t["id"], "p": t["price"], "q": t["qty"], "f": t["id"], "l": t["id"],
                 "T": t["time"], "m": t["isBuyerMaker"], "M": True} for t in rows]

    # ----------------------------------------------------------------------------------- signed
    def get_account(self, params: _Params) -> Any:
        cfg = self.core.config
        return account(self.core.engine.balances(), cfg.maker_fee, cfg.taker_fee,
                       self.core.market.now_ms)

    def _request(self, params: _Params) -> OrderRequest:
        sym = str(self._symbol(params))
        side = params.get("side", "")
        if side not in ("BUY", "SELL"):
            raise _missing("side") if not side else Reject(-1100, "Illegal characters found in "
                                                                  "parameter 'side'.")
        otype = params.get("type", "")
        if not otype:
            raise _missing("type")
        if otype not in _TYPES:
            raise Reject(-1116, "Invalid orderType.")
        tif = params.get("timeInForce") or None
        if otype in ("LIMIT", "STOP_LOSS_LIMIT"):
            if tif is None:
                raise _missing("timeInForce")
            if tif not in ("GTC", "IOC", "FOK"):
                raise Reject(-1115, "Invalid timeInForce.")
        elif tif is not None and otype == "MARKET":
            raise Reject(-1106, "Parameter 'timeInForce' sent when not required.")
        if otype != "MARKET" and _dec(params, "price") is None:
            raise _missing("price")
        if otype == "STOP_LOSS_LIMIT" and _dec(params, "stopPrice") is None:
            raise _missing("stopPrice")
        cid = params.get("newClientOrderId") or self.core.new_client_order_id()
        if not _CLIENT_ID.match(cid):
            raise Reject(-1100, "Illegal characters found in parameter 'newClientOrderId'; legal "
                                "range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
        return OrderRequest(symbol=sym, side=side, type=otype, client_order_id=cid,
                            quantity=_dec(params, "quantity"),
                            quote_order_qty=_dec(params, "quoteOrderQty"),
                            price=_dec(params, "price"), stop_price=_dec(params, "stopPrice"),
                            time_in_force=tif)

    def new_order(self, params: _Params) -> Any:
        req = self._request(params)
        pair = self.core.market.by_symbol[req.symbol].pair
        order = self.core.engine.place(req, self.core.market.quote(pair), self.core.market.now_ms)
        resp = params.get("newOrderRespType") or ("FULL" if req.type in ("MARKET", "LIMIT")
                                                  else "ACK")
        if resp == "ACK":
            return order_ack(order)
        return order_full(order, with_fills=resp == "FULL")

    def test_order(self, params: _Params) -> Any:
        self._request(params)
        return {}

    def _find(self, params: _Params, cancel: bool) -> EmuOrder:
        sym = str(self._symbol(params))
        oid, cid = _int(params, "orderId"), params.get("origClientOrderId") or None
        if oid is None and cid is None:
            raise Reject(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both "
                                "were empty/null!")
        if cancel:
            return self.core.engine.cancel(sym, self.core.market.now_ms, oid, cid)
        return self.core.engine.find(sym, oid, cid)

    def get_order(self, params: _Params) -> Any:
        return order_json(self._find(params, cancel=False))

    def cancel_order(self, params: _Params) -> Any:
        return cancel_json(self._find(params, cancel=True))

    def open_orders(self, params: _Params) -> Any:
        sym = self._symbol(params, required=False)
        return [order_json(o) for o in self.core.engine.orders
                if o.is_open and (sym is None or o.symbol == sym)]

    def cancel_open_orders(self, params: _Params) -> Any:
        sym = str(self._symbol(params))
        now = self.core.market.now_ms
        return [cancel_json(self.core.engine.cancel(sym, now, o.order_id))
                for o in [o for o in self.core.engine.orders if o.is_open and o.symbol == sym]]

    @staticmethod
    def _window(rows: list[Any], params: _Params, time_of: Callable[[Any], int],
                id_of: Callable[[Any], int], id_param: str) -> list[Any]:
        start, end = _int(params, "startTime"), _int(params, "endTime")
        from_id = _int(params, id_param)
        rows = [r for r in rows if (start is None or time_of(r) >= start)
                and (end is None or time_of(r) <= end) and (from_id is None or id_of(r) >= from_id)]
        limit = min(_int(params, "limit") or 500, 1000)
        return rows[:limit] if (start is not None or from_id is not None) else rows[-limit:]

    def all_orders(self, params: _Params) -> Any:
        sym = self._symbol(params)
        rows = [o for o in self.core.engine.orders if o.symbol == sym]
        rows = self._window(rows, params, lambda o: o.time, lambda o: o.order_id, "orderId")
        return [order_json(o) for o in rows]

    def my_trades(self, params: _Params) -> Any:
        sym = self._symbol(params)
        rows = [t for t in self.core.engine.trades if t.symbol == sym]
        oid = _int(params, "orderId")
        if oid is not None:
            rows = [t for t in rows if t.order_id == oid]
        rows = self._window(rows, params, lambda t: t.time, lambda t: t.trade_id, "fromId")
        return [my_trade(t) for t in rows]


def build_app(core: EmulatorCore) -> web.Application:
    """The aiohttp application: REST under ``/api/v3``, websockets under ``/ws`` and ``/ws-api/v3``."""
    api = _Rest(core)
    app = web.Application(middlewares=[fault_middleware(core.faults)])
    v3 = "/api/v3"
    public: dict[str, Callable[[_Params], Any]] = {
        "ping": lambda p: {}, "time": api.time, "exchangeInfo": api.exchange_info,
        "klines": api.klines, "uiKlines": api.klines, "ticker/24hr": api.ticker_24h,
        "ticker/price": api.ticker_price, "ticker/bookTicker": api.book_ticker,
        "depth": api.depth, "trades": api.trades, "historicalTrades": api.trades,
        "aggTrades": api.agg_trades, "avgPrice": api.avg_price,
    }
    for path, fn in public.items():
        app.router.add_get(f"{v3}/{path}", api.route(fn))
    signed_get = {"account": api.get_account, "order": api.get_order,
                  "openOrders": api.open_orders, "allOrders": api.all_orders,
                  "myTrades": api.my_trades}
    for path, fn in signed_get.items():
        app.router.add_get(f"{v3}/{path}", api.route(fn, signed=True))
    app.router.add_post(f"{v3}/order", api.route(api.new_order, signed=True))
    app.router.add_post(f"{v3}/order/test", api.route(api.test_order, signed=True))
    app.router.add_delete(f"{v3}/order", api.route(api.cancel_order, signed=True))
    app.router.add_delete(f"{v3}/openOrders", api.route(api.cancel_open_orders, signed=True))
    app.router.add_get("/ws-api/v3", core.hub.api_handler)
    app.router.add_get("/ws", core.hub.market_handler)
    app.router.add_get("/ws/{tail:.*}", core.hub.market_handler)
    return app
