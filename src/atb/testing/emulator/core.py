"""The emulator's state behind the HTTP layer: replay market, matching engine, websocket hub.

Every mutation holds one ``threading.RLock``, so the control methods (``advance``, ``set_faults``,
``balances``, ``orders``) may be called from the event loop or from another thread; websocket
pushes are always scheduled onto the server's loop.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

from atb.testing.emulator.config import EmulatorConfig
from atb.testing.emulator.faults import FaultInjector
from atb.testing.emulator.market import ReplayMarket, fmt
from atb.testing.emulator.matching import MatchingEngine
from atb.testing.emulator.payloads import account_position, execution_report
from atb.testing.emulator.ws import WsHub

__all__ = ["EmulatorCore"]


class EmulatorCore:
    """Shared state of one emulator instance (see :class:`~atb.testing.emulator.BinanceEmulator`).

    Parameters
    ----------
    config : EmulatorConfig
        Market, account and faults.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.market = ReplayMarket(config.pairs, config.candles, config.timeframe,
                                   config.start_index, config.book_levels)
        self.engine = MatchingEngine({r.symbol: r for r in self.market.rules.values()},
                                     config.balances, config.maker_fee, config.taker_fee)
        self.faults = FaultInjector(config.faults, config.seed)
        self.hub = WsHub(self.faults, lambda: self.market.now_ms)
        self.rng = random.Random(config.seed + 2)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Remember the server's loop (websocket pushes are scheduled there)."""
        self.loop = loop
        self._loop_thread = threading.get_ident() if loop is not None else None

    def on_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` now when on the loop's thread, else schedule it there (no-op when stopped)."""
        if self.loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            fn()
        else:
            self.loop.call_soon_threadsafe(fn)

    def new_client_order_id(self) -> str:
        """A client order id for requests without ``newClientOrderId`` (seeded)."""
        return "emu" + "".join(self.rng.choice("0123456789abcdef") for _ in range(20))

    # ----------------------------------------------------------------------------------- events
    def flush_user_events(self) -> None:
        """Push pending ``executionReport``/``outboundAccountPosition`` events (call under the lock)."""
        events = self.engine.drain_events()
        if not events:
            return
        now = self.market.now_ms
        reports = [execution_report(e, now) for e in events]
        assets: set[str] = set()
        for e in events:
            rules = self.engine.rules[e.order.symbol]
            assets.update((rules.base, rules.quote))
        position = account_position(self.engine.balances(), assets, now)

        def push() -> None:
            for report in reports:
                self.hub.publish_user(report)
            self.hub.publish_user(position)

        self.on_loop(push)

    def advance(self, n: int) -> int:
        """Step the clock ``n`` candles, match resting orders, push updates; steps actually taken."""
        taken = 0
        with self.lock:
            for _ in range(n):
                if not self.market.advance():
                    break
                taken += 1
                for pair, rules in self.market.rules.items():
                    if not self.market.has_current(pair):
                        continue
                    self.engine.on_candle(rules.symbol, self.market.candle(pair), self.market.now_ms)
                    self._publish_market(pair)
                self.flush_user_events()
        return taken

    def _publish_market(self, pair: str) -> None:
        market, hub = self.market, self.hub
        sym = market.rules[pair].symbol
        low = sym.lower()
        now = market.now_ms
        out: list[tuple[str, dict[str, Any]]] = []
        kline_stream = f"{low}@kline_{market.timeframe}"
        if hub.wants(kline_stream):
            open_ms, row = market.current_kline(pair)
            r = market.kline_row(open_ms, row)
            out.append((kline_stream, {"e": "kline", "E": now, "s": sym, "k": {
                "t": r[0], "T": r[6], "s": sym, "i": market.timeframe, "f": market.index,
                "L": market.index, "o": r[1], "c": r[4], "h": r[2], "l": r[3], "v": r[5], "n": 1,
                "x": True, "q": r[7], "V": "0", "Q": "0", "B": "0"}}))
        if hub.wants(f"{low}@ticker") or hub.wants(f"{low}@miniTicker"):
            t = market.ticker_24h(pair)
            out.append((f"{low}@ticker", {
                "e": "24hrTicker", "E": now, "s": sym, "p": t["priceChange"],
                "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"],
                "c": t["lastPrice"], "Q": "0", "b": t["bidPrice"], "B": t["bidQty"],
                "a": t["askPrice"], "A": t["askQty"], "o": t["openPrice"], "h": t["highPrice"],
                "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"], "O": t["openTime"],
                "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}))
            out.append((f"{low}@miniTicker", {
                "e": "24hrMiniTicker", "E": now, "s": sym, "c": t["lastPrice"], "o": t["openPrice"],
                "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"]}))
        if hub.wants(f"{low}@bookTicker"):
            q = market.quote(pair)
            out.append((f"{low}@bookTicker", {"u": market.index, "s": sym, "b": fmt(q.bid),
                                              "B": "1.00000000", "a": fmt(q.ask), "A": "1.00000000"}))
        if hub.wants(f"{low}@trade") or hub.wants(f"{low}@aggTrade"):
            tr = market.recent_trades(pair, 1)[-1]
            common = {"E": now, "s": sym, "p": tr["price"], "q": tr["qty"], "T": tr["time"],
                      "m": tr["isBuyerMaker"], "M": True}
            out.append((f"{low}@trade", {"e": "trade", "t": tr["id"], **common}))
            out.append((f"{low}@aggTrade", {"e": "aggTrade", "a": tr["id"], "f": tr["id"],
                                            "l": tr["id"], **common}))
        if out:
            def push() -> None:
                for stream, payload in out:
                    hub.publish_market(stream, payload)

            self.on_loop(push)
