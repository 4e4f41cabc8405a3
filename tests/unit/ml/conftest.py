"""Real-data fixtures: features and labels computed here, independently of atb.features, from BTC 1h."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

HORIZON = 4  # label: sign of the close-to-close return over the next 4 candles


def build_features(candles: pd.DataFrame) -> pd.DataFrame:
    close = candles["close"]
    ret = close.pct_change()
    feats = {f"ret_lag{k}": ret.shift(k) for k in range(5)}
    for w in (6, 24, 72):
        feats[f"ret_mean_{w}"] = ret.rolling(w).mean()
        feats[f"ret_std_{w}"] = ret.rolling(w).std()
        feats[f"close_z_{w}"] = (close - close.rolling(w).mean()) / close.rolling(w).std()
    feats["range"] = (candles["high"] - candles["low"]) / close
    vol = np.log(candles["volume"] + 1.0)
    feats["volume_z_24"] = (vol - vol.rolling(24).mean()) / vol.rolling(24).std()
    return pd.DataFrame(feats).set_axis(pd.DatetimeIndex(candles["date"]), axis=0)


@pytest.fixture(scope="session")
def btc_candles(shared_dir) -> pd.DataFrame:
    return pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather")


@pytest.fixture(scope="session")
def btc_dataset(btc_candles):
    """(X DataFrame, y float64 in {0, 1} / NaN, known_at int64, forward return) over the last 4000 candles."""
    candles = btc_candles.tail(4000).reset_index(drop=True)
    X = build_features(candles)
    close = candles["close"].to_numpy()
    n = len(close)
    fwd = np.full(n, np.nan)
    fwd[: n - HORIZON] = close[HORIZON:] / close[: n - HORIZON] - 1.0
    y = np.where(np.isnan(fwd), np.nan, (fwd > 0).astype(np.float64))
    known_at = np.where(np.isnan(fwd), -1, np.arange(n) + HORIZON).astype(np.int64)
    return X, y, known_at, fwd
