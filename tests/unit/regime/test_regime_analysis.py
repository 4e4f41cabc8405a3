"""performance_by_regime and time_in_regime against hand-computed numbers."""

import numpy as np
import pandas as pd
import pytest

from atb.errors import DataError
from atb.regime import Regime, performance_by_regime, time_in_regime

LABELS = pd.Series(["bull", None, Regime.BEAR, "range"],
                   index=pd.date_range("2024-01-01", periods=4, freq="1D", tz="UTC"), dtype=object)


def _trades():
    return pd.DataFrame({
        "open_date": pd.to_datetime([
            "2023-12-31 00:00",   # before the first label -> unknown
            "2024-01-01 00:00",   # exact match -> bull
            "2024-01-01 05:00",   # bull
            "2024-01-02 12:00",   # label None -> unknown
            "2024-01-03 00:00",   # bear
            "2024-01-05 12:00",   # after the last label -> range
            "2024-01-03 06:00",   # bear (trades need not be sorted)
        ], utc=True),
        "profit_abs": [1.0, 2.0, -1.0, 0.0, 3.0, -0.5, -1.5],
        "profit_ratio": [0.01, 0.02, -0.01, 0.0, 0.03, -0.005, -0.015],
    })


def test_performance_by_regime_hand_values():
    out = performance_by_regime(_trades(), LABELS)
    assert out.index.tolist() == ["bull", "bear", "range", "unknown"] and out.index.name == "regime"
    assert list(out.columns) == ["trades", "wins", "losses", "win_rate", "profit_abs",
                                 "profit_mean_ratio", "profit_total_share"]
    assert out["trades"].tolist() == [2, 2, 1, 2] and out["trades"].dtype == np.int64
    assert out["wins"].tolist() == [1, 1, 0, 1] and out["losses"].tolist() == [1, 1, 1, 0]
    np.testing.assert_allclose(out["win_rate"], [0.5, 0.5, 0.0, 0.5])
    np.testing.assert_allclose(out["profit_abs"], [1.0, 1.5, -0.5, 1.0])
    np.testing.assert_allclose(out["profit_mean_ratio"], [0.005, 0.0075, -0.005, 0.005])
    np.testing.assert_allclose(out["profit_total_share"], [1 / 3, 0.5, -1 / 6, 1 / 3])
    assert out["profit_total_share"].sum() == pytest.approx(1.0)


def test_regimes_without_trades_naive_times_and_unsorted_labels():
    labels = pd.Series(["low", "high", "normal"],
                       index=pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02"]))   # naive = UTC
    trades = _trades().iloc[[1, 2, 6]].assign(open_date=lambda d: d["open_date"].dt.tz_localize(None))
    out = performance_by_regime(trades, labels)
    assert out.index.tolist() == ["low", "normal", "high"]
    assert out["trades"].tolist() == [1, 0, 2]
    assert out.loc["normal", "profit_abs"] == 0.0 and np.isnan(out.loc["normal", "win_rate"])
    assert np.isnan(out.loc["normal", "profit_mean_ratio"])
    # low: -1.5 (01-03 06:00); high: 2 - 1 = 1 (01-01); total -0.5, so shares keep their signs
    np.testing.assert_allclose(out["profit_abs"], [-1.5, 0.0, 1.0])
    np.testing.assert_allclose(out["profit_total_share"], [3.0, 0.0, -2.0])
    empty = performance_by_regime(trades.iloc[:0], labels)
    assert empty["trades"].tolist() == [0, 0, 0] and empty["profit_total_share"].isna().all()


def test_bad_inputs():
    with pytest.raises(DataError, match="profit_ratio"):
        performance_by_regime(_trades().drop(columns="profit_ratio"), LABELS)
    with pytest.raises(DataError, match="DatetimeIndex"):
        performance_by_regime(_trades(), LABELS.reset_index(drop=True))


def test_time_in_regime():
    labels = pd.Series(["bull", "bull", None, Regime.BEAR, "range", "bull"], dtype=object)
    frac = time_in_regime(labels)
    assert frac.index.tolist() == ["bull", "bear", "range"] and frac.name == "fraction"
    np.testing.assert_allclose(frac, [0.6, 0.2, 0.2])
    frac = time_in_regime(labels, dropna=False)
    assert frac.index.tolist() == ["bull", "bear", "range", "unknown"]
    np.testing.assert_allclose(frac, [0.5, 1 / 6, 1 / 6, 1 / 6])
    assert time_in_regime(pd.Series([None, None], dtype=object)).empty
