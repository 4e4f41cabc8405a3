"""No lookahead: features of rows <= cut are identical whether or not later candles exist.

Built on real BTC/USDT 1h with a 4h informative timeframe and ETH/USDT as correlated pair, for
the full data and for the data truncated at 24 cut points spread over it (including the
2024-09 data gap and every phase of the 4h bucket). Exact equality (NaN == NaN).
"""

import numpy as np
import pandas as pd
import pytest

from atb.features import FeatureConfig, build_features

CFG = FeatureConfig(periods=[14, 30], informative_timeframes=["4h"], correlated_pairs=["ETH/USDT"],
                    shifted_candles=2, include_returns=True, include_time=True)


@pytest.fixture(scope="module")
def full(btc_1h, eth_1h):
    return build_features(btc_1h, CFG, timeframe="1h", informative={"ETH/USDT": eth_1h})


def _cuts(n):
    spread = np.linspace(300, n - 1, 20).astype(int)
    extra = np.array([5978, 5979, 5980, 5981])  # around the real gap (row 5980 follows it)
    return sorted(set(spread.tolist()) | set(extra.tolist()))


def test_cut_points_cover_the_data(btc_1h):
    cuts = _cuts(len(btc_1h))
    assert len(cuts) >= 20
    assert {int(h) % 4 for h in btc_1h["date"].dt.hour.iloc[cuts]} == {0, 1, 2, 3}


@pytest.mark.parametrize("truncate_eth", [True, False])
def test_truncated_data_gives_identical_features(btc_1h, eth_1h, full, truncate_eth):
    cols = list(full.values.columns)
    assert any(c.endswith("_4h") for c in cols) and any("_ETH/USDT" in c for c in cols)
    cuts = _cuts(len(btc_1h))
    if not truncate_eth:  # future ETH rows present but must not be used
        cuts = cuts[::2]
    for cut in cuts:
        base = btc_1h.iloc[:cut + 1]
        end = base["date"].iloc[-1]
        eth = eth_1h[eth_1h["date"] <= end] if truncate_eth else eth_1h
        part = build_features(base, CFG, timeframe="1h", informative={"ETH/USDT": eth})
        assert list(part.values.columns) == cols
        expected = full.values.iloc[:cut + 1].to_numpy()
        np.testing.assert_array_equal(part.values.to_numpy(), expected, err_msg=f"cut at row {cut} ({end})")
        last = part.values.iloc[-1]
        if cut > 1000 and cut < 5978:  # far from warm-up and the gap, the last row is fully known
            assert last.notna().all(), f"NaN at cut {cut}: {list(last[last.isna()].index)[:5]}"


def test_row_availability(full, btc_1h):
    assert (full.available_at() == btc_1h["date"] + pd.Timedelta("1h")).all()
    assert max(s.available_after for s in full.specs) == pd.Timedelta("1h")
