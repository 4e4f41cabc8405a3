"""A Binance spot exchange emulator (REST v3 + websocket streams) for ccxt's own binance client.

Replays real candles: the clock stands on a *current* candle (``now_ms`` = its close time) and
moves only by :meth:`BinanceEmulator.advance`. Nothing after the clock is ever served. Orders
match against a synthetic one-tick-spread book around the current close and, when resting,
against the range of each later candle (see :mod:`atb.testing.emulator.matching` for the exact
rules; fees are charged in the quote currency). Faults (timeouts, 429, 5xx, disconnects,
malformed bodies, lost responses, websocket drops) are injected deterministically by seed.

Everything binds 127.0.0.1 only.

Examples
--------
>>> import pandas as pd  # doctest: +SKIP
>>> cfg = EmulatorConfig(pairs=("BTC/USDT",), timeframe="1h",  # doctest: +SKIP
...                      candles={"BTC/USDT": pd.read_feather("BTC_USDT-1h.feather")})
>>> async with BinanceEmulator(cfg) as emu:  # doctest: +SKIP
...     exchange = ccxt.async_support.binance(emu.ccxt_config())
"""

from atb.testing.emulator.config import FAULT_KINDS, EmulatorConfig, FaultConfig
from atb.testing.emulator.emulator import BinanceEmulator

__all__ = ["BinanceEmulator", "EmulatorConfig", "FAULT_KINDS", "FaultConfig"]
