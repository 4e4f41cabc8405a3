"""Labels on hand-made candles with hand-computed values, plus a plain-Python reference on real data."""

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, DataError
from atb.features.labels import LabelSet, forward_return, return_classes, triple_barrier

NAN = np.nan

# 10 hand-made candles (decision at each close); barriers tp 5 %, sl 3 %, horizon 2
CLOSE = np.array([100, 102, 104, 101, 100, 97, 103, 102, 103.5, 104], dtype=float)
HIGH = np.array([100, 103, 106, 102, 101, 98, 108, 103, 104, 105], dtype=float)
LOW = np.array([100, 101, 103, 96, 99, 96, 94, 101, 102, 103], dtype=float)


def test_forward_return_hand_values():
    ls = forward_return(pd.Series([100.0, 110.0, 99.0, 99.0, 121.0]), 2)
    np.testing.assert_allclose(ls.values, [99 / 100 - 1, 99 / 110 - 1, 121 / 99 - 1, NAN, NAN], rtol=1e-15)
    assert ls.known_at.dtype == np.int64
    assert ls.known_at.tolist() == [2, 3, 4, -1, -1]
    assert ls.kind == "forward_return" and ls.params == {"horizon": 2}
    assert forward_return([1.0, 2.0], 5).known_at.tolist() == [-1, -1]


def test_return_classes_hand_values():
    fr = forward_return([100.0, 110.0, 99.0, 99.0, 121.0], 2)  # -1 %, -10 %, +22.2 %, ?, ?
    ls = return_classes(fr, up=0.05, down=0.05)
    np.testing.assert_array_equal(ls.values, [0.0, -1.0, 1.0, NAN, NAN])
    assert ls.known_at.tolist() == [2, 3, 4, -1, -1]
    arr = return_classes(np.array([0.02, -0.02, 0.0, NAN]), 0.01, 0.03, known_at=np.array([1, 2, 3, 4]))
    np.testing.assert_array_equal(arr.values, [1.0, 0.0, 0.0, NAN])
    assert arr.known_at.tolist() == [1, 2, 3, -1]
    with pytest.raises(ConfigError, match="known_at"):
        return_classes(np.array([0.1]), 0.01, 0.01)
    with pytest.raises(ConfigError, match="down"):
        return_classes(fr, 0.01, -0.01)


def test_triple_barrier_hand_values():
    ls = triple_barrier(CLOSE, HIGH, LOW, horizon=2, take_profit=0.05, stop_loss=0.03)
    # t0: up 105 hit by high 106 at 2          t1: down 98.94 hit by low 96 at 3
    # t2: down 100.88 hit at 3                 t3: down 97.97 hit by low 96 at 5
    # t4: down 97 hit by low 96 at 5           t5: up 101.85 AND down 94.09 both hit at 6 -> stop
    # t6, t7: no touch -> vertical barrier (zero)  t8, t9: window runs past the data -> unknown
    np.testing.assert_array_equal(ls.values, [1, -1, -1, -1, -1, -1, 0, 0, NAN, NAN])
    assert ls.known_at.tolist() == [2, 3, 3, 5, 5, 6, 8, 9, -1, -1]
    expected_ret = [0.05, -0.03, -0.03, -0.03, -0.03, -0.03, 103.5 / 103 - 1, 104 / 102 - 1, NAN, NAN]
    np.testing.assert_allclose(ls.realised, expected_ret, rtol=1e-15)
    assert ls.kind == "triple_barrier" and ls.params["vertical"] == "zero"


def test_triple_barrier_vertical_sign():
    ls = triple_barrier(CLOSE, HIGH, LOW, horizon=2, take_profit=0.05, stop_loss=0.03, vertical="sign")
    np.testing.assert_array_equal(ls.values[6:], [1, 1, NAN, NAN])
    down = triple_barrier([100.0, 99.0, 98.0], [100.0, 100.0, 99.0], [100.0, 99.0, 98.0], horizon=2,
                          take_profit=0.1, stop_loss=0.1, vertical="sign")
    assert down.values[0] == -1.0 and down.known_at[0] == 2


