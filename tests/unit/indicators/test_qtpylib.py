"""qtpylib helpers against values computed independently (plain loops / numpy / TA-Lib)."""

import math

import numpy as np
import pandas as pd
import pytest
import talib

from atb.indicators import qtpylib


@pytest.fixture(scope="module")
def bars(shared_dir):
    return pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather").iloc[:400].reset_index(
        drop=True)


def ewm_loop(x, alpha, min_periods):
    """Adjusted exponential mean, one row at a time: sum (1-a)^i x[t-i] / sum (1-a)^i."""
    out = []
    for t in range(len(x)):
        w = [(1 - alpha) ** i for i in range(t + 1)]
        v = sum(wi * x[t - i] for i, wi in enumerate(w)) / sum(w)
        out.append(v if t + 1 >= min_periods else np.nan)
    return np.array(out)


def window_mean(x, i, n):
    return np.nan if i + 1 < n else float(np.mean(x[i - n + 1: i + 1]))


def test_crossed_above_below_against_loop():
    a = pd.Series([1, 2, 3, 2, 1, 2, 3.0])
    b = pd.Series([2, 2, 2, 2, 2, 2, 2.0])
    above = [i > 0 and a[i] > b[i] and a[i - 1] <= b[i - 1] for i in range(len(a))]
    below = [i > 0 and a[i] < b[i] and a[i - 1] >= b[i - 1] for i in range(len(a))]
    assert qtpylib.crossed_above(a, b).tolist() == above
    assert qtpylib.crossed_below(a, b).tolist() == below
    assert qtpylib.crossed_above(a, 2).tolist() == above  # a number as the second series
    assert qtpylib.crossed_above(a, 2.0).tolist() == above
    assert qtpylib.crossed_above(a.to_numpy(), b).tolist() == above  # an array as the first
    assert qtpylib.crossed(a, b).tolist() == [x or y for x, y in zip(above, below, strict=True)]


def test_crossed_keeps_a_non_default_index():
    idx = pd.RangeIndex(100, 104)
    a = pd.Series([1.0, 3.0, 1.0, 3.0], index=idx)
    assert qtpylib.crossed_above(a, 2).tolist() == [False, True, False, True]
    assert list(qtpylib.crossed_above(a, 2).index) == list(idx)


def test_typical_mid_price_and_ibs(bars):
    h, lo, c = bars.high.to_numpy(), bars.low.to_numpy(), bars.close.to_numpy()
    np.testing.assert_allclose(qtpylib.typical_price(bars), (h + lo + c) / 3)
    np.testing.assert_allclose(qtpylib.mid_price(bars), (h + lo) / 2)
    assert qtpylib.ibs(bars)[7] == round((c[7] - lo[7]) / (h[7] - lo[7]), 2)


def test_bollinger_bands_use_sample_std_from_the_first_rows(bars):
    tp = qtpylib.typical_price(bars)
    bb = qtpylib.bollinger_bands(tp, window=20, stds=2)
    assert list(bb.columns) == ["upper", "mid", "lower"]
    x = tp.to_numpy()
    assert bb["mid"][0] == x[0] and math.isnan(bb["upper"][0])
    for i in (1, 5, 19, 100, 399):
        w = x[max(0, i - 19): i + 1]
        sd = np.std(w, ddof=1)
        assert bb["mid"][i] == pytest.approx(w.mean(), rel=1e-12)
        assert bb["upper"][i] == pytest.approx(w.mean() + 2 * sd, rel=1e-10)
        assert bb["lower"][i] == pytest.approx(w.mean() - 2 * sd, rel=1e-10)
        # population std would differ visibly: qtpylib's bands are the sample ones
        assert abs(bb["upper"][i] - (w.mean() + 2 * np.std(w))) > 1e-6


