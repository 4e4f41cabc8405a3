"""VolatilityRegimeDetector against hand values and an independent numpy computation."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from atb.errors import ConfigError
from atb.regime import VolatilityRegimeDetector, VolRegime

from ._helpers import frame, load


def test_hand_computed_labels():
    # log returns r1..r7 = 0, .01, .03, 0, 0, .05, .07; window 2 -> vol = |r_t - r_t-1| / sqrt(2)
    r = np.array([0.0, 0.0, 0.01, 0.03, 0.0, 0.0, 0.05, 0.07])
    df = frame(100.0 * np.exp(np.cumsum(r)))
    det = VolatilityRegimeDetector(window=2, low_q=0.25, high_q=0.75, min_history=3)
    vol = det.volatility(df).to_numpy()
    units = np.array([np.nan, np.nan, 1, 2, 3, 0, 5, 2]) * 0.01 / np.sqrt(2)
    np.testing.assert_allclose(vol, units, atol=1e-15)
    # row 4: {1,2,3} q25=1.5 q75=2.5, 3 -> high; row 5: {0..3} q25=.75, 0 -> low;
    # row 6: {0,1,2,3,5} q75=3, 5 -> high; row 7: {0,1,2,2,3,5} q25=1.25 q75=2.75, 2 -> normal
    assert det.detect(df).tolist() == [None] * 4 + ["high", "low", "high", "normal"]


def _numpy_reference(close, window, low_q, high_q, min_history):
    r = np.diff(np.log(close))
    vol = np.full(close.size, np.nan)
    vol[window:] = sliding_window_view(r, window).std(axis=1, ddof=1)
    labels = [None] * close.size
    seen = 0
    for t in range(close.size):
        if np.isnan(vol[t]):
            continue
        seen += 1
        if seen < min_history:
            continue
        past = vol[window:t + 1]
        lo, hi = np.quantile(past, low_q), np.quantile(past, high_q)
        labels[t] = "low" if vol[t] < lo else "high" if vol[t] > hi else "normal"
    return vol, labels


def test_matches_independent_numpy_on_real_btc(shared_dir):
    df = load(shared_dir).iloc[:4000].reset_index(drop=True)
    det = VolatilityRegimeDetector(window=24, low_q=0.3, high_q=0.7, min_history=300)
    vol_ref, labels_ref = _numpy_reference(df["close"].to_numpy(), 24, 0.3, 0.7, 300)
    np.testing.assert_allclose(det.volatility(df).to_numpy(), vol_ref, rtol=1e-9)
    labels = det.detect(df).tolist()
    assert labels == labels_ref
    assert labels.index("low") >= 24 + 299 and labels[24 + 298] is None and labels[24 + 299] is not None
    counts = {v.value: labels.count(v.value) for v in VolRegime}
    assert min(counts.values()) > 500


def test_defaults_on_full_btc(shared_dir):
    df = load(shared_dir)
    labels = VolatilityRegimeDetector().detect(df)
    assert labels.isna().sum() == 24 + 720 - 1
    shares = labels.value_counts(normalize=True)
    # a label's quantile level sets its long-run share roughly (expanding, so not exactly)
    assert 0.2 < shares["low"] < 0.5 and 0.2 < shares["high"] < 0.45


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"window": 1}, "window"), ({"low_q": 0.0}, "low_q"), ({"high_q": 1.0}, "high_q"),
    ({"low_q": 0.7, "high_q": 0.6}, "low_q/high_q"), ({"min_history": 0}, "min_history"),
])
def test_bad_parameters(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        VolatilityRegimeDetector(**kwargs)
