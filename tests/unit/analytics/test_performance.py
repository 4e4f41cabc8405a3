"""freqtrade's per-trade summary formulas on small hand-computed cases."""

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from atb.analytics import performance as perf

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 1, 11, 12, tzinfo=UTC)  # 10 whole days


def test_backtest_days_whole_days_at_least_one():
    assert perf.backtest_days(START, END) == 10
    assert perf.backtest_days(START, datetime(2024, 1, 1, 5, tzinfo=UTC)) == 1


def test_sharpe_by_hand():
    p = np.array([10.0, -5.0, 20.0, -15.0])
    r = p / 1000
    # mean daily = 0.01 / 10 days; std ddof 0 of [0.01, -0.005, 0.02, -0.015]
    std = math.sqrt(np.mean((r - r.mean()) ** 2))
    assert perf.sharpe(p, START, END, 1000) == pytest.approx(0.001 / std * math.sqrt(365), rel=1e-12)


def test_sortino_uses_losing_trades_only():
    p = np.array([10.0, -5.0, 20.0, -15.0])
    down = np.std([-0.005, -0.015])  # 0.005
    assert down == pytest.approx(0.005)
    assert perf.sortino(p, START, END, 1000) == pytest.approx(0.001 / 0.005 * math.sqrt(365))


def test_ratios_edge_cases():
    empty = np.array([])
    assert perf.sharpe(empty, START, END, 1000) == 0.0
    assert perf.sortino(np.array([1.0]), START, START, 1000) == 0.0  # empty period
    assert perf.sharpe(np.array([5.0, 5.0]), START, END, 1000) == perf.UNDEFINED_RATIO
    assert perf.sortino(np.array([5.0, 6.0]), START, END, 1000) == -100.0  # no loss
    assert perf.sortino(np.array([5.0, -6.0]), START, END, 1000) == -100.0  # one loss: std 0
    assert perf.calmar(np.array([5.0]), START, END, 1000, 0.0) == -100.0
    assert perf.calmar(empty, START, END, 1000, 0.1) == 0.0


def test_calmar_is_percent_daily_return_over_drawdown():
    p = np.array([50.0, -20.0])
    # 3 % over 10 days = 0.3 %/day; / 0.02 drawdown * sqrt(365)
    assert perf.calmar(p, START, END, 1000, 0.02) == pytest.approx(0.3 / 0.02 * math.sqrt(365))


def test_cagr():
    assert perf.cagr(365, 1000, 1210) == pytest.approx(0.21)
    assert perf.cagr(730, 1000, 1210) == pytest.approx(0.1)
    assert perf.cagr(0, 1000, 1210) == 0.0
    assert perf.cagr(10, 1000, -5) == 0.0
    assert perf.cagr(1, 1.0, 1e300) == 0.0  # overflow -> 0


def test_expectancy_profit_factor_sqn():
    p = np.array([10.0, 20.0, -5.0, -15.0, 0.0])
    exp, ratio = perf.expectancy(p)
    # winrate 0.4, avg win 15, lossrate 0.4, avg loss 10
    assert exp == pytest.approx(0.4 * 15 - 0.4 * 10)
    assert ratio == pytest.approx((1 + 15 / 10) * 0.4 - 1)
    assert perf.expectancy(np.array([])) == (0.0, 100.0)
    assert perf.expectancy(np.array([3.0, 1.0])) == (2.0, 100.0)
    assert perf.profit_factor(p) == pytest.approx(30 / 20)
    assert perf.profit_factor(np.array([1.0])) == 0.0
    r = p / 100
    assert perf.sqn(p, 100) == round(math.sqrt(5) * r.mean() / r.std(ddof=1), 4)
    assert perf.sqn(np.array([]), 100) == 0.0
    assert perf.sqn(np.array([4.0]), 100) == -100.0


def test_sqn_p_value_is_t_test():
    # t = sqrt(n) mean / sd: profits 1, 2, 3 -> mean 2, sd 1, t = 2*sqrt(3), dof 2
    # two-sided p for Student t with 2 dof: 1 - t / sqrt(2 + t^2)
    t = 2 * math.sqrt(3)
    assert perf.sqn_p_value(np.array([1.0, 2.0, 3.0])) == pytest.approx(1 - t / math.sqrt(2 + t * t),
                                                                       rel=1e-12)
    assert perf.sqn_p_value(np.array([1.0])) == 1.0
    assert perf.sqn_p_value(np.array([2.0, 2.0])) == 1.0


def test_win_draw_loss_and_duration():
    assert perf.win_draw_loss(np.array([1.0, 0.0, -1.0, 2.0])) == (2, 1, 1)
    assert perf.average_duration(np.array([60, 90])) == "1:15:00"
    assert perf.average_duration(np.array([60 * 24 * 2 + 30])) == "2 days, 0:30:00"
    assert perf.average_duration(np.array([])) == "0:00"


def test_market_change():
    closes = {"A": np.array([10.0, np.nan, 12.0]), "B": np.array([4.0, 3.0]), "C": np.array([])}
    assert perf.market_change(closes) == pytest.approx((0.2 - 0.25) / 2)
    assert perf.market_change({}) == 0.0