def test_rolling_mean_std_default_path_is_exact_window_numpy(bars):
    c = bars.close.to_numpy()
    m = qtpylib.rolling_mean(bars.close, 20)
    s = qtpylib.rolling_std(bars.close, 20)
    assert isinstance(m, pd.Series) and m.index.equals(bars.index)
    assert m.iloc[:19].isna().all() and s.iloc[:19].isna().all()
    for i in (19, 77, 399):
        assert m[i] == np.mean(c[i - 19: i + 1])  # bit-identical to numpy
        assert s[i] == np.std(c[i - 19: i + 1], ddof=1)
    short = bars.close.iloc[:10]
    np.testing.assert_allclose(qtpylib.rolling_mean(short, 20), np.full(10, np.nan))
    assert qtpylib.sma(bars.close, 5, min_periods=1)[0] == c[0]


def test_rolling_min_max(bars):
    h, lo = bars.high.to_numpy(), bars.low.to_numpy()
    assert qtpylib.rolling_max(bars.high, 10)[30] == h[21:31].max()
    assert qtpylib.rolling_min(bars.low, 10)[30] == lo[21:31].min()
    assert math.isnan(qtpylib.rolling_max(bars.high, 10)[8])


def test_weighted_mean_is_span_ewm_with_window_warmup(bars):
    x = bars.close.to_numpy()[:60]
    ref = ewm_loop(x, 2 / (10 + 1), 10)
    np.testing.assert_allclose(qtpylib.rolling_weighted_mean(pd.Series(x), 10), ref, rtol=1e-12)
    np.testing.assert_allclose(qtpylib.wma(pd.Series(x), 10), ref, rtol=1e-12)
    np.testing.assert_allclose(qtpylib.ema(pd.Series(x), 10), ref, rtol=1e-12)


def test_hull_moving_average(bars):
    x = bars.close.to_numpy()[:80]
    n = 16
    inner = 2 * ewm_loop(x, 2 / (n / 2 + 1), n) - ewm_loop(x, 2 / (n + 1), n)
    # the outer mean starts where inner values exist; NaN rows carry no weight in pandas' ewm
    ref = np.full(len(x), np.nan)
    valid = inner[n - 1:]
    ref[n - 1:] = ewm_loop(valid, 2 / (math.sqrt(n) + 1), 1)
    ref[: 2 * n - 2] = np.nan  # min_periods = n valid rows of the inner series
    np.testing.assert_allclose(qtpylib.hma(pd.Series(x), n), ref, rtol=1e-10)


def test_true_range_atr_keltner(bars):
    tr = qtpylib.true_range(bars)
    h, lo, c = bars.high.to_numpy(), bars.low.to_numpy(), bars.close.to_numpy()
    assert tr[0] == h[0] - lo[0]
    for i in range(1, 50):
        assert tr[i] == max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
    atr = qtpylib.atr(bars, window=14)
    assert atr[20] == pytest.approx(tr[7:21].mean(), rel=1e-12)
    assert math.isnan(atr[12])
    atr_exp = qtpylib.atr(bars, window=14, exp=True)
    np.testing.assert_allclose(atr_exp[:40], ewm_loop(tr.to_numpy()[:40], 2 / 15, 14), rtol=1e-12)
    kc = qtpylib.keltner_channel(bars, window=14, atrs=2)
    tp = (h + lo + c) / 3
    assert kc["mid"][30] == pytest.approx(tp[17:31].mean(), rel=1e-12)
    assert kc["upper"][30] == pytest.approx(tp[17:31].mean() + 2 * tr[17:31].mean(), rel=1e-12)
    assert kc["lower"][30] == pytest.approx(tp[17:31].mean() - 2 * tr[17:31].mean(), rel=1e-12)


def test_weighted_bollinger_bands(bars):
    x = bars.close.to_numpy()[:60]
    wb = qtpylib.weighted_bollinger_bands(pd.Series(x), window=20, stds=2)
    mid = ewm_loop(x, 2 / 21, 20)
    i = 45
    sd = np.std(x[i - 19: i + 1], ddof=1)
    assert wb["mid"][i] == pytest.approx(mid[i], rel=1e-12)
    assert wb["upper"][i] == pytest.approx(mid[i] + 2 * sd, rel=1e-10)
    assert wb["lower"][i] == pytest.approx(mid[i] - 2 * sd, rel=1e-10)


