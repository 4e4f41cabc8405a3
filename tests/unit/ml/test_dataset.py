import numpy as np
import pytest

from atb.errors import ConfigError, DataError
from atb.ml import WalkForwardWindow, check_no_leakage, purged_train_rows, walk_forward_windows


def _spans(ws):
    return [(w.index, w.train_start, w.train_end, w.predict_start, w.predict_end) for w in ws]


def test_rolling_windows():
    ws = walk_forward_windows(20, train_size=8, retrain_every=5)
    assert _spans(ws) == [(0, 0, 8, 8, 13), (1, 5, 13, 13, 18), (2, 10, 18, 18, 20)]


def test_rolling_with_min_train_and_start():
    ws = walk_forward_windows(20, train_size=8, retrain_every=4, min_train=4, start=2)
    assert _spans(ws) == [(0, 2, 6, 6, 10), (1, 2, 10, 10, 14), (2, 6, 14, 14, 18), (3, 10, 18, 18, 20)]


def test_expanding_windows():
    ws = walk_forward_windows(12, train_size=5, retrain_every=3, mode="expanding")
    assert _spans(ws) == [(0, 0, 5, 5, 8), (1, 0, 8, 8, 11), (2, 0, 11, 11, 12)]


@pytest.mark.parametrize("kwargs, match", [
    ({"train_size": 0, "retrain_every": 1}, "train_size"),
    ({"train_size": 5, "retrain_every": 0}, "retrain_every"),
    ({"train_size": 10, "retrain_every": 1}, "no prediction row"),
    ({"train_size": 5, "retrain_every": 1, "mode": "anchored"}, "mode"),
])
def test_window_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        walk_forward_windows(10, **kwargs)


def test_window_invariants():
    with pytest.raises(ConfigError, match="window 3"):
        WalkForwardWindow(index=3, train_start=0, train_end=6, predict_start=5, predict_end=7)


W = WalkForwardWindow(index=0, train_start=0, train_end=6, predict_start=6, predict_end=8)


def test_purge_off_by_one_hand_made():
    # label of row i known at row i + 2; predictions start at row 6.
    known_at = np.arange(8, dtype=np.int64) + 2          # [2, 3, 4, 5, 6, 7, 8, 9]
    rows = purged_train_rows(W, known_at)
    # known_at < 6: rows 0..3 (row 3's label is known at the close of row 5 = predict_start - 1)
    assert rows.tolist() == [0, 1, 2, 3]
    # a label known exactly at the first prediction row is excluded
    assert 4 not in rows
    assert purged_train_rows(W, known_at, embargo=1).tolist() == [0, 1, 2]
    assert purged_train_rows(W, known_at, embargo=4).tolist() == []


def test_purge_drops_unknown_labels_and_nan_features():
    known_at = np.array([1, -1, 3, 4, 5, 5, 9, 9], dtype=np.int64)
    X = np.ones((8, 2))
    X[2, 1] = np.nan
    y = np.array([1.0, 0.0, 1.0, np.nan, 0.0, 1.0, 0.0, 0.0])
    assert purged_train_rows(W, known_at).tolist() == [0, 2, 3, 4, 5]
    assert purged_train_rows(W, known_at, features=X, labels=y).tolist() == [0, 4, 5]


def test_known_at_must_be_integer():
    with pytest.raises(DataError, match="integer"):
        purged_train_rows(W, np.arange(8, dtype=np.float64))


def test_check_no_leakage():
    known_at = np.arange(8, dtype=np.int64) + 2
    check_no_leakage(W, [0, 1, 2, 3], known_at)
    with pytest.raises(DataError, match="row 4 whose label is known at row 6"):
        check_no_leakage(W, [0, 4], known_at)
    with pytest.raises(DataError, match="row 3 whose label is known at row 5"):
        check_no_leakage(W, [3], known_at, embargo=1)
    with pytest.raises(DataError, match="outside"):
        check_no_leakage(W, [6], np.zeros(8, dtype=np.int64))
