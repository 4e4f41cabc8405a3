"""Ratios of a daily return series agree with empyrical-reloaded and quantstats.

Where the definitions coincide (same annualisation factor, ddof 1 for the standard deviation,
target semideviation for Sortino, peak including the start for drawdown) the numbers must be equal.
freqtrade's per-trade Sharpe equals empyrical's on a one-trade-per-day series after the ddof
correction.
"""

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from atb.analytics import performance as perf
from atb.analytics import returns as ret
from atb.analytics.drawdown import max_drawdown

empyrical = pytest.importorskip("empyrical")
qs_stats = pytest.importorskip("quantstats.stats")


@pytest.fixture(scope="module", params=[365, 252])
def series(request):
    rng = np.random.default_rng(42)
    index = pd.date_range("2024-01-01", periods=400, freq="D", tz="UTC")
    return pd.Series(rng.normal(0.0008, 0.02, 400), index=index), request.param


def test_sharpe(series):
    r, periods = series
    ours = ret.sharpe_ratio(r, periods, ddof=1)
    assert ours == pytest.approx(empyrical.sharpe_ratio(r, annualization=periods), rel=1e-12)
    assert ours == pytest.approx(qs_stats.sharpe(r, periods=periods), rel=1e-12)
    # freqtrade's daily definition (ddof 0) differs by sqrt(n / (n - 1)) only
    assert ret.sharpe_ratio(r, periods) == pytest.approx(ours * math.sqrt(400 / 399), rel=1e-12)


def test_sortino(series):
    r, periods = series
    ours = ret.sortino_ratio(r, periods, downside="semideviation")
    assert ours == pytest.approx(empyrical.sortino_ratio(r, annualization=periods), rel=1e-12)
    assert ours == pytest.approx(qs_stats.sortino(r, periods=periods), rel=1e-12)


def test_max_drawdown(series):
    r, _ = series
    ours = ret.max_drawdown_of_returns(r.to_numpy())
    assert ours == pytest.approx(-empyrical.max_drawdown(r), rel=1e-12)
    assert ours == pytest.approx(-qs_stats.max_drawdown(r), rel=1e-12)


def test_cagr_and_calmar(series):
    r, periods = series
    assert ret.annual_return(r, periods) == pytest.approx(
        empyrical.annual_return(r, annualization=periods), rel=1e-12)
    assert ret.calmar_ratio(r, periods) == pytest.approx(
        empyrical.calmar_ratio(r, annualization=periods), rel=1e-12)


def test_quantstats_cagr_on_calendar_days():
    # quantstats counts years from the calendar span of the index; with 365 daily points and
    # periods=365 both definitions give one year... close: index span is 364 days
    rng = np.random.default_rng(3)
    r = pd.Series(rng.normal(0.001, 0.01, 366),
                  index=pd.date_range("2024-01-01", periods=366, freq="D", tz="UTC"))
    assert ret.annual_return(r, 366) == pytest.approx(qs_stats.cagr(r, periods=366), rel=1e-9)


def test_freqtrade_sharpe_equals_empyrical_on_one_trade_per_day():
    rng = np.random.default_rng(1)
    balance = 10_000.0
    profits = rng.normal(5, 40, 200)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2024, 7, 19, tzinfo=UTC)  # 200 days
    ours = perf.sharpe(profits, start, end, balance)
    ref = empyrical.sharpe_ratio(pd.Series(profits / balance), annualization=365)
    assert ours == pytest.approx(ref * math.sqrt(200 / 199), rel=1e-9)


def test_account_drawdown_equals_empyrical_on_the_balance_returns():
    rng = np.random.default_rng(7)
    profits = rng.normal(0, 30, 300)
    dates = pd.date_range("2024-01-01", periods=300, freq="D", tz="UTC")
    trades = pd.DataFrame({"close_date": dates, "profit_abs": profits})
    daily = ret.daily_profit(trades["close_date"], profits, dates[0], dates[-1])
    r = ret.daily_returns(daily, 5_000.0)
    dd = max_drawdown(trades, 5_000.0, relative=True)
    assert dd.relative_account_drawdown == pytest.approx(-empyrical.max_drawdown(r), rel=1e-12)
