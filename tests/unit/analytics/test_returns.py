"""Daily profit / return series and their ratios, by hand."""

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from atb.analytics import returns as ret


def test_daily_profit_fills_every_day():
    closes = pd.Series(pd.to_datetime(["2024-01-01 05:00", "2024-01-01 23:00", "2024-01-03 01:00"],
                                      utc=True))
    daily = ret.daily_profit(closes, np.array([1.0, 2.0, -4.0]), datetime(2024, 1, 1, tzinfo=UTC),
                             datetime(2024, 1, 4, 12, tzinfo=UTC))
    assert daily.tolist() == [3.0, 0.0, -4.0, 0.0]
    assert daily.index[0] == pd.Timestamp("2024-01-01", tz="UTC")
    empty = ret.daily_profit(pd.Series([], dtype="datetime64[ns, UTC]"), np.array([]),
                             datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    assert empty.tolist() == [0.0, 0.0]


def test_daily_returns_compound_on_previous_balance():
    daily = pd.Series([10.0, 0.0, -11.0])
    assert ret.daily_returns(daily, 100).tolist() == pytest.approx([0.1, 0.0, -0.1])


def test_ratios_by_hand():
    r = np.array([0.01, -0.02, 0.03, 0.0])
    assert ret.sharpe_ratio(r, 365) == pytest.approx(r.mean() / r.std() * math.sqrt(365))
    assert ret.sortino_ratio(r, 252, downside="semideviation") == pytest.approx(
        r.mean() / math.sqrt(0.02 ** 2 / 4) * math.sqrt(252))
    assert ret.sortino_ratio(r) == -100.0  # one losing day: std 0
    assert ret.annual_return(np.array([0.1, 0.1]), periods=2) == pytest.approx(0.21)
    assert ret.annual_return(np.array([-1.0])) == 0.0
    assert ret.calmar_ratio(np.array([0.1, -0.1]), 2) == pytest.approx(-0.01 / 0.1)
    assert ret.calmar_ratio(np.array([0.1])) == -100.0
    assert ret.sharpe_ratio(np.array([])) == 0.0 and ret.sortino_ratio(np.array([])) == 0.0
