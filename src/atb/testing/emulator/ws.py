"""Websocket side of the emulator: public market streams and the ws-api user data stream.

- ``/ws`` and ``/ws/<anything>`` (ccxt.pro uses ``/ws/<n>``): market streams. A client sends
  ``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m", ...], "id": n}`` and gets
  ``{"result": null, "id": n}``; path segments containing ``@`` subscribe at connect. Streams:
  ``<symbol>@kline_<timeframe>``, ``@ticker``, ``@miniTicker``, ``@bookTicker``, ``@trade``,
  ``@aggTrade``, pushed on every candle step.
- ``/ws-api/v3``: the WebSocket API as ccxt.pro's spot ``watch_orders``/``watch_balance`` use it:
  ``userDataStream.subscribe.signature`` (any signature accepted) answers
  ``{"id", "status": 200, "result": {"subscriptionId": n}}``; then ``executionReport`` and
  ``outboundAccountPosition`` events arrive as ``{"subscriptionId": n, "event": {...}}``.
  ``ping``/``time`` are answered; other methods get a -1100-style error.

Messages are queued per connection and written by one task per connection (order is kept).
:meth:`WsHub.publish_market` and :meth:`WsHub.publish_user` must run on the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from atb.testing.emulator.faults import FaultInjector

__all__ = ["WsHub"]


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    streams: set[str] = field(default_factory=set)
    user_sub: int | None = None


class WsHub:
    """Every open websocket and what it subscribed to.

    Parameters
    ----------
    faults : FaultInjector
        Drops connections at ``ws_drop_rate`` when pushing.
    now_ms : callable
        The replay clock (for ``time`` and event times).
    """

    def __init__(self, faults: FaultInjector, now_ms: Callable[[], int]) -> None:
        self._faults = faults
        self._now_ms = now_ms
        self._conns: set[_Conn] = set()
        self._next_sub = 0

    @property
    def n_connections(self) -> int:
        """Open websocket connections."""
        return len(self._conns)

    async def close_all(self) -> None:
        """Close every connection (server shutdown)."""
        for conn in list(self._conns):
            await conn.ws.close()

    # ----------------------------------------------------------------------------------- publish
    def _push(self, conn: _Conn, payload: dict[str, Any]) -> None:
        if self._faults.drop_ws():
            conn.queue.put_nowait(None)  # the writer closes the socket
            self._conns.discard(conn)
            return
        conn.queue.put_nowait(json.dumps(payload))

    def publish_market(self, stream: str, payload: dict[str, Any]) -> None:
        """Send a market event to every connection subscribed to ``stream``."""
        for conn in list(self._conns):
            if stream in conn.streams:
                self._push(conn, payload)

    def wants(self, stream: str) -> bool:
        """True when some connection subscribed to ``stream``."""
        return any(stream in c.streams for c in list(self._conns))

    def publish_user(self, event: dict[str, Any]) -> None:
        """Send a user-data event to every subscribed ws-api connection."""
        for conn in list(self._conns):
            if conn.user_sub is not None:
                self._push(conn, {"subscriptionId": conn.user_sub, "event": event})

    # ----------------------------------------------------------------------------------- handlers
    async def _serve(self, request: web.Request, conn: _Conn,
                     on_text: Callable[[_Conn, dict[str, Any]], dict[str, Any] | None]) -> None:
        self._conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for msg in conn.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    conn.queue.put_nowait(json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}}))
                    continue
                reply = on_text(conn, data) if isinstance(data, dict) else None
                if reply is not None:
                    conn.queue.put_nowait(json.dumps(reply))
        finally:
            self._conns.discard(conn)
            conn.queue.put_nowait(None)
            await writer

    async def _writer(self, conn: _Conn) -> None:
        while True:
            text = await conn.queue.get()
            if text is None or conn.ws.closed:
                break
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                break
        if not conn.ws.closed:
            await conn.ws.close()

    async def market_handler(self, request: web.Request) -> web.WebSocketResponse:
        """``GET /ws[/<x>]``: market streams."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        conn = _Conn(ws)
        tail = request.match_info.get("tail", "")
        conn.streams.update(s for s in tail.split("/") if "@" in s)
        await self._serve(request, conn, self._on_market_text)
        return ws

    def _on_market_text(self, conn: _Conn, data: dict[str, Any]) -> dict[str, Any] | None:
        method, params, rid = data.get("method"), data.get("params") or [], data.get("id")
        if method == "SUBSCRIBE":
            conn.streams.update(str(p) for p in params)
            return {"result": None, "id": rid}
        if method == "UNSUBSCRIBE":
            conn.streams.difference_update(str(p) for p in params)
            return {"result": None, "id": rid}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams), "id": rid}
        return {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": rid}

    async def api_handler(self, request: web.Request) -> web.WebSocketResponse:
        """``GET /ws-api/v3``: WebSocket API (user data stream subscription, ping, time)."""
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        await self._serve(request, _Conn(ws), self._on_api_text)
        return ws

    def _on_api_text(self, conn: _Conn, data: dict[str, Any]) -> dict[str, Any] | None:
        method, rid = data.get("method"), data.get("id")
        params = data.get("params") or {}
        if method in ("userDataStream.subscribe.signature", "userDataStream.subscribe"):
            if method.endswith("signature") and not all(k in params for k in ("apiKey", "timestamp",
                                                                                 "signature")):
                return {"id": rid, "status": 400,
                        "error": {"code": -1102, "msg": "Mandatory parameter 'signature' was not sent, "
                                                        "was empty/null, or malformed."}}
            conn.user_sub = self._next_sub
            self._next_sub += 1
            return {"id": rid, "status": 200, "result": {"subscriptionId": conn.user_sub}}
        if method == "userDataStream.unsubscribe":
            conn.user_sub = None
            return {"id": rid, "status": 200, "result": {}}
        if method == "ping":
            return {"id": rid, "status": 200, "result": {}}
        if method == "time":
            return {"id": rid, "status": 200, "result": {"serverTime": self._now_ms()}}
        return {"id": rid, "status": 400,
                "error": {"code": -1100, "msg": f"Unsupported method in the emulator: {method}"}}
