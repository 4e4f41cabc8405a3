"""Each indicator feature against an independent computation on real BTC 1h candles.

The references are written from the published definitions (Wilder 1978 for RSI/ATR/ADX with
TA-Lib's seeding: first average = simple mean of the first ``p`` values), in plain numpy/pandas.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from atb.features import FeatureConfig, build_features

P = 14
N = 3000


@pytest.fixture(scope="module")
def candles(btc_1h):
    return btc_1h.iloc[:N].reset_index(drop=True)


@pytest.fixture(scope="module")
def feats(candles):
    cfg = FeatureConfig(periods=[P], shifted_candles=0, include_time=False)
    return build_features(candles, cfg, timeframe="1h").values


def _wilder(x, p, start):
    """Wilder smoothing: out[start] = mean(x[start-p+1 .. start]), then (prev*(p-1) + x)/p."""
    out = np.full(len(x), np.nan)
    out[start] = x[start - p + 1:start + 1].mean()
    for i in range(start + 1, len(x)):
        out[i] = (out[i - 1] * (p - 1) + x[i]) / p
    return out


def _cols(candles):
    return (candles[c].to_numpy(np.float64) for c in ("high", "low", "close", "volume"))


def _check(actual, expected, warmup, rtol=1e-9):
    actual = np.asarray(actual)
    assert np.isnan(actual[:warmup]).all()
    assert np.isfinite(actual[warmup:]).all()
    np.testing.assert_allclose(actual[warmup:], expected[warmup:], rtol=rtol, atol=1e-12)


def test_rsi(candles, feats):
    _, _, c, _ = _cols(candles)
    d = np.r_[np.nan, np.diff(c)]
    gain, loss = np.where(d > 0, d, 0.0), np.where(d < 0, -d, 0.0)
    ag, al = _wilder(gain, P, P), _wilder(loss, P, P)
    _check(feats[f"%rsi-period_{P}"], 100 * ag / (ag + al), P)


def _true_range(h, low, c):
    prev = np.r_[np.nan, c[:-1]]
    return np.fmax(h - low, np.fmax(np.abs(h - prev), np.abs(low - prev)))


def test_atr_pct(candles, feats):
    h, low, c, _ = _cols(candles)
    atr = _wilder(_true_range(h, low, c), P, P)
    _check(feats[f"%atr_pct-period_{P}"], atr / c, P)


def test_adx(candles, feats):
    h, low, c, _ = _cols(candles)
    up = np.r_[0.0, h[1:] - h[:-1]]
    dn = np.r_[0.0, low[:-1] - low[1:]]
    pdm = np.where((up > 0) & (up > dn), up, 0.0)
    mdm = np.where((dn > 0) & (dn > up), dn, 0.0)
    tr = _true_range(h, low, c)

    def smooth(x):  # Wilder running sum: seed = sum of bars 1..p-1, then s - s/p + x
        s = np.full(len(x), np.nan)
        acc = x[1:P].sum()
        for i in range(P, len(x)):
            acc = acc - acc / P + x[i]
            s[i] = acc
        return s

    pdi, mdi = 100 * smooth(pdm) / smooth(tr), 100 * smooth(mdm) / smooth(tr)
    dx = 100 * np.abs(pdi - mdi) / (pdi + mdi)
    adx = _wilder(dx, P, 2 * P - 1)
    _check(feats[f"%adx-period_{P}"], adx, 2 * P - 1)


def test_mfi(candles, feats):
    h, low, c, v = _cols(candles)
    tp = (h + low + c) / 3
    flow = tp * v
    d = np.r_[0.0, np.diff(tp)]
    pos = pd.Series(np.where(d > 0, flow, 0.0)).rolling(P).sum().to_numpy()
    neg = pd.Series(np.where(d < 0, flow, 0.0)).rolling(P).sum().to_numpy()
    expected = 100 * pos / (pos + neg)
    expected[:P] = np.nan
    _check(feats[f"%mfi-period_{P}"], expected, P, rtol=1e-8)


def test_roc_and_return(candles, feats):
    c = candles["close"]
    _check(feats[f"%roc-period_{P}"], (c / c.shift(P) - 1).to_numpy() * 100, P)
    _check(feats["%return-period_1"], c.pct_change().to_numpy(), 1, rtol=1e-12)


def test_ema_dist(candles, feats):
    c = candles["close"].to_numpy()
    ema = np.full(len(c), np.nan)
    ema[P - 1] = c[:P].mean()
    k = 2 / (P + 1)
    for i in range(P, len(c)):
        ema[i] = ema[i - 1] + k * (c[i] - ema[i - 1])
    _check(feats[f"%ema_dist-period_{P}"], c / ema - 1, P - 1)


def test_bb_width(candles, feats):
    c = candles["close"].to_numpy()
    win = sliding_window_view(c, P)
    expected = np.r_[np.full(P - 1, np.nan), 4 * win.std(axis=1, ddof=0) / win.mean(axis=1)]
    _check(feats[f"%bb_width-period_{P}"], expected, P - 1, rtol=1e-6)


def test_volatility(candles, feats):
    lr = np.diff(np.log(candles["close"].to_numpy()))
    expected = np.r_[np.full(P, np.nan), sliding_window_view(lr, P).std(axis=1, ddof=1)]
    _check(feats[f"%volatility-period_{P}"], expected, P, rtol=1e-7)


def test_volume_z(candles, feats):
    v = candles["volume"].to_numpy()
    win = sliding_window_view(v, P)
    z = (v[P - 1:] - win.mean(axis=1)) / win.std(axis=1, ddof=1)
    _check(feats[f"%volume_z-period_{P}"], np.r_[np.full(P - 1, np.nan), z], P - 1, rtol=1e-7)


def test_volume_z_constant_volume_is_zero_not_inf():
    dates = pd.date_range("2024-01-01", periods=20, freq="1h", tz="UTC")
    close = np.linspace(100, 120, 20)
    candles = pd.DataFrame({"date": dates, "open": close, "high": close + 1, "low": close - 1,
                            "close": close, "volume": 5.0})
    cfg = FeatureConfig(indicators=["volume_z"], periods=[5], shifted_candles=0, include_time=False,
                        include_returns=False)
    z = build_features(candles, cfg, timeframe="1h").values["%volume_z-period_5"].to_numpy()
    assert np.isnan(z[:4]).all() and (z[4:] == 0.0).all()
