"""No lookahead: labels of a frame cut at row t equal the full frame's labels up to t."""

import numpy as np
import pandas as pd
import pytest

from atb.regime import (
    HmmRegimeDetector,
    SmaTrendDetector,
    VolatilityRegimeDetector,
    add_regime_column,
    btc_regime_for_pair,
)

from ._helpers import cut_points, load, synthetic_regimes


def _assert_prefix_stable(detector, df, cuts):
    full = detector.detect(df)
    assert len(full) == len(df)
    for t in cuts:
        part = detector.detect(df.iloc[:t + 1])
        assert part.tolist() == full.iloc[:t + 1].tolist(), f"{detector.name}: labels differ when cut at {t}"
    return full


@pytest.fixture(scope="module")
def btc(shared_dir):
    return load(shared_dir)


@pytest.mark.parametrize("detector", [
    SmaTrendDetector(), SmaTrendDetector(sma_days=50, band=0.0, confirm=1),
    VolatilityRegimeDetector(), VolatilityRegimeDetector(window=72, min_history=100),
], ids=["sma200", "sma50", "vol", "vol72"])
def test_sma_and_volatility_on_real_btc_1h(btc, detector):
    cuts = cut_points(len(btc), 30, first=10)
    # every hour of one day around a label change, where an off-by-one candle would show
    full = _assert_prefix_stable(detector, btc, cuts)
    change = int(np.flatnonzero(full.iloc[1:].to_numpy() != full.iloc[:-1].to_numpy())[-1]) + 1
    _assert_prefix_stable(detector, btc, range(change - 24, min(change + 24, len(btc) - 1)))


def test_sma_on_daily_candles(btc):
    daily = (btc.set_index("date").resample("1D")
             .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
             .dropna().reset_index())
    _assert_prefix_stable(SmaTrendDetector(sma_days=60, confirm=2), daily, cut_points(len(daily), 25, 1))


def test_hmm_on_synthetic_and_real_segments(btc):
    det = HmmRegimeDetector(train_window=500, refit_every=100, min_train=400, vol_window=12)
    syn, _ = synthetic_regimes(seed=1, block=200, cycles=2)           # 1600 rows
    full = _assert_prefix_stable(det, syn, cut_points(len(syn), 20, first=400))
    assert full.notna().sum() == len(syn) - 412
    real = btc.iloc[:1300].reset_index(drop=True)
    probs = det.predict_proba(real)
    for t in cut_points(len(real), 20, first=380):
        part = det.predict_proba(real.iloc[:t + 1])
        np.testing.assert_allclose(part.to_numpy(), probs.iloc[:t + 1].to_numpy(), rtol=0, atol=1e-12)


def test_changing_the_future_changes_no_past_label(btc):
    seg = btc.iloc[:3000].reset_index(drop=True)
    shocked = seg.copy()
    shocked.loc[2000:, "close"] *= np.linspace(0.5, 3.0, 1000)
    for det in (SmaTrendDetector(sma_days=20), VolatilityRegimeDetector(min_history=200),
                HmmRegimeDetector(train_window=600, refit_every=200, min_train=500)):
        a, b = det.detect(seg), det.detect(shocked)
        assert a.iloc[:2000].tolist() == b.iloc[:2000].tolist(), det.name
        assert a.iloc[2000:].tolist() != b.iloc[2000:].tolist(), det.name


class _RowLabels:
    """Stub detector: label = row number as text, so alignment can be read off directly."""

    name = "rows"

    def detect(self, candles):
        return pd.Series([str(i) for i in range(len(candles))], dtype=object)


def test_btc_alignment_joins_on_close_times():
    ref = pd.DataFrame({"date": pd.date_range("2024-01-01 09:00", periods=3, freq="1h", tz="UTC"),
                        "close": 1.0})
    pair = pd.DataFrame({"date": pd.date_range("2024-01-01 09:00", periods=36, freq="5min", tz="UTC")})
    labels = btc_regime_for_pair(pair, ref, _RowLabels())
    # 09:00..09:50 close before 10:00: nothing yet; 09:55 closes with the 09:00 hour
    assert labels.tolist() == [None] * 11 + ["0"] * 12 + ["1"] * 12 + ["2"]
    # the same timeframe joins on equal dates
    same = btc_regime_for_pair(ref, ref, _RowLabels())
    assert same.tolist() == ["0", "1", "2"]
    # a 1h pair against 4h reference candles sees a 4h label only from the 4h candle's last hour
    ref4 = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=2, freq="4h", tz="UTC"), "close": 1.0})
    hourly = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=9, freq="1h", tz="UTC")})
    assert btc_regime_for_pair(hourly, ref4, _RowLabels()).tolist() == [None] * 3 + ["0"] * 4 + ["1"] * 2


def test_btc_regime_for_real_pairs_is_causal(shared_dir, btc):
    eth = load(shared_dir, "ETH_USDT-1h")
    eth5 = load(shared_dir, "ETH_USDT-5m").iloc[:20000].reset_index(drop=True)
    det = VolatilityRegimeDetector(min_history=100)
    for pair in (eth, eth5):
        full = btc_regime_for_pair(pair, btc, det)
        assert len(full) == len(pair) and full.notna().sum() > len(pair) * 0.9
        for t in cut_points(len(pair), 20, first=5):
            end = pair["date"].iloc[t]
            part = btc_regime_for_pair(pair.iloc[:t + 1], btc[btc["date"] <= end], det)
            assert part.tolist() == full.iloc[:t + 1].tolist(), t
    # equal 1h timeframes: ETH rows get BTC's label of the same date
    btc_labels = pd.Series(det.detect(btc).to_numpy(), index=btc["date"], dtype=object)
    full = btc_regime_for_pair(eth, btc, det)
    common = eth["date"].isin(btc["date"]).to_numpy()
    assert full[common].tolist() == btc_labels.reindex(eth["date"][common]).tolist()


def test_add_regime_column(btc):
    seg = btc.iloc[:2000].copy()
    seg.index = range(100, 2100)                                   # any index is kept
    det = VolatilityRegimeDetector(min_history=100)
    out = add_regime_column(seg, det)
    assert "regime" not in seg.columns and list(out.index) == list(seg.index)
    assert out["regime"].dtype == object and out["regime"].tolist() == det.detect(seg).tolist()
    ref = add_regime_column(seg, det, column="btc_vol", reference=btc.iloc[:2000])
    assert ref["btc_vol"].tolist() == out["regime"].tolist()       # same dates, same timeframe
