"""TTL + LRU cache of predictions keyed by (model id, pair, candle timestamp)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from atb.errors import ConfigError

__all__ = ["TTLPredictionCache"]


class TTLPredictionCache:
    """Predictions kept for ``ttl_seconds``, at most ``maxsize`` entries (least recently used evicted).

    Parameters
    ----------
    ttl_seconds : float
        Lifetime of an entry in seconds of ``clock`` (> 0).
    maxsize : int
        Entries kept (>= 1); inserting beyond evicts the least recently used one.
    clock : callable
        Monotonic seconds (default :func:`time.monotonic`; tests pass a fake clock).

    Examples
    --------
    >>> now = [0.0]
    >>> cache = TTLPredictionCache(60.0, clock=lambda: now[0])
    >>> cache.put("m1", "BTC/USDT", 1700000000000, 0.7)
    >>> cache.get("m1", "BTC/USDT", 1700000000000)
    0.7
    >>> now[0] = 61.0
    >>> cache.get("m1", "BTC/USDT", 1700000000000) is None
    True
    """

    def __init__(self, ttl_seconds: float, maxsize: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not ttl_seconds > 0:
            raise ConfigError(f"ttl_seconds must be > 0, got {ttl_seconds}")
        if maxsize < 1:
            raise ConfigError(f"maxsize must be >= 1, got {maxsize}")
        self.ttl_seconds = float(ttl_seconds)
        self.maxsize = int(maxsize)
        self._clock = clock
        self._data: OrderedDict[tuple[Hashable, str, Hashable], tuple[float, Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, model_id: Hashable, pair: str, timestamp: Hashable) -> Any | None:
        """The cached prediction, or None (a miss) if absent or expired (expired entries are dropped).

        ``timestamp`` is the candle's open time (e.g. UTC ms).
        """
        key = (model_id, pair, timestamp)
        item = self._data.get(key)
        if item is None or self._clock() >= item[0]:
            if item is not None:
                del self._data[key]
            self.misses += 1
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, model_id: Hashable, pair: str, timestamp: Hashable, prediction: Any) -> None:
        """Store ``prediction``; expires ``ttl_seconds`` after now; evicts the LRU entry when full."""
        key = (model_id, pair, timestamp)
        self._data[key] = (self._clock() + self.ttl_seconds, prediction)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)
            self.evictions += 1

    def clear(self) -> None:
        """Drop every entry (counters are kept)."""
        self._data.clear()

    @property
    def hit_rate(self) -> float:
        """``hits / (hits + misses)``, 0.0 before any lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0
