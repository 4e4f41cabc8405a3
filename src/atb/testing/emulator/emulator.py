"""``BinanceEmulator``: lifecycle, URLs, the ccxt config and the control API of the emulator."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import web

from atb.testing.emulator.config import EmulatorConfig, FaultConfig
from atb.testing.emulator.core import EmulatorCore
from atb.testing.emulator.market import fmt
from atb.testing.emulator.payloads import order_json
from atb.testing.emulator.server import build_app

__all__ = ["BinanceEmulator"]

#: API key and secret the emulator hands to ccxt (any non-empty value is accepted).
TEST_API_KEY = "emulator-test-key"
TEST_SECRET = "emulator-test-secret"


class BinanceEmulator:
    """A local Binance spot venue (REST + websocket on one port of 127.0.0.1) replaying candles.

    Parameters
    ----------
    config : EmulatorConfig
        Pairs, candles, account, fees, faults and seed.

    Notes
    -----
    ``start``/``stop`` run the server on the *calling* event loop. The control methods
    (:meth:`advance`, :meth:`set_faults`, :meth:`balances`, :meth:`orders`, :attr:`now_ms`) are
    synchronous and thread-safe: they take the emulator's lock, and websocket pushes are scheduled
    onto the server's loop, so tests call them between awaits and benchmarks may call them from
    another thread.

    Examples
    --------
    >>> import ccxt.async_support as ccxt  # doctest: +SKIP
    >>> async with BinanceEmulator(cfg) as emu:  # doctest: +SKIP
    ...     ex = ccxt.binance(emu.ccxt_config())
    ...     await ex.create_order("BTC/USDT", "market", "buy", 0.01)
    ...     emu.advance()
    ...     await ex.close()
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._core = EmulatorCore(config)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ----------------------------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Bind 127.0.0.1 on an ephemeral port and serve."""
        if self._runner is not None:
            return
        self._core.bind_loop(asyncio.get_running_loop())
        runner = web.AppRunner(build_app(self._core), access_log=None, handle_signals=False,
                               shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        server = site._server  # noqa: SLF001 - aiohttp exposes the bound port only here
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close websockets and the server."""
        if self._runner is None:
            return
        await self._core.hub.close_all()
        await self._runner.cleanup()
        self._runner = None
        self._core.bind_loop(None)

    async def __aenter__(self) -> BinanceEmulator:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    # ----------------------------------------------------------------------------------- urls
    @property
    def _base(self) -> str:
        if self._port is None:
            raise RuntimeError("BinanceEmulator is not started")
        return f"127.0.0.1:{self._port}"

    @property
    def rest_url(self) -> str:
        """Base of the REST API, e.g. ``http://127.0.0.1:54321/api/v3``."""
        return f"http://{self._base}/api/v3"

    @property
    def ws_url(self) -> str:
        """Market streams base, e.g. ``ws://127.0.0.1:54321/ws`` (the ws-api is ``/ws-api/v3``)."""
        return f"ws://{self._base}/ws"

    def ccxt_config(self) -> dict[str, Any]:
        """Constructor config for ``ccxt.async_support.binance`` / ``ccxt.pro.binance``.

        Every REST and websocket URL of binance spot points here; futures/sapi URLs point at an
        unserved path so an accidental call fails fast (404) instead of reaching Binance. Options
        switch off the calls the emulator does not serve (currencies, margin pairs, time sync).
        """
        http, ws = f"http://{self._base}", f"ws://{self._base}"
        unserved = f"{http}/unsupported"
        api: dict[str, Any] = {name: unserved for name in (
            "sapi", "sapiV2", "sapiV3", "sapiV4", "dapiPublic", "dapiPrivate", "dapiPrivateV2",
            "dapiData", "fapiPublic", "fapiPublicV2", "fapiPublicV3", "fapiPrivate",
            "fapiPrivateV2", "fapiPrivateV3", "fapiData", "eapiPublic", "eapiPrivate", "papi",
            "papiV2")}
        api.update({
            "public": f"{http}/api/v3", "private": f"{http}/api/v3", "v1": f"{http}/api/v1",
            "ws": {"spot": f"{ws}/ws", "margin": f"{ws}/ws", "ws-api": {"spot": f"{ws}/ws-api/v3"}},
        })
        return {
            "apiKey": TEST_API_KEY,
            "secret": TEST_SECRET,
            "enableRateLimit": False,
            "urls": {"api": api},
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                "adjustForTimeDifference": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
        }

    # ----------------------------------------------------------------------------------- control
    @property
    def now_ms(self) -> int:
        """The replay clock: close time of the current candle, UTC ms."""
        return self._core.market.now_ms

    def advance(self, n: int = 1) -> int:
        """Move the clock ``n`` candles; resting orders match each new candle; streams are pushed.

        Returns
        -------
        int
            Candles actually stepped (fewer than ``n`` at the end of the data).
        """
        return self._core.advance(n)

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault configuration (the seeded random streams continue)."""
        with self._core.lock:
            self._core.faults.configure(faults)

    @property
    def faults_injected(self) -> dict[str, int]:
        """Faults injected so far, by kind (``"ws_drop"`` for websocket drops)."""
        return dict(self._core.faults.injected)

    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """``currency -> (free, locked)``."""
        with self._core.lock:
            return self._core.engine.balances()

    def orders(self) -> list[dict[str, Any]]:
        """Every order the emulator knows, oldest first.

        In ``GET /api/v3/order`` layout (``clientOrderId``, ``orderId``, ``status``,
        ``executedQty``, ...) plus ``fills``.
        """
        with self._core.lock:
            return [{**order_json(o), "fills": [{"price": fmt(f.price), "qty": fmt(f.qty),
                                                 "commission": fmt(f.commission),
                                                 "commissionAsset": f.commission_asset,
                                                 "tradeId": f.trade_id, "isMaker": f.is_maker}
                                                for f in o.fills]}
                    for o in self._core.engine.orders]