def test_touch_is_known_before_the_window_ends():
    ls = triple_barrier([100.0, 100.0], [100.0, 106.0], [100.0, 100.0], horizon=5, take_profit=0.05,
                        stop_loss=0.05)
    assert ls.values[0] == 1.0 and ls.known_at[0] == 1


def test_volatility_scales_barriers():
    vol = np.full(len(CLOSE), 0.5)
    vol[1] = NAN
    ls = triple_barrier(CLOSE, HIGH, LOW, horizon=2, take_profit=0.05, stop_loss=0.03, volatility=vol)
    # t0: up 102.5 hit by high 103 at 1; t1: NaN volatility -> unknown
    assert ls.values[0] == 1.0 and ls.known_at[0] == 1 and ls.realised[0] == pytest.approx(0.025)
    assert np.isnan(ls.values[1]) and ls.known_at[1] == -1


def _reference(close, high, low, vol, horizon, tp, sl):
    n = len(close)
    out = np.full(n, NAN)
    at = np.full(n, -1)
    for t in range(n):
        upper, lower = close[t] * (1 + tp * vol[t]), close[t] * (1 - sl * vol[t])
        for j in range(t + 1, min(t + horizon, n - 1) + 1):
            if low[j] <= lower or high[j] >= upper:
                out[t], at[t] = (-1.0 if low[j] <= lower else 1.0), j
                break
        else:
            if t + horizon < n:
                out[t], at[t] = 0.0, t + horizon
    return out, at


def test_triple_barrier_matches_python_reference_and_truncation(btc_1h):
    df = btc_1h.iloc[:3000]
    close, high, low = (df[c].to_numpy() for c in ("close", "high", "low"))
    vol = pd.Series(np.log(close)).diff().rolling(24).std().to_numpy() * np.sqrt(24)
    vol[:24] = 0.02
    ls = triple_barrier(close, high, low, horizon=24, take_profit=1.0, stop_loss=0.5, volatility=vol)
    ref, at = _reference(close, high, low, vol, 24, 1.0, 0.5)
    np.testing.assert_array_equal(ls.values, ref)
    np.testing.assert_array_equal(ls.known_at, at)
    assert {-1.0, 0.0, 1.0} <= set(ls.values[~np.isnan(ls.values)])
    known = ls.known_at >= 0
    assert (ls.known_at[known] > np.flatnonzero(known)).all()
    # a label known at row k is the same when the data ends at row k
    for k in (100, 777, 1500, 2999):
        cut = triple_barrier(close[:k + 1], high[:k + 1], low[:k + 1], horizon=24, take_profit=1.0,
                             stop_loss=0.5, volatility=vol[:k + 1])
        rows = np.flatnonzero(known & (ls.known_at <= k))
        np.testing.assert_array_equal(cut.values[rows], ls.values[rows])
        np.testing.assert_array_equal(cut.known_at[rows], ls.known_at[rows])
        assert np.isnan(cut.values[ls.known_at[:k + 1] > k]).all()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"horizon": 0}, "horizon"), ({"take_profit": 0.0}, "take_profit"), ({"stop_loss": -0.1}, "stop_loss"),
    ({"vertical": "up"}, "vertical"),
])
def test_triple_barrier_bad_parameters(kwargs, field):
    params = {"horizon": 2, "take_profit": 0.05, "stop_loss": 0.03, **kwargs}
    with pytest.raises(ConfigError, match=field):
        triple_barrier(CLOSE, HIGH, LOW, **params)


def test_triple_barrier_length_mismatch():
    with pytest.raises(DataError, match="low: length 9"):
        triple_barrier(CLOSE, HIGH, LOW[:9], horizon=2, take_profit=0.05, stop_loss=0.03)
    with pytest.raises(ConfigError, match="horizon"):
        forward_return(CLOSE, 0)


def test_labelset_invariants():
    with pytest.raises(DataError):
        LabelSet(values=np.array([1.0, NAN]), known_at=np.array([1, 2]), kind="x")
