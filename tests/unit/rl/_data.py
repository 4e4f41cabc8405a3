"""Synthetic candles for RL unit tests (not market data)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic(n: int, seed: int = 0, start: str = "2024-01-01") -> pd.DataFrame:
    """Random-walk candles with 2-decimal prices (not market data)."""
    rng = np.random.default_rng(seed)
    close = np.round(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n))), 2)
    open_ = np.round(np.r_[100.0, close[:-1]] * (1 + rng.normal(0, 0.001, n)), 2)
    high = np.maximum(open_, close) + 0.05
    low = np.minimum(open_, close) - 0.05
    return pd.DataFrame({"date": pd.date_range(start, periods=n, freq="1h", tz="UTC"),
                         "open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1.0, 10.0, n)})
