"""VaR/CVaR: hand values on tiny arrays, independent libraries, bad inputs, daily returns, real BTC data.

Which independent definitions match ours (checked in the installed sources):

* ``empyrical.value_at_risk(r, cutoff)`` is ``np.percentile(r, 100 * cutoff)`` (linear interpolation)
  -> equals ``-historical_var(r, 1 - cutoff)`` on NaN-free input.
* ``empyrical.conditional_value_at_risk(r, cutoff)`` averages the ``floor((n - 1) * cutoff) + 1``
  smallest returns -> equals ``-historical_cvar`` when no return ties the next order statistic
  (true for continuous random data).
* ``quantstats.stats.value_at_risk`` is ``norm.ppf(1 - c, mean, std(ddof=1))`` -> ``-parametric_var``.
* ``quantstats.stats.conditional_value_at_risk(method="parametric")`` is the Gaussian closed form
  with ``std(ddof=1)`` -> ``-parametric_cvar``; ``method="historical"`` is the mean of returns
  ``<= Series.quantile(1 - c)`` -> ``-historical_cvar``.
"""

from __future__ import annotations

import dataclasses
import math

import empyrical
import numpy as np
import pandas as pd
import pytest
import quantstats.stats as qs
from scipy import stats

from atb.errors import ConfigError, DataError
from atb.risk.var import (
    cornish_fisher_var,
    daily_returns_from_equity,
    historical_cvar,
    historical_var,
    parametric_cvar,
    parametric_var,
    var_table,
)

Z95 = -1.6448536269514722  # Phi^-1(0.05), standard normal table
PHI_Z95 = 0.10313564037537128  # phi(Z95) = exp(-Z95^2 / 2) / sqrt(2 pi)

TINY = np.array([-0.05, -0.02, 0.01, 0.03, 0.04])


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    """500 fat-tailed daily-like returns (Student t, 4 dof, 2 % scale), continuous so no ties."""
    return np.random.default_rng(20240101).standard_t(4, 500) * 0.02 + 0.0005


# ---------------------------------------------------------------- hand values
def test_historical_var_and_cvar_hand_values_on_order_statistic() -> None:
    # 1 - 0.75 = 0.25 -> position (5 - 1) * 0.25 = 1 -> second smallest return, -0.02.
    assert historical_var(TINY, 0.75) == pytest.approx(0.02, abs=1e-15)
    # Tail at or below -0.02: {-0.05, -0.02}.
    assert historical_cvar(TINY, 0.75) == pytest.approx(0.035, abs=1e-15)


def test_historical_var_interpolates_linearly_between_order_statistics() -> None:
    # 1 - 0.9 -> position 0.4 between -0.05 and -0.02: -0.05 + 0.4 * 0.03 = -0.038.
    assert historical_var(TINY, 0.9) == pytest.approx(0.038, abs=1e-12)
    # Only -0.05 lies at or below -0.038.
    assert historical_cvar(TINY, 0.9) == pytest.approx(0.05, abs=1e-15)


def test_parametric_var_and_cvar_hand_values() -> None:
    r = [-0.02, 0.0, 0.02]  # mean 0, sample std sqrt(0.0008 / 2) = 0.02
    assert parametric_var(r, 0.95) == pytest.approx(-0.02 * Z95, rel=1e-12)  # 0.032897
    assert parametric_cvar(r, 0.95) == pytest.approx(0.02 * PHI_Z95 / 0.05, rel=1e-12)  # 0.041254
    # Horizon 4 with mean 0.01: -(0.01 * 4 + 0.02 * 2 * Z95) = 0.025794.
    r2 = [-0.01, 0.01, 0.03]
    assert parametric_var(r2, 0.95, horizon=4) == pytest.approx(-(0.04 + 0.04 * Z95), rel=1e-12)
    assert parametric_cvar(r2, 0.95, horizon=4) == pytest.approx(-(0.04 - 0.04 * PHI_Z95 / 0.05), rel=1e-12)


def test_parametric_uses_sample_std_ddof_1() -> None:
    mu = 0.002
    sigma = math.sqrt(0.00548 / 4)  # squared deviations of TINY sum to 0.00548
    assert parametric_var(TINY, 0.95) == pytest.approx(-(mu + sigma * Z95), rel=1e-12)
    assert parametric_cvar(TINY, 0.95) == pytest.approx(-(mu - sigma * PHI_Z95 / 0.05), rel=1e-12)