def test_rsi_follows_qtpylib_seed_then_converges_to_talib(bars):
    c = bars.close.to_numpy()
    n = 14
    d = np.diff(c)
    seed = d[: n + 1]
    up, down = seed[seed > 0].sum() / n, -seed[seed < 0].sum() / n
    ref = [100 - 100 / (1 + up / down)] * n
    for i in range(n, len(c)):
        g, lo = max(d[i - 1], 0.0), max(-d[i - 1], 0.0)
        up, down = (up * (n - 1) + g) / n, (down * (n - 1) + lo) / n
        ref.append(100 - 100 / (1 + up / down))
    ours = qtpylib.rsi(bars.close, n)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    # the seed is forgotten after a few hundred rows: TA-Lib's RSI agrees there
    assert ours.iloc[-1] == pytest.approx(talib.RSI(c, n)[-1], abs=1e-3)


def test_rsi_flat_prices_do_not_warn():
    out = qtpylib.rsi(pd.Series(np.full(30, 5.0)), 14)
    assert out.isna().all()  # 0 / 0: no gains, no losses


def test_macd(bars):
    x = bars.close.to_numpy()[:80]
    m = qtpylib.macd(pd.Series(x), fast=3, slow=10, smooth=16)
    line = ewm_loop(x, 2 / 4, 3) - ewm_loop(x, 2 / 11, 10)
    np.testing.assert_allclose(m["macd"], line, rtol=1e-10)
    valid = line[9:]
    sig = np.full(len(x), np.nan)
    sig[9:] = ewm_loop(valid, 2 / 17, 16)
    np.testing.assert_allclose(m["signal"], sig, rtol=1e-10)
    np.testing.assert_allclose(m["histogram"], line - sig, rtol=1e-9)


def test_heikinashi_definition(bars):
    ha = qtpylib.heikinashi(bars)
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    ha_close = (o + h + lo + c) / 4
    ha_open = [(o[0] + c[0]) / 2]
    for i in range(1, len(bars)):
        ha_open.append((ha_open[-1] + ha_close[i - 1]) / 2)
    assert list(ha.columns) == ["open", "high", "low", "close"]
    np.testing.assert_allclose(ha["close"], ha_close)
    np.testing.assert_allclose(ha["open"], ha_open)
    np.testing.assert_allclose(ha["high"], np.max([h, ha_open, ha_close], axis=0))
    np.testing.assert_allclose(ha["low"], np.min([lo, ha_open, ha_close], axis=0))


def test_awesome_oscillator(bars):
    mid = ((bars.high + bars.low) / 2).to_numpy()
    ao = qtpylib.awesome_oscillator(bars)
    assert math.isnan(ao[32])
    assert ao[40] == pytest.approx(window_mean(mid, 40, 5) - window_mean(mid, 40, 34), rel=1e-12)
    aw = qtpylib.awesome_oscillator(bars, weighted=True)
    ref = ewm_loop(mid[:50], 1 / 6, 1) - ewm_loop(mid[:50], 1 / 35, 1)  # com = fast / slow
    np.testing.assert_allclose(aw[:50], ref, rtol=1e-9)


def test_vwap_refuses_lookahead_and_rolling_vwap(bars):
    with pytest.raises(ValueError, match="lookahead"):
        qtpylib.vwap(bars)
    rv = qtpylib.rolling_vwap(bars, window=10)
    tp = (bars.high + bars.low + bars.close) / 3
    i = 50
    w = slice(i - 9, i + 1)
    assert rv[i] == pytest.approx((tp[w] * bars.volume[w]).sum() / bars.volume[w].sum())
    quiet = bars.iloc[:30].copy()
    quiet.loc[20:29, "volume"] = 0.0
    rq = qtpylib.rolling_vwap(quiet, window=3)
    assert rq[29] == rq[21]  # zero volume: the last value carries on


