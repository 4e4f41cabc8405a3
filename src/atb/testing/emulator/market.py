"""The replayed market: a candle clock over OHLCV frames, symbol rules, tickers and a synthetic book.

Pure (pandas/numpy, no I/O). The clock points at the *current* candle; ``now_ms`` is its close
time (open + timeframe), so the current candle is complete and everything served is from the past.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from atb.core.timeframe import timeframe_to_msecs
from atb.testing.emulator.models import Candle, Quote, SymbolRules

__all__ = ["ReplayMarket", "derive_rules", "fmt"]

_DAY_MS = 86_400_000


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def fmt(value: Decimal) -> str:
    """A Decimal in plain notation (never ``1E-7``), as Binance writes numbers."""
    return f"{value:f}"


def derive_rules(pair: str, typical_price: float) -> SymbolRules:
    """Binance-like tick and lot step from the price magnitude.

    ``tick = 10**(floor(log10(price)) - 4)`` capped at 0.01 and ``step = 10**-(floor(log10(price)) + 1)``
    capped at 1: BTC (~60 000) gets 0.01 / 0.00001, ETH (~2 000) 0.01 / 0.0001, DOGE (~0.1)
    0.000001 / 1 - close to Binance's own filters. Minimum notional 5 quote.
    """
    base, quote = pair.split("/")
    mag = math.floor(math.log10(max(typical_price, 1e-8)))
    tick = Decimal(1).scaleb(min(mag - 4, -2)).max(Decimal("1e-8"))
    step = Decimal(1).scaleb(min(-(mag + 1), 0)).max(Decimal("1e-8"))
    return SymbolRules(pair=pair, symbol=base + quote, base=base, quote=quote, tick=tick, step=step,
                       min_qty=step)


class ReplayMarket:
    """Candle clock and market data of every pair.

    Parameters
    ----------
    pairs : tuple of str
        Unified pairs.
    candles : mapping pair -> DataFrame
        OHLCV frames at ``timeframe``.
    timeframe : str
        Candle timeframe; one :meth:`advance` moves the clock by one candle.
    start_index : int
        Timeline index of the current candle at start (clamped).
    book_levels : int
        Levels per side of :meth:`depth`.
    """

    def __init__(self, pairs: tuple[str, ...], candles: Mapping[str, pd.DataFrame], timeframe: str,
                 start_index: int, book_levels: int) -> None:
        self.timeframe = timeframe
        self.tf_ms = timeframe_to_msecs(timeframe)
        self.book_levels = book_levels
        self.ts: dict[str, np.ndarray] = {}
        self.ohlcv: dict[str, np.ndarray] = {}
        self.rules: dict[str, SymbolRules] = {}
        for pair in pairs:
            df = candles[pair]
            ts = pd.to_datetime(df["date"], utc=True).dt.tz_localize(None)
            self.ts[pair] = ts.to_numpy("datetime64[ms]").astype(np.int64)
            self.ohlcv[pair] = df[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)
            self.rules[pair] = derive_rules(pair, float(np.median(self.ohlcv[pair][:, 3])))
        self.by_symbol = {r.symbol: r for r in self.rules.values()}
        self.first_ms = min(int(t[0]) for t in self.ts.values())
        self.last_ms = max(int(t[-1]) for t in self.ts.values())
        self.n_steps = (self.last_ms - self.first_ms) // self.tf_ms + 1
        self.index = min(start_index, self.n_steps - 1)

    # ----------------------------------------------------------------------------------- clock
    @property
    def open_ms(self) -> int:
        """Open time of the current candle, UTC ms."""
        return self.first_ms + self.index * self.tf_ms

    @property
    def now_ms(self) -> int:
        """The replay clock: close time of the current candle, UTC ms."""
        return self.open_ms + self.tf_ms

    def advance(self) -> bool:
        """Move to the next candle; False (and no move) at the end of the data."""
        if self.index + 1 >= self.n_steps:
            return False
        self.index += 1
        return True

    def _upto(self, pair: str) -> int:
        """Number of candles of ``pair`` opened at or before the current candle."""
        return int(np.searchsorted(self.ts[pair], self.open_ms, side="right"))

    def has_current(self, pair: str) -> bool:
        """True when ``pair`` has a candle opening at the current clock (no gap)."""
        n = self._upto(pair)
        return n > 0 and int(self.ts[pair][n - 1]) == self.open_ms

    def candle(self, pair: str) -> Candle:
        """The newest candle of ``pair`` up to the clock (Decimal prices)."""
        o, h, low, c, _ = self.ohlcv[pair][max(self._upto(pair) - 1, 0)]
        return Candle(_dec(o), _dec(h), _dec(low), _dec(c))

    def quote(self, pair: str) -> Quote:
        """Synthetic best bid/ask: ``bid = floor_tick(close)``, ``ask = bid + tick``."""
        rules = self.rules[pair]
        bid = rules.floor_price(self.candle(pair).close)
        return Quote(bid, bid + rules.tick)

    # ----------------------------------------------------------------------------------- payloads
    def klines(self, pair: str, start: int | None, end: int | None, limit: int) -> list[list[Any]]:
        """Binance kline rows opened in ``[start, end]`` and not after the clock, oldest first."""
        ts, values = self.ts[pair], self.ohlcv[pair]
        hi = self._upto(pair)
        if end is not None:
            hi = min(hi, int(np.searchsorted(ts, end, side="right")))
        if start is not None:
            lo = int(np.searchsorted(ts, start, side="left"))
            hi = min(hi, lo + limit)
        else:
            lo = max(hi - limit, 0)
        return [self.kline_row(int(ts[i]), values[i]) for i in range(lo, hi)]

    def kline_row(self, open_ms: int, row: np.ndarray) -> list[Any]:
        """One kline in Binance's array layout (strings for prices and volumes)."""
        o, h, low, c, v = (repr(float(x)) for x in row)
        quote_vol = repr(float(row[3] * row[4]))
        return [open_ms, o, h, low, c, v, open_ms + self.tf_ms - 1, quote_vol, 1, "0", "0", "0"]

    def current_kline(self, pair: str) -> tuple[int, np.ndarray]:
        """``(open_ms, [o, h, l, c, v])`` of the newest candle up to the clock."""
        i = max(self._upto(pair) - 1, 0)
        return int(self.ts[pair][i]), self.ohlcv[pair][i]

    def ticker_24h(self, pair: str) -> dict[str, Any]:
        """``GET /api/v3/ticker/24hr`` of one pair over the 24 h up to the clock."""
        ts, values = self.ts[pair], self.ohlcv[pair]
        hi = max(self._upto(pair), 1)
        lo = min(int(np.searchsorted(ts, self.now_ms - _DAY_MS, side="left")), hi - 1)
        win = values[lo:hi]
        first_open, last = float(win[0, 0]), float(win[-1, 3])
        q = self.quote(pair)
        vol = float(win[:, 4].sum())
        return {
            "symbol": self.rules[pair].symbol,
            "priceChange": repr(last - first_open),
            "priceChangePercent": f"{(last / first_open - 1) * 100:.3f}",
            "weightedAvgPrice": repr(float((win[:, 3] * win[:, 4]).sum() / vol) if vol else last),
            "prevClosePrice": repr(float(values[lo - 1, 3]) if lo > 0 else first_open),
            "lastPrice": repr(last), "lastQty": "0.00000000",
            "bidPrice": fmt(q.bid), "bidQty": "1.00000000", "askPrice": fmt(q.ask),
            "askQty": "1.00000000", "openPrice": repr(first_open),
            "highPrice": repr(float(win[:, 1].max())), "lowPrice": repr(float(win[:, 2].min())),
            "volume": repr(vol), "quoteVolume": repr(float((win[:, 3] * win[:, 4]).sum())),
            "openTime": int(ts[lo]), "closeTime": self.now_ms - 1,
            "firstId": lo, "lastId": hi - 1, "count": hi - lo,
        }

    def book_ticker(self, pair: str) -> dict[str, Any]:
        """``GET /api/v3/ticker/bookTicker`` of one pair."""
        q = self.quote(pair)
        return {"symbol": self.rules[pair].symbol, "bidPrice": fmt(q.bid), "bidQty": "1.00000000",
                "askPrice": fmt(q.ask), "askQty": "1.00000000"}

    def depth(self, pair: str, limit: int) -> dict[str, Any]:
        """Deterministic book: ``limit`` levels a tick apart, sizes growing away from the top."""
        rules = self.rules[pair]
        q = self.quote(pair)
        n = max(1, min(limit, self.book_levels))
        unit = rules.floor_qty(Decimal(1000) / q.ask).max(rules.step)  # ~1000 quote per level
        bids = [[fmt(q.bid - i * rules.tick), fmt(unit * (i + 1))] for i in range(n)]
        asks = [[fmt(q.ask + i * rules.tick), fmt(unit * (i + 1))] for i in range(n)]
        return {"lastUpdateId": self.index, "bids": bids, "asks": asks}

    def recent_trades(self, pair: str, limit: int) -> list[dict[str, Any]]:
        """One synthetic public trade per candle (at its close), newest last."""
        ts, values = self.ts[pair], self.ohlcv[pair]
        hi = self._upto(pair)
        lo = max(hi - limit, 0)
        return [{"id": i, "price": repr(float(values[i, 3])), "qty": repr(float(values[i, 4])),
                 "quoteQty": repr(float(values[i, 3] * values[i, 4])),
                 "time": int(ts[i]) + self.tf_ms - 1, "isBuyerMaker": bool(values[i, 3] < values[i, 0]),
                 "isBestMatch": True} for i in range(lo, hi)]