def test_cornish_fisher_hand_value_symmetric_platykurtic() -> None:
    # [-0.02, 0, 0.02]: skew 0, m2 = 0.0008/3, m4 = 3.2e-7/3 -> excess kurtosis 1.5 - 3 = -1.5.
    z = Z95
    z_cf = z + (z**3 - 3 * z) * -1.5 / 24
    assert cornish_fisher_var([-0.02, 0.0, 0.02], 0.95) == pytest.approx(-0.02 * z_cf, rel=1e-12)


def test_constant_returns_give_minus_mean_for_every_parametric_estimate() -> None:
    r = [0.01] * 5
    for f in (parametric_var, parametric_cvar, cornish_fisher_var, historical_var, historical_cvar):
        assert f(r, 0.95) == pytest.approx(-0.01, abs=1e-15)


def test_nans_are_dropped_and_series_equals_array() -> None:
    with_nan = np.array([np.nan, -0.05, -0.02, np.nan, 0.01, 0.03, 0.04])
    series = pd.Series(with_nan, index=pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC"))
    for f in (historical_var, historical_cvar, parametric_var, parametric_cvar, cornish_fisher_var):
        assert f(with_nan, 0.9) == f(TINY, 0.9)
        assert f(series, 0.9) == f(TINY, 0.9)


# ------------------------------------------------------- independent libraries
@pytest.mark.parametrize("c", [0.9, 0.95, 0.975, 0.99])
def test_historical_matches_numpy_and_empyrical(sample: np.ndarray, c: float) -> None:
    assert historical_var(sample, c) == pytest.approx(-np.percentile(sample, 100 * (1 - c)), rel=1e-12)
    assert historical_var(sample, c) == pytest.approx(-empyrical.value_at_risk(sample, cutoff=1 - c),
                                                      rel=1e-12)
    assert historical_cvar(sample, c) == pytest.approx(
        -empyrical.conditional_value_at_risk(sample, cutoff=1 - c), rel=1e-12)
    s = pd.Series(sample)
    assert historical_cvar(sample, c) == pytest.approx(
        -qs.conditional_value_at_risk(s, confidence=c, prepare_returns=False, method="historical"),
        rel=1e-12)


@pytest.mark.parametrize("c", [0.9, 0.95, 0.99])
def test_parametric_matches_scipy_and_quantstats(sample: np.ndarray, c: float) -> None:
    mu, sd = sample.mean(), sample.std(ddof=1)
    assert parametric_var(sample, c) == pytest.approx(-stats.norm.ppf(1 - c, mu, sd), rel=1e-12)
    s = pd.Series(sample)
    assert parametric_var(sample, c) == pytest.approx(
        -qs.value_at_risk(s, confidence=c, prepare_returns=False), rel=1e-12)
    assert parametric_cvar(sample, c) == pytest.approx(
        -qs.conditional_value_at_risk(s, confidence=c, prepare_returns=False), rel=1e-12)
    # E[X | X <= VaR quantile] of N(mu, sd) by numerical integration.
    q = stats.norm.ppf(1 - c, mu, sd)
    tail_mean = stats.norm.expect(lambda x: x, loc=mu, scale=sd, ub=q, conditional=True)
    assert parametric_cvar(sample, c) == pytest.approx(-tail_mean, rel=1e-8)
    # Horizon h: N(mu h, sd sqrt(h)).
    assert parametric_var(sample, c, horizon=10) == pytest.approx(
        -stats.norm.ppf(1 - c, 10 * mu, sd * math.sqrt(10)), rel=1e-12)


@pytest.mark.parametrize("c", [0.95, 0.99])
def test_cornish_fisher_matches_scipy_moments(sample: np.ndarray, c: float) -> None:
    s = stats.skew(sample, bias=True)
    k = stats.kurtosis(sample, fisher=True, bias=True)
    z = stats.norm.ppf(1 - c)
    z_cf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    expected = -(sample.mean() + sample.std(ddof=1) * z_cf)
    assert cornish_fisher_var(sample, c) == pytest.approx(expected, rel=1e-10)


def test_cvar_at_least_var_and_monotone_in_confidence(sample: np.ndarray) -> None:
    for c in (0.8, 0.9, 0.95, 0.99):
        assert historical_cvar(sample, c) >= historical_var(sample, c)
        assert parametric_cvar(sample, c) >= parametric_var(sample, c)
    assert historical_var(sample, 0.99) > historical_var(sample, 0.95)
    assert parametric_var(sample, 0.99) > parametric_var(sample, 0.95)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("f", [historical_var, historical_cvar, parametric_var, parametric_cvar,
                               cornish_fisher_var])
@pytest.mark.parametrize("c", [0.0, 1.0, -0.1, 95, float("nan")])
def test_confidence_outside_open_unit_interval_raises_config_error(f, c) -> None:
    with pytest.raises(ConfigError, match="confidence"):
        f(TINY, c)


@pytest.mark.parametrize("f", [historical_var, historical_cvar, parametric_var, parametric_cvar,
                               cornish_fisher_var])
@pytest.mark.parametrize("bad", [[], [0.01], [np.nan, 0.01, np.nan]])
def test_fewer_than_two_observations_raise_data_error(f, bad) -> None:
    with pytest.raises(DataError, match="returns needs at least 2 non-NaN observations"):
        f(bad, 0.95)


def test_non_1d_or_infinite_returns_raise_data_error() -> None:
    with pytest.raises(DataError, match="returns must be 1-D"):
        historical_var(np.zeros((3, 2)))
    with pytest.raises(DataError, match="returns contains infinite"):
        parametric_var([0.01, np.inf, -0.01])


@pytest.mark.parametrize("h", [0, -1, float("nan"), float("inf")])
def test_bad_horizon_raises_config_error(h) -> None:
    with pytest.raises(ConfigError, match="horizon"):
        parametric_var(TINY, 0.95, horizon=h)
    with pytest.raises(ConfigError, match="horizon"):
        parametric_cvar(TINY, 0.95, horizon=h)


# -------------------------------------------------------------------- var_table
def test_var_table_collects_every_estimate_and_formats_rows() -> None:
    rep = var_table(TINY, (0.95, 0.99), period_label="1d")
    assert rep.n_observations == 5
    assert [lv.confidence for lv in rep.levels] == [0.95, 0.99]
    lv = rep.at(0.99)
    assert lv.historical_var == historical_var(TINY, 0.99)
    assert lv.historical_cvar == historical_cvar(TINY, 0.99)
    assert lv.parametric_var == parametric_var(TINY, 0.99)
    assert lv.parametric_cvar == parametric_cvar(TINY, 0.99)
    assert lv.cornish_fisher_var == cornish_fisher_var(TINY, 0.99)
    rows = dict(rep.rows())
    assert len(rep.rows()) == 10
    # 1 - 0.95 -> position 0.2: -0.05 + 0.2 * 0.03 = -0.044.
    assert rows["VaR 95% (1d, historical)"] == "4.40%"
    assert rows["CVaR 95% (1d, historical)"] == "5.00%"
    assert rows["VaR 95% (1d, parametric)"] == f"{-(0.002 + math.sqrt(0.00137) * Z95):.2%}" == "5.89%"
    assert rows["CVaR 99% (1d, parametric)"] == f"{parametric_cvar(TINY, 0.99):.2%}"
    assert "VaR 99% (1d, Cornish-Fisher)" in rows


def test_var_table_label_for_fractional_confidence_and_bad_levels() -> None:
    rep = var_table(TINY, (0.975,))
    assert rep.rows()[0][0] == "VaR 97.5% (1 period, historical)"
    with pytest.raises(ConfigError, match="confidence 0.95 not in this VaR report"):
        rep.at(0.95)
    with pytest.raises(ConfigError, match="confidences must hold at least one"):
        var_table(TINY, ())
    with pytest.raises(ConfigError, match="confidence"):
        var_table(TINY, (0.95, 1.5))


def test_var_report_is_frozen() -> None:
    rep = var_table(TINY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.n_observations = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.levels[0].historical_var = 0.0  # type: ignore[misc]


# --------------------------------------------------- daily_returns_from_equity
def _hourly(day: str, values: list[float], tz: str | None = "UTC") -> pd.Series:
    idx = pd.date_range(day, periods=len(values), freq="h", tz=tz)
    return pd.Series(values, index=idx)


def test_daily_returns_from_hourly_equity_by_hand() -> None:
    # Day 1: 24 hourly values ending at 110; day 2 ends at 99; day 3 has no data; day 4 ends at 108.9.
    day1 = _hourly("2024-01-01", [100.0 + i * 10 / 23 for i in range(24)])
    day2 = _hourly("2024-01-02", [105.0, 120.0, 99.0])
    day4 = _hourly("2024-01-04 05:00", [50.0, np.nan, 108.9])  # NaN dropped: 108.9 is last value
    equity = pd.concat([day1, day2, day4])
    r = daily_returns_from_equity(equity)
    assert list(r.index) == list(pd.date_range("2024-01-02", "2024-01-04", freq="D", tz="UTC"))
    assert str(r.index.dtype) == "datetime64[ns, UTC]"
    assert r.name == "return"
    np.testing.assert_allclose(r.to_numpy(), [99 / 110 - 1, 0.0, 108.9 / 99 - 1], rtol=1e-14)
    np.testing.assert_allclose(r.to_numpy(), [-0.1, 0.0, 0.1], rtol=1e-12)


def test_daily_returns_sorts_and_keeps_last_duplicate_and_converts_time_zones() -> None:
    idx = pd.DatetimeIndex(["2024-01-02 10:00", "2024-01-01 12:00", "2024-01-02 10:00", "2024-01-01 08:00"],
                           tz="UTC")
    equity = pd.Series([150.0, 100.0, 120.0, 90.0], index=idx)
    r = daily_returns_from_equity(equity)
    assert r.to_numpy() == pytest.approx([120 / 100 - 1])
    # 2024-01-02 00:30 at UTC+01:00 is 2024-01-01 23:30 UTC: the last value of Jan 1.
    berlin = pd.Series([100.0, 80.0, 88.0], index=pd.DatetimeIndex(
        ["2024-01-01 10:00", "2024-01-02 00:30", "2024-01-02 12:00"]).tz_localize("Europe/Berlin"))
    assert daily_returns_from_equity(berlin).to_numpy() == pytest.approx([88 / 80 - 1])
    # A tz-naive index is taken as UTC.
    naive = _hourly("2024-01-01 22:00", [100.0, 101.0, 103.0, 99.0], tz=None)
    r_naive = daily_returns_from_equity(naive)
    assert r_naive.index[0] == pd.Timestamp("2024-01-02", tz="UTC")
    assert r_naive.to_numpy() == pytest.approx([99 / 101 - 1])


def test_daily_returns_of_a_single_day_is_empty() -> None:
    r = daily_returns_from_equity(_hourly("2024-01-01", [1.0, 2.0, 3.0]))
    assert r.empty and str(r.index.dtype) == "datetime64[ns, UTC]"


def test_daily_returns_bad_inputs_raise_data_error() -> None:
    with pytest.raises(DataError, match="equity must be a pandas Series indexed by a DatetimeIndex"):
        daily_returns_from_equity(pd.Series([1.0, 2.0]))
    with pytest.raises(DataError, match="equity must be a pandas Series"):
        daily_returns_from_equity(np.array([1.0, 2.0]))  # type: ignore[arg-type]
    with pytest.raises(DataError, match="equity must hold finite values > 0"):
        daily_returns_from_equity(_hourly("2024-01-01", [1.0, 0.0, 3.0]))
    with pytest.raises(DataError, match="equity must hold finite values > 0"):
        daily_returns_from_equity(_hourly("2024-01-01", [1.0, np.inf]))
    with pytest.raises(DataError, match="equity must hold numbers"):
        daily_returns_from_equity(_hourly("2024-01-01", ["a", "b"]))  # type: ignore[list-item]


# -------------------------------------------------------------------- real data
def test_btc_daily_var_is_plausible_and_matches_pandas_resample(shared_dir) -> None:
    df = pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather")
    close = df.set_index("date")["close"]
    r = daily_returns_from_equity(close)
    # Independent: pandas resampling to UTC days (no missing days in this file).
    ref = close.resample("1D").last().ffill().pct_change().dropna()
    np.testing.assert_allclose(r.to_numpy(), ref.to_numpy(), rtol=1e-12)
    assert len(r) > 700
    rep = var_table(r, (0.95, 0.99), period_label="1d")
    v95, v99 = rep.at(0.95), rep.at(0.99)
    for method in ("historical", "parametric"):
        var95, var99 = getattr(v95, f"{method}_var"), getattr(v99, f"{method}_var")
        assert var99 >= var95 > 0
        assert 0.01 < var95 < 0.15
        assert getattr(v95, f"{method}_cvar") >= var95
        assert getattr(v99, f"{method}_cvar") >= var99
    # BTC is fat tailed: the historical 99 % tail is worse than the Gaussian one.
    assert v99.historical_cvar > v99.parametric_cvar
    assert v95.historical_var == pytest.approx(-empyrical.value_at_risk(r.to_numpy(), 0.05), rel=1e-12)
