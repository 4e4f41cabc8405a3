"""A local HTTP server speaking enough of Binance's spot REST API for ccxt to download candles.

Serves ``/api/v3/ping``, ``/api/v3/time``, ``/api/v3/exchangeInfo`` and ``/api/v3/klines`` from
OHLCV frames (real candles from feather files), bound to 127.0.0.1 on an ephemeral port. Point
ccxt's real ``binance`` client at it with :meth:`BinanceKlineServer.ccxt_config`.
Request counts per path are recorded for tests.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_msecs

__all__ = ["BinanceKlineServer"]

_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")


def _symbol_info(pair: str) -> dict[str, Any]:
    base, quote = pair.split("/")
    return {
        "symbol": base + quote, "status": "TRADING", "baseAsset": base,
        "baseAssetPrecision": 8, "quoteAsset": quote, "quotePrecision": 8,
        "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00000001", "maxPrice": "1000000.00000000",
             "tickSize": "0.00000001"},
            {"filterType": "LOT_SIZE", "minQty": "0.00000001", "maxQty": "9000000.00000000",
             "stepSize": "0.00000001"},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode":
            "EXPIRE_MAKER", "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests[url.path] += 1
        if url.path == "/api/v3/ping":
            self._send(200, {})
        elif url.path == "/api/v3/time":
            self._send(200, {"serverTime": self.server.now_ms})
        elif url.path == "/api/v3/exchangeInfo":
            self._send(200, {"timezone": "UTC", "serverTime": self.server.now_ms, "rateLimits": [],
                             "exchangeFilters": [],
                             "symbols": [_symbol_info(p) for p in self.server.frames]})
        elif url.path == "/api/v3/klines":
            self._klines(q)
        else:
            self._send(404, {"code": -1, "msg": f"unknown endpoint {url.path}"})

    def _klines(self, q: dict[str, str]) -> None:
        pair = self.server.symbols.get(q.get("symbol", ""))
        interval = q.get("interval", "")
        if pair is None or interval not in _INTERVALS:
            self._send(400, {"code": -1121, "msg": "Invalid symbol or interval."})
            return
        key = (pair, interval)
        if key not in self.server.arrays:
            self._send(200, [])
            return
        ts, values = self.server.arrays[key]
        limit = min(int(q.get("limit", 500)), 1000)
        start = int(q.get("startTime", 0))
        end = int(q.get("endTime", self.server.now_ms))
        lo = int(np.searchsorted(ts, start, side="left"))
        hi = int(np.searchsorted(ts, end, side="right"))
        hi = min(hi, lo + limit)
        step = timeframe_to_msecs(interval)
        rows = []
        for i in range(lo, hi):
            o, h, low, c, v = values[i]
            rows.append([int(ts[i]), repr(float(o)), repr(float(h)), repr(float(low)),
                         repr(float(c)), repr(float(v)),
                         int(ts[i]) + step - 1, "0", 0, "0", "0", "0"])
        self._send(200, rows)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, frames: Mapping[tuple[str, str], pd.DataFrame], now_ms: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.frames = sorted({pair for pair, _ in frames})
        self.symbols = {p.replace("/", ""): p for p in self.frames}
        self.arrays = {
            key: (df["date"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ms]")
                  .astype(np.int64),
                  df[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64))
            for key, df in frames.items()
        }
        self.now_ms = now_ms
        self.requests: Counter[str] = Counter()


class BinanceKlineServer:
    """Context manager running the emulator in a background thread.

    Parameters
    ----------
    frames : mapping (pair, timeframe) -> DataFrame
        Candles to serve (OHLCV contract).
    now_ms : int, optional
        The server's clock (ms); default: one candle after the newest served candle.
    """

    def __init__(self, frames: Mapping[tuple[str, str], pd.DataFrame], now_ms: int | None = None):
        if now_ms is None:
            last = max(int(df["date"].iloc[-1].value // 1_000_000) + timeframe_to_msecs(tf)
                       for (_, tf), df in frames.items())
            now_ms = last
        self._server = _Server(frames, now_ms)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        host_s = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_s}:{port}"

    @property
    def requests(self) -> Counter[str]:
        """Requests served per path."""
        return self._server.requests

    def ccxt_config(self) -> dict[str, Any]:
        """Constructor config making ccxt's ``binance`` use this server (spot only, no keys)."""
        api = f"{self.url}/api/v3"
        return {
            "urls": {"api": {"public": api, "private": api, "v1": f"{self.url}/api/v1"}},
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                        "adjustForTimeDifference": False},
            "enableRateLimit": True,
        }

    def __enter__(self) -> BinanceKlineServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
