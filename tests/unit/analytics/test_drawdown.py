"""Account drawdown of the closed-trade curve (freqtrade's definition), hand-computed."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from atb.analytics.drawdown import (
    drawdown_series,
    max_drawdown,
    max_drawdown_of_returns,
    relative_drawdown_of_balance,
    underwater,
)
from atb.errors import DataError


def _trades(profits, start="2024-01-01"):
    dates = pd.date_range(start, periods=len(profits), freq="D", tz="UTC")
    return pd.DataFrame({"close_date": dates, "profit_abs": np.asarray(profits, float)})


def test_max_drawdown_by_hand():
    # balance 1000 -> 1100 -> 1050 -> 1150 -> 980 -> 1000
    t = _trades([100, -50, 100, -170, 20])
    dd = max_drawdown(t, 1000)
    assert dd.drawdown_abs == pytest.approx(170)
    assert dd.relative_account_drawdown == pytest.approx(170 / 1150)
    assert dd.high_value == pytest.approx(150) and dd.low_value == pytest.approx(-20)
    assert dd.high_date == pd.Timestamp("2024-01-03", tz="UTC")
    assert dd.low_date == pd.Timestamp("2024-01-04", tz="UTC")
    assert dd.duration == timedelta(days=1)
    assert dd.current_drawdown_abs == pytest.approx(150)
    assert dd.current_relative_account_drawdown == pytest.approx(150 / 1150)
    assert dd.current_high_value == pytest.approx(150)


def test_relative_can_pick_another_trough():
    # abs max: 1000 -> 10000 -> 8000 (2000, 20 %); relative max: 1000 -> 500 (50 %)
    t = _trades([-500, 9500, -2000])
    assert max_drawdown(t, 1000).drawdown_abs == pytest.approx(2000)
    rel = max_drawdown(t, 1000, relative=True)
    assert rel.relative_account_drawdown == pytest.approx(0.5)
    assert rel.drawdown_abs == pytest.approx(500)


def test_peak_includes_starting_balance_and_no_loss_is_zero():
    t = _trades([-30, -20])
    dd = max_drawdown(t, 100)
    assert dd.drawdown_abs == pytest.approx(50) and dd.relative_account_drawdown == pytest.approx(0.5)
    assert dd.high_value == 0.0 and dd.high_date == t["close_date"].iloc[0]
    win = max_drawdown(_trades([5, 6]), 100)
    assert (win.drawdown_abs, win.relative_account_drawdown, win.low_value) == (0.0, 0.0, 0.0)


def test_sorting_is_by_close_date_and_stable():
    t = _trades([100, -170, -50]).iloc[[2, 0, 1]]
    assert max_drawdown(t, 1000).drawdown_abs == pytest.approx(220)


def test_errors():
    with pytest.raises(DataError, match="no trades"):
        max_drawdown(_trades([]), 100)
    with pytest.raises(DataError, match="profit_abs"):
        underwater(pd.DataFrame({"close_date": []}), 100)


def test_series_and_underwater():
    s = drawdown_series(np.array([10.0, -20.0, 5.0]), 100)
    assert s["cumulative"].tolist() == [0.0, 10.0, -10.0, -5.0]
    assert s["high_value"].tolist() == [0.0, 10.0, 10.0, 10.0]
    assert s["drawdown_relative"].tolist() == pytest.approx([0, 0, 20 / 110, 15 / 110])
    uw = underwater(_trades([10.0, -20.0, 5.0]), 100)
    assert uw["balance"].tolist() == [110.0, 90.0, 95.0]
    assert uw["drawdown"].tolist() == [0.0, -20.0, -15.0]
    no_balance = drawdown_series(np.array([10.0, -5.0]), 0.0)
    assert no_balance["drawdown_relative"].tolist() == [0.0, 0.0, 0.5]


def test_return_series_drawdown():
    assert relative_drawdown_of_balance(np.array([1.0, 2.0, 1.0, 3.0])).tolist() == [0, 0, 0.5, 0]
    # value 1 -> 0.9 -> 0.99 -> 0.495: peak is the start
    assert max_drawdown_of_returns(np.array([-0.1, 0.1, -0.5])) == pytest.approx(0.505)
    assert max_drawdown_of_returns(np.array([])) == 0.0
