"""Frame builders shared by the regime tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Synthetic regime spec: drift and volatility of the log return per 1h candle.
SPEC = {"bull": (0.002, 0.006), "bear": (-0.003, 0.02), "range": (0.0, 0.011)}


def frame(close, start="2024-01-01", freq="1h") -> pd.DataFrame:
    """OHLCV frame (open=high=low=close) from closes, dates from ``start`` every ``freq`` (UTC)."""
    close = np.asarray(close, dtype=np.float64)
    return pd.DataFrame({
        "date": pd.date_range(start, periods=len(close), freq=freq, tz="UTC"),
        "open": close, "high": close, "low": close, "close": close, "volume": 1.0,
    })


def synthetic_regimes(seed=7, block=300, cycles=5):
    """Blocks of ``block`` 1h candles cycling bull, range, bear, range; returns (frame, truth)."""
    rng = np.random.default_rng(seed)
    order = ["bull", "range", "bear", "range"] * cycles
    rets = [rng.normal(*SPEC[reg], block) for reg in order]
    truth = np.repeat(np.array(order, dtype=object), block)
    close = 100.0 * np.exp(np.cumsum(np.concatenate(rets)))
    return frame(close), truth


def load(shared_dir, name="BTC_USDT-1h") -> pd.DataFrame:
    return pd.read_feather(shared_dir / "data" / "binance" / f"{name}.feather")


def cut_points(n: int, count: int, first: int) -> list[int]:
    """``count`` distinct row positions spread over ``[first, n - 2]`` (inclusive ends)."""
    return sorted({int(x) for x in np.linspace(first, n - 2, count)})
