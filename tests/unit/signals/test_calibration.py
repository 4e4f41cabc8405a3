"""Causal confidence calibration: hand-made hits, and truncation invariance on real candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError
from atb.signals import calibrated_confidence, direction_hits


def test_direction_hits_by_hand():
    close = np.array([100.0, 101.0, 99.0, 99.0, 102.0])
    score = np.array([0.5, 0.5, -0.3, 0.0, 0.2])
    hits = direction_hits(score, close, 1)
    # r0 +1% long -> hit; r1 -2% long -> miss; r2 0% short -> miss; r3 flat -> nan; last unknown
    np.testing.assert_array_equal(hits[:3], [1.0, 0.0, 0.0])
    assert np.isnan(hits[3]) and np.isnan(hits[4])


def test_calibration_uses_only_known_outcomes(shared_dir):
    df = pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather").iloc[-3000:]
    close = df["close"].to_numpy(dtype=float)
    rsi_like = np.tanh((close / pd.Series(close).rolling(24).mean().to_numpy() - 1.0) * 20)
    score = np.nan_to_num(rsi_like)
    full = calibrated_confidence(score, close, horizon=6, refit_every=100, min_samples=200)
    assert np.isnan(full[:300]).all()  # no fit before 200 known outcomes
    assert np.nanmin(full) >= 0.0 and np.nanmax(full) <= 1.0
    assert np.isfinite(full).sum() > 2000
    for cut in range(400, 3000, 173):
        part = calibrated_confidence(score[:cut], close[:cut], horizon=6, refit_every=100,
                                     min_samples=200)
        np.testing.assert_array_equal(part, full[:cut])


def test_calibration_parameters_are_checked():
    with pytest.raises(ConfigError, match="horizon"):
        calibrated_confidence(np.zeros(3), np.ones(3), horizon=0)
