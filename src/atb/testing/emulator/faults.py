"""Fault injection for the emulator's REST API and websockets, deterministic by seed.

:class:`FaultInjector` draws (one ``random.Random`` per channel, seeded from the config seed) and
:func:`fault_middleware` applies the REST faults described in
:class:`~atb.testing.emulator.config.FaultConfig`. Only ``/api/`` paths are faulted; websocket
connections are dropped through :meth:`FaultInjector.drop_ws`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from atb.testing.emulator.config import FaultConfig

__all__ = ["FaultInjector", "fault_middleware"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_RATE_LIMIT_BODY = {"code": -1003, "msg": "Too much request weight used; current limit is 6000 "
                    "request weight per 1 MINUTE. Please use WebSocket Streams for live updates to "
                    "avoid polling the API."}
_5XX_BODIES = {
    500: {"code": -1000, "msg": "An unknown error occurred while processing the request."},
    502: None,  # a gateway error page, not JSON
    503: {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
}


class FaultInjector:
    """Seeded fault draws; :meth:`configure` swaps the faults at run time.

    Parameters
    ----------
    faults : FaultConfig
        Initial faults.
    seed : int
        Seed of both random streams (REST and websocket draws are independent).
    """

    def __init__(self, faults: FaultConfig, seed: int) -> None:
        self.faults = faults
        self._rest = random.Random(seed)
        self._ws = random.Random(seed + 1)
        #: Faults injected so far, by kind (for tests and reports).
        self.injected: dict[str, int] = {}

    def configure(self, faults: FaultConfig) -> None:
        """Replace the fault configuration (the random streams continue)."""
        self.faults = faults

    def latency_s(self) -> float:
        """Extra latency for one request, seconds."""
        low, high = self.faults.latency_ms
        return 0.0 if high <= 0 else self._rest.uniform(low, high) / 1000

    def draw(self, path: str) -> str | None:
        """The fault kind for one request to ``path``, or None."""
        f = self.faults
        if f.failure_rate <= 0 or not path.startswith("/api/"):
            return None
        if f.endpoints and path not in f.endpoints:
            return None
        if self._rest.random() >= f.failure_rate:
            return None
        kind = self._rest.choice(f.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind

    def status_5xx(self) -> int:
        """500, 502 or 503."""
        return self._rest.choice(sorted(_5XX_BODIES))

    def drop_ws(self) -> bool:
        """True when a websocket push should close its connection instead."""
        rate = self.faults.ws_drop_rate
        hit = rate > 0 and self._ws.random() < rate
        if hit:
            self.injected["ws_drop"] = self.injected.get("ws_drop", 0) + 1
        return hit


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without a response (the client sees a disconnect)."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def fault_middleware(injector: FaultInjector) -> Middleware:
    """The aiohttp middleware applying ``injector``'s faults to REST requests."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        delay = injector.latency_s()
        if delay:
            await asyncio.sleep(delay)
        kind = injector.draw(request.path)
        if kind is None:
            return await handler(request)
        if kind == "timeout":
            await asyncio.sleep(injector.faults.timeout_s)
            return _drop(request)
        if kind == "429":
            return web.json_response(_RATE_LIMIT_BODY, status=429, headers={"Retry-After": "1"})
        if kind == "5xx":
            status = injector.status_5xx()
            body = _5XX_BODIES[status]
            if body is None:
                return web.Response(status=status, text="<html>502 Bad Gateway</html>",
                                    content_type="text/html")
            return web.json_response(body, status=status)
        if kind == "malformed":
            return web.Response(status=200, text='{"symbol": "BTCUSDT", "orderId": 1, "cli',
                                content_type="application/json")
        if kind == "lost_response":
            await handler(request)  # executed (an error body is lost the same way)
        return _drop(request)

    return middleware
