"""Metric formulas against hand values and an independent library (empyrical-reloaded)."""

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from atb.analytics import performance as perf
from atb.analytics.drawdown import max_drawdown

empyrical = pytest.importorskip("empyrical")


def test_sharpe_equals_empyrical_on_daily_trades():
    rng = np.random.default_rng(1)
    balance = 10_000.0
    profits = rng.normal(5, 40, 200)  # one trade closed per day
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 7, 19, tzinfo=UTC)  # 200 days
    r = profits / balance
    # empyrical uses ddof=1; freqtrade's definition uses ddof=0 -> scale for comparison
    ours = perf.sharpe(profits, start, end, balance)
    ref = empyrical.sharpe_ratio(pd.Series(r), annualization=365) * math.sqrt(200 / 199)
    assert ours == pytest.approx(ref, rel=1e-9)


def test_sortino_downside_definition_by_hand():
    profits = np.array([10.0, -5.0, 20.0, -15.0])
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC)
    r = profits / 1000
    expected = (r.sum() / 4) / np.std(r[r < 0]) * math.sqrt(365)
    assert perf.sortino(profits, start, end, 1000) == pytest.approx(expected)


def test_max_drawdown_matches_empyrical_on_balance_curve():
    rng = np.random.default_rng(7)
    profits = rng.normal(0, 30, 300)
    dates = pd.date_range("2024-01-01", periods=300, freq="D", tz="UTC")
    trades = pd.DataFrame({"close_date": dates, "profit_abs": profits})
    balance = 5_000 + np.cumsum(profits)
    returns = pd.Series(np.diff(np.concatenate([[5_000.0], balance])) /
                        np.concatenate([[5_000.0], balance[:-1]]))
    ref = -empyrical.max_drawdown(returns)
    dd = max_drawdown(trades, 5_000)
    # same when the running peak is above the starting balance (freqtrade floors it at the start)
    assert dd.relative_account_drawdown == pytest.approx(ref, rel=1e-9)
    assert dd.drawdown_abs == pytest.approx(np.max(np.maximum.accumulate(
        np.maximum(np.concatenate([[0.0], np.cumsum(profits)]), 0)) - np.concatenate(
        [[0.0], np.cumsum(profits)])))


def test_cagr_and_calmar_by_hand():
    assert perf.cagr(365, 1000, 1210) == pytest.approx(0.21)
    assert perf.cagr(730, 1000, 1210) == pytest.approx(0.1)
    assert perf.cagr(0, 1000, 1210) == 0.0
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 11, tzinfo=UTC)
    assert perf.calmar(np.array([50.0, -20.0]), start, end, 1000, 0.02) == pytest.approx(
        (0.03 / 10 * 100) / 0.02 * math.sqrt(365))


def test_expectancy_profit_factor_sqn():
    p = np.array([10.0, 20.0, -5.0, -15.0, 0.0])
    exp, ratio = perf.expectancy(p)
    assert exp == pytest.approx(0.4 * 15 - 0.4 * 10)
    assert ratio == pytest.approx((1 + 15 / 10) * 0.4 - 1)
    assert perf.profit_factor(p) == pytest.approx(30 / 20)
    r = p / 100
    assert perf.sqn(p, 100) == round(math.sqrt(5) * r.mean() / r.std(ddof=1), 4)
    assert perf.profit_factor(np.array([1.0])) == 0.0
