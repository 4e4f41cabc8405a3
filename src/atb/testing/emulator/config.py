"""Configuration records of the Binance emulator: the market to replay, the account, the faults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from atb.errors import ConfigError

__all__ = ["FAULT_KINDS", "EmulatorConfig", "FaultConfig"]

#: Every fault kind :class:`FaultConfig` knows.
FAULT_KINDS: tuple[str, ...] = ("timeout", "429", "5xx", "disconnect", "malformed", "lost_response")


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultConfig:
    """Faults injected into REST requests and websocket connections (deterministic by seed).

    Parameters
    ----------
    failure_rate : float
        Probability (0..1) that one REST request fails with one of ``kinds`` (drawn uniformly).
    kinds : tuple of str
        Subset of :data:`FAULT_KINDS`:

        - ``"timeout"``: the response is held ``timeout_s`` seconds, then the connection is closed
          (set the client's timeout below ``timeout_s``); the request is not executed.
        - ``"429"``: HTTP 429, body ``{"code": -1003, ...}`` and a ``Retry-After`` header.
        - ``"5xx"``: HTTP 500, 502 or 503 with a Binance error body (-1001 / -1000).
        - ``"disconnect"``: the connection is closed without a response; not executed.
        - ``"malformed"``: HTTP 200 with a truncated JSON body; the request is not executed.
        - ``"lost_response"``: the request IS executed (an order is placed or cancelled), then the
          connection is closed without a response - the case crash-safe order code must resolve
          by ``fetch_order`` on the client order id.
    latency_ms : tuple of float
        ``(low, high)`` uniform extra latency added to every REST request, milliseconds.
    ws_drop_rate : float
        Probability (0..1) that a websocket connection is closed each time a message is pushed to it.
    timeout_s : float
        How long a ``"timeout"`` fault holds the request, seconds (bounded so tests end).
    endpoints : tuple of str
        Restrict faults to these paths (e.g. ``("/api/v3/order",)``); empty = every path.
    """

    failure_rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    latency_ms: tuple[float, float] = (0.0, 0.0)
    ws_drop_rate: float = 0.0
    timeout_s: float = 2.0
    endpoints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("failure_rate", "ws_drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"FaultConfig.{name} must be in [0, 1], got {value}")
        unknown = sorted(set(self.kinds) - set(FAULT_KINDS))
        if unknown or not self.kinds:
            raise ConfigError(f"FaultConfig.kinds: unknown or empty {unknown}; known {FAULT_KINDS}")
        low, high = self.latency_ms
        if not 0.0 <= low <= high:
            raise ConfigError(f"FaultConfig.latency_ms must be (low, high) with 0 <= low <= high, "
                              f"got {self.latency_ms}")
        if self.timeout_s <= 0:
            raise ConfigError(f"FaultConfig.timeout_s must be > 0, got {self.timeout_s}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorConfig:
    """What the emulator replays and the account it starts with.

    Parameters
    ----------
    pairs : tuple of str
        Unified pairs (``"BTC/USDT"``); each needs a frame in ``candles``.
    candles : mapping pair -> DataFrame
        OHLCV frames (columns ``date`` (UTC), ``open``, ``high``, ``low``, ``close``, ``volume``)
        at ``timeframe``; the replay source. Only candles up to the replay clock are ever served.
    timeframe : str
        Timeframe of ``candles`` and of one :meth:`BinanceEmulator.advance` step (``"1m"``,
        ``"5m"``, ``"1h"``, ...). Klines are served for this interval only.
    balances : mapping currency -> Decimal
        Initial free balances; every other currency starts at 0.
    maker_fee, taker_fee : Decimal
        Fee ratios (0.001 = 0.1 %), charged in the quote currency.
    faults : FaultConfig
        Initial faults (none by default); change them at run time with ``set_faults``.
    seed : int
        Seed of the fault draws, the client order ids the emulator generates and the synthetic book.
    start_index : int
        Index (on the replay timeline) of the current candle at start: candles before it are the
        history a strategy can load; clamped to the last candle.
    book_levels : int
        Price levels per side of the synthetic order book (the spread is one tick).
    """

    pairs: tuple[str, ...]
    candles: Mapping[str, pd.DataFrame]
    timeframe: str = "1m"
    balances: Mapping[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal(10000)})
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    faults: FaultConfig = FaultConfig()
    seed: int = 0
    start_index: int = 500
    book_levels: int = 20

    def __post_init__(self) -> None:
        if not self.pairs:
            raise ConfigError("EmulatorConfig.pairs is empty")
        for pair in self.pairs:
            if pair.count("/") != 1:
                raise ConfigError(f"EmulatorConfig.pairs: {pair!r} is not BASE/QUOTE")
            frame = self.candles.get(pair)
            if frame is None or frame.empty:
                raise ConfigError(f"EmulatorConfig.candles has no candles for {pair}")
        if self.start_index < 0 or self.book_levels < 1:
            raise ConfigError("EmulatorConfig.start_index must be >= 0 and book_levels >= 1")
        for name in ("maker_fee", "taker_fee"):
            if not Decimal(0) <= getattr(self, name) < Decimal(1):
                raise ConfigError(f"EmulatorConfig.{name} must be a ratio in [0, 1)")
