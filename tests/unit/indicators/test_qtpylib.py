"""qtpylib helpers against values computed independently (plain loops / numpy / TA-Lib)."""

import numpy as np
import pandas as pd
import pytest
import talib

from atb.indicators import qtpylib


@pytest.fixture(scope="module")
def bars(shared_dir):
    return pd.read_feather(shared_dir / "data/bittrex/ETH_BTC-5m.feather").iloc[:400].reset_index(
        drop=True)


def test_crossed_above_below_against_loop():
    a = pd.Series([1, 2, 3, 2, 1, 2, 3.0])
    b = pd.Series([2, 2, 2, 2, 2, 2, 2.0])
    above = [i > 0 and a[i] > b[i] and a[i - 1] <= b[i - 1] for i in range(len(a))]
    below = [i > 0 and a[i] < b[i] and a[i - 1] >= b[i - 1] for i in range(len(a))]
    assert qtpylib.crossed_above(a, b).tolist() == above
    assert qtpylib.crossed_below(a, b).tolist() == below
    assert qtpylib.crossed_above(a, 2).tolist() == above  # a number as the second series
    assert qtpylib.crossed(a, b).tolist() == [x or y for x, y in zip(above, below, strict=True)]


def test_typical_price_and_bollinger(bars):
    tp = qtpylib.typical_price(bars)
    np.testing.assert_allclose(tp, (bars.high + bars.low + bars.close) / 3)
    bb = qtpylib.bollinger_bands(tp, window=20, stds=2)
    x = tp.to_numpy()
    for i in (0, 5, 19, 100, 399):
        w = x[max(0, i - 19): i + 1]
        sd = np.std(w, ddof=1) if len(w) > 1 else np.nan
        assert bb["mid"][i] == pytest.approx(w.mean(), rel=1e-12)
        if len(w) > 1:
            assert bb["upper"][i] == pytest.approx(w.mean() + 2 * sd, rel=1e-9)
            assert bb["lower"][i] == pytest.approx(w.mean() - 2 * sd, rel=1e-9)


def test_true_range_atr_and_rolling(bars):
    tr = qtpylib.true_range(bars)
    h, lo, c = bars.high.to_numpy(), bars.low.to_numpy(), bars.close.to_numpy()
    for i in range(1, 50):
        assert tr[i] == max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
    atr = qtpylib.atr(bars, window=14)
    assert atr[20] == pytest.approx(tr[7:21].mean())
    assert qtpylib.rolling_max(bars.high, 10)[30] == h[21:31].max()
    assert qtpylib.rolling_min(bars.low, 10)[30] == lo[21:31].min()


def test_rsi_matches_talib(bars):
    ours = qtpylib.rsi(bars.close, 14).to_numpy()
    ref = talib.RSI(bars.close.to_numpy(), timeperiod=14)
    np.testing.assert_allclose(ours[14:], ref[14:], rtol=1e-9)


def test_heikinashi_definition(bars):
    ha = qtpylib.heikinashi(bars)
    o, h, lo, c = (bars[k].to_numpy() for k in ("open", "high", "low", "close"))
    ha_close = (o + h + lo + c) / 4
    ha_open = [(o[0] + c[0]) / 2]
    for i in range(1, len(bars)):
        ha_open.append((ha_open[-1] + ha_close[i - 1]) / 2)
    np.testing.assert_allclose(ha["close"], ha_close)
    np.testing.assert_allclose(ha["open"], ha_open)
    assert (ha["high"] >= ha[["open", "close"]].max(axis=1)).all()


def test_vwap_refuses_lookahead_and_rolling_vwap(bars):
    with pytest.raises(ValueError, match="lookahead"):
        qtpylib.vwap(bars)
    rv = qtpylib.rolling_vwap(bars, window=10)
    tp = (bars.high + bars.low + bars.close) / 3
    i = 50
    w = slice(i - 9, i + 1)
    assert rv[i] == pytest.approx((tp[w] * bars.volume[w]).sum() / bars.volume[w].sum())


def test_roc_zscore_pvt(bars):
    c = bars.close
    assert qtpylib.roc(c, 5)[10] == pytest.approx(c[10] / c[5] - 1)
    z = qtpylib.zscore(bars, window=20)
    w = c[11:31]
    assert z[30] == pytest.approx((c[30] - w.mean()) / w.std(ddof=1))
    pvt = qtpylib.pvt(bars)
    assert pvt[3] == pytest.approx(sum((c[i] / c[i - 1] - 1) * bars.volume[i] for i in (1, 2, 3)))