def test_roc_zscore_pvt_returns(bars):
    c = bars.close
    assert qtpylib.roc(c, 5)[10] == pytest.approx(c[10] / c[5] - 1)
    z = qtpylib.zscore(bars, window=20)
    w = c[11:31]
    assert z[30] == pytest.approx((c[30] - w.mean()) / w.std(ddof=1))
    pvt = qtpylib.pvt(bars)
    assert pvt[3] == pytest.approx(sum((c[i] / c[i - 1] - 1) * bars.volume[i] for i in (1, 2, 3)))
    assert qtpylib.returns(c)[4] == pytest.approx(c[4] / c[3] - 1)
    assert qtpylib.log_returns(c)[4] == pytest.approx(math.log(c[4] / c[3]))
    iv = qtpylib.implied_volatility(c, window=24)
    lr = np.log(c.to_numpy()[1:] / c.to_numpy()[:-1])
    assert iv[30] == pytest.approx(np.std(lr[6:30], ddof=1) * math.sqrt(24))
    assert math.isnan(iv[23])


def test_stoch(bars):
    h, lo, c = bars.high.to_numpy(), bars.low.to_numpy(), bars.close.to_numpy()

    def fast_k(i):
        return 100 * (c[i] - lo[i - 13: i + 1].min()) / (h[i - 13: i + 1].max() - lo[i - 13: i + 1].min())

    f = qtpylib.stoch(bars, window=14, d=3, k=3, fast=True)
    assert list(f.columns) == ["fast_k", "fast_d"]
    assert f["fast_k"][40] == pytest.approx(fast_k(40))
    assert f["fast_d"][40] == pytest.approx(np.mean([fast_k(i) for i in (38, 39, 40)]))
    s = qtpylib.stoch(bars)
    slow_k = [np.mean([fast_k(j) for j in (i - 2, i - 1, i)]) for i in (38, 39, 40)]
    assert s["slow_k"][40] == pytest.approx(slow_k[-1])
    assert s["slow_d"][40] == pytest.approx(np.mean(slow_k))


def test_chopiness_cci_tdi_zlma(bars):
    h, lo, c = bars.high.to_numpy(), bars.low.to_numpy(), bars.close.to_numpy()
    tr = qtpylib.true_range(bars).to_numpy()
    ch = qtpylib.chopiness(bars, 14)
    ref = 100 * math.log10(tr[27:41].sum() / (h[27:41].max() - lo[27:41].min())) / math.log10(14)
    assert ch[40] == pytest.approx(ref)
    tp = (h + lo + c) / 3
    means = np.array([window_mean(tp, i, 14) for i in range(len(tp))])
    assert qtpylib.cci(bars, 14)[40] == pytest.approx(
        (tp[40] - means[40]) / (0.015 * np.nanstd(means)), rel=1e-9)
    t = qtpylib.tdi(bars.close)
    assert list(t.columns) == ["rsi", "rsi_signal", "rsi_smooth", "rsi_bb_upper", "rsi_bb_lower",
                               "rsi_bb_mid"]
    r = qtpylib.rsi(bars.close, 13).to_numpy()
    assert t["rsi_signal"][50] == pytest.approx(r[44:51].mean())
    z = qtpylib.zlema(bars.close, 21)  # lag 10: ewm(span=10) of 2*c - c.shift(10)
    x = (2 * bars.close - bars.close.shift(10)).to_numpy()[10:80]
    assert z[79] == pytest.approx(ewm_loop(x, 2 / 11, 1)[-1], rel=1e-12)
    assert z.iloc[:30].isna().all() and not math.isnan(z[30])  # min_periods: 21 valid rows


def test_session_keeps_the_current_session():
    idx = pd.date_range("2024-01-01 00:00", periods=48, freq="1h", tz="UTC")
    df = pd.DataFrame({"close": np.arange(48.0)}, index=idx)
    out = qtpylib.session(df, start="17:00", end="16:00")  # last row 01-02 23:00
    assert out.index[0] == pd.Timestamp("2024-01-02 17:00", tz="UTC")
    assert out.index[-1] == idx[-1] and len(out) == 7
    out2 = qtpylib.session(df.iloc[:30], start="09:00", end="17:00")  # last row 01-02 05:00
    assert out2.index[0] == pd.Timestamp("2024-01-01 09:00", tz="UTC")
    assert qtpylib.session(df.iloc[:0]).empty
