"""Risk metrics: hand values, independent loops/libraries, bad inputs, the daily summary, real data.

Independent references: explicit numpy loops over windows (``np.std``, ``np.cov``, ``np.corrcoef``),
the RiskMetrics EWMA weighted sum written out, ``empyrical.beta`` (``cov / var`` with ``ddof=0`` for
both, so the same ratio as our ``ddof=1``) and ``scipy.stats.linregress`` (OLS slope).
"""

from __future__ import annotations

import dataclasses
import math

import empyrical
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from atb.errors import ConfigError, DataError
from atb.risk.metrics import (
    RiskMetrics,
    beta,
    compute_risk_metrics,
    correlation_matrix,
    ewma_volatility,
    portfolio_heat,
    rolling_beta,
    rolling_correlation,
    rolling_volatility,
)
from atb.risk.var import daily_returns_from_equity, historical_var, parametric_cvar, var_table

NAN = np.nan


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    """Correlated asset/benchmark returns: a = 1.3 b + noise."""
    rng = np.random.default_rng(7)
    b = rng.normal(0.0005, 0.02, 400)
    a = 1.3 * b + rng.normal(0.0, 0.01, 400)
    return a, b


# ------------------------------------------------------------------- volatility
def test_rolling_volatility_hand_values_and_nan_windows() -> None:
    r = [0.01, -0.01, 0.03, NAN, 0.02]
    out = rolling_volatility(r, 2)
    expected = [NAN, math.sqrt(0.0002), math.sqrt(0.0008), NAN, NAN]  # std(ddof=1) of each pair
    np.testing.assert_allclose(out.to_numpy(), expected, rtol=1e-12)
    ann = rolling_volatility(r, 2, periods_per_year=365)
    np.testing.assert_allclose(ann.to_numpy(), np.array(expected) * math.sqrt(365), rtol=1e-12)


def test_rolling_volatility_matches_numpy_loop_and_keeps_index(pair) -> None:
    a, _ = pair
    idx = pd.date_range("2024-01-01", periods=len(a), freq="D", tz="UTC")
    out = rolling_volatility(pd.Series(a, index=idx), 30, periods_per_year=365)
    assert out.index.equals(idx)
    ref = [NAN] * 29 + [np.std(a[i - 29:i + 1], ddof=1) * math.sqrt(365) for i in range(29, len(a))]
    np.testing.assert_allclose(out.to_numpy(), ref, rtol=1e-10)


def test_ewma_volatility_hand_values() -> None:
    # lam 0.5: t0 sqrt(0.01^2) = 0.01; t1 sqrt((0.02^2 + 0.5 * 0.01^2) / 1.5) = sqrt(0.0003).
    out = ewma_volatility([0.01, 0.02], lam=0.5)
    np.testing.assert_allclose(out.to_numpy(), [0.01, math.sqrt(0.0003)], rtol=1e-12)
    # NaN skipped and the estimate carried through it; leading NaN stays NaN.
    out_nan = ewma_volatility([NAN, 0.01, NAN, 0.02], lam=0.5)
    np.testing.assert_allclose(out_nan.to_numpy(), [NAN, 0.01, 0.01, math.sqrt(0.0003)], rtol=1e-12)
    np.testing.assert_allclose(ewma_volatility([0.01, 0.02], lam=0.5, periods_per_year=4).to_numpy(),
                               [0.02, 2 * math.sqrt(0.0003)], rtol=1e-12)


def test_ewma_volatility_matches_riskmetrics_weighted_sum_and_recursion(pair) -> None:
    a, _ = pair
    lam = 0.94
    out = ewma_volatility(a, lam).to_numpy()
    for t in (0, 1, 10, 137, len(a) - 1):
        w = lam ** np.arange(t + 1)  # weight lam^i on r_{t-i}
        ref = math.sqrt(np.sum(w * a[t::-1] ** 2) / np.sum(w))
        assert out[t] == pytest.approx(ref, rel=1e-12)
    # The recursion sigma^2_t = lam sigma^2_{t-1} + (1 - lam) r_t^2 forgets its seed: lam^400 ~ 2e-11.
    var = 0.0
    for x in a:
        var = lam * var + (1 - lam) * x * x
    assert out[-1] == pytest.approx(math.sqrt(var), rel=1e-9)


@pytest.mark.parametrize("lam", [0.0, 1.0, 1.2, -0.5])
def test_ewma_bad_lambda_raises_config_error(lam: float) -> None:
    with pytest.raises(ConfigError, match="lam must be in"):
        ewma_volatility([0.01, 0.02], lam=lam)


@pytest.mark.parametrize("window", [1, 0, 2.5, True, "5"])
def test_bad_window_raises_config_error(window) -> None:
    for call in (lambda: rolling_volatility([0.01, 0.02, 0.03], window),
                 lambda: rolling_beta([0.01, 0.02, 0.03], [0.01, 0.0, 0.03], window),
                 lambda: rolling_correlation([0.01, 0.02, 0.03], [0.01, 0.0, 0.03], window),
                 lambda: correlation_matrix(pd.DataFrame({"a": [0.1, 0.2, 0.3]}), window)):
        with pytest.raises(ConfigError, match="window must be an integer >= 2"):
            call()


@pytest.mark.parametrize("p", [0, -365, float("nan")])
def test_bad_periods_per_year_raises_config_error(p: float) -> None:
    with pytest.raises(ConfigError, match="periods_per_year"):
        rolling_volatility([0.01, 0.02, 0.03], 2, periods_per_year=p)
    with pytest.raises(ConfigError, match="periods_per_year"):
        ewma_volatility([0.01, 0.02, 0.03], periods_per_year=p)


def test_volatility_rejects_2d_and_infinite_returns() -> None:
    with pytest.raises(DataError, match="returns must be 1-D"):
        rolling_volatility(np.zeros((4, 2)), 2)
    with pytest.raises(DataError, match="returns contains infinite"):
        ewma_volatility(pd.Series([0.01, -np.inf]))


# ----------------------------------------------------------------- portfolio heat
def test_portfolio_heat_hand_values() -> None:
    # 1000 * 5 % + 2000 * 2 % = 90 quote at risk of 10000 equity.
    assert portfolio_heat([1000.0, 2000.0], [0.05, 0.02], 10_000.0) == pytest.approx(0.009, abs=1e-15)
    assert portfolio_heat(np.array([500.0]), np.array([0.1]), 1000.0) == pytest.approx(0.05, abs=1e-15)
    assert portfolio_heat([], [], 1000.0) == 0.0


@pytest.mark.parametrize(("stakes", "stops", "equity", "match"), [
    ([1.0, 2.0], [0.1], 10.0, "stakes and stop_distances must have equal lengths"),
    ([1.0], [-0.1], 10.0, "stop_distances must hold finite values >= 0"),
    ([-1.0], [0.1], 10.0, "stakes must hold finite values >= 0"),
    ([NAN], [0.1], 10.0, "stakes must hold finite values >= 0"),
    ([[1.0]], [[0.1]], 10.0, "stakes must be 1-D"),
    ([1.0], [0.1], 0.0, "equity must be a finite number > 0"),
    ([1.0], [0.1], NAN, "equity must be a finite number > 0"),
])
def test_portfolio_heat_bad_inputs_raise_data_error(stakes, stops, equity, match) -> None:
    with pytest.raises(DataError, match=match):
        portfolio_heat(stakes, stops, equity)


# -------------------------------------------------------------------------- beta
def test_beta_hand_values() -> None:
    # Means 0.02 each; cov = (0.0001 + 0 + 0) / 2, var(b) = 0.0002 / 2 -> 0.5.
    assert beta([0.01, 0.03, 0.02], [0.01, 0.02, 0.03]) == pytest.approx(0.5, rel=1e-12)
    b = np.array([0.01, -0.01, 0.02, 0.0])
    assert beta(2 * b + 0.001, b) == pytest.approx(2.0, rel=1e-12)


def test_beta_matches_empyrical_and_linregress(pair) -> None:
    a, b = pair
    assert beta(a, b) == pytest.approx(empyrical.beta(a, b), rel=1e-12)
    assert beta(a, b) == pytest.approx(stats.linregress(b, a).slope, rel=1e-12)
    assert 1.2 < beta(a, b) < 1.4


def test_beta_aligns_series_and_drops_nan_pairs() -> None:
    a = pd.Series([0.5, 0.01, 0.03, NAN, 0.02], index=[0, 1, 2, 3, 4])
    b = pd.Series([0.01, 0.02, 0.9, 0.03, 0.7], index=[1, 2, 3, 4, 5])
    # Pairs on index 1, 2, 4 -> a [0.01, 0.03, 0.02], b [0.01, 0.02, 0.03] as in the hand case.
    assert beta(a, b) == pytest.approx(0.5, rel=1e-12)
    # Arrays pair by position, NaN pairs dropped.
    assert beta([0.01, NAN, 0.03, 0.02], [0.01, 0.5, 0.02, 0.03]) == pytest.approx(0.5, rel=1e-12)


def test_beta_bad_inputs_raise_data_error() -> None:
    with pytest.raises(DataError, match="equal lengths"):
        beta([0.01, 0.02], [0.01, 0.02, 0.03])
    with pytest.raises(DataError, match="benchmark_returns has zero variance"):
        beta([0.01, 0.02, 0.03], [0.01, 0.01, 0.01])
    with pytest.raises(DataError, match="at least 2 non-NaN observations"):
        beta([0.01, NAN, 0.03], [NAN, 0.02, NAN])


def test_rolling_beta_matches_numpy_loop_and_masks_degenerate_windows(pair) -> None:
    a, b = pair
    out = rolling_beta(a, b, 50).to_numpy()
    for t in (49, 50, 200, len(a) - 1):
        x, y = a[t - 49:t + 1], b[t - 49:t + 1]
        assert out[t] == pytest.approx(np.cov(x, y, ddof=1)[0, 1] / np.var(y, ddof=1), rel=1e-9)
    assert np.isnan(out[:49]).all()
    # Hand: window 2 -> slope through two points; constant benchmark window -> NaN; NaN pair -> NaN.
    hand = rolling_beta([0.01, 0.03, 0.05, 0.02, NAN, 0.1], [0.0, 0.01, 0.01, 0.02, 0.03, 0.04], 2)
    np.testing.assert_allclose(hand.to_numpy(), [NAN, 2.0, NAN, -3.0, NAN, NAN], rtol=1e-10)


# ------------------------------------------------------------------- correlation
def test_rolling_correlation_hand_values_and_numpy_loop(pair) -> None:
    hand = rolling_correlation([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 1.0], 3)
    np.testing.assert_allclose(hand.to_numpy(), [NAN, NAN, 1.0, -0.5], rtol=1e-12)
    const = rolling_correlation([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 2)
    assert const.isna().all()
    a, b = pair
    out = rolling_correlation(pd.Series(a), pd.Series(b), 40).to_numpy()
    for t in (39, 120, len(a) - 1):
        assert out[t] == pytest.approx(np.corrcoef(a[t - 39:t + 1], b[t - 39:t + 1])[0, 1], rel=1e-9)


def test_correlation_matrix_hand_values_window_and_numpy(pair) -> None:
    df = pd.DataFrame({"BTC/USDT": [0.01, 0.02, 0.03, 0.04], "ETH/USDT": [9.0, 0.02, 0.04, 0.06],
                       "SOL/USDT": [0.0, 0.03, 0.02, 0.01]})
    full = correlation_matrix(df)
    assert list(full.columns) == list(full.index) == list(df.columns)
    np.testing.assert_allclose(full.to_numpy(), np.corrcoef(df.to_numpy().T), rtol=1e-12)
    last3 = correlation_matrix(df, window=3)
    assert last3.loc["BTC/USDT", "ETH/USDT"] == pytest.approx(1.0)  # exact linear relation
    assert last3.loc["BTC/USDT", "SOL/USDT"] == pytest.approx(-1.0)
    a, b = pair
    m = correlation_matrix(pd.DataFrame({"a": a, "b": b}))
    assert m.loc["a", "b"] == pytest.approx(stats.pearsonr(a, b).statistic, rel=1e-12)


def test_correlation_matrix_bad_inputs_raise_data_error() -> None:
    with pytest.raises(DataError, match="returns must be a DataFrame"):
        correlation_matrix(np.zeros((3, 2)))  # type: ignore[arg-type]
    with pytest.raises(DataError, match="at least 2 rows"):
        correlation_matrix(pd.DataFrame({"a": [0.1], "b": [0.2]}))
    with pytest.raises(DataError, match="returns must hold numeric returns"):
        correlation_matrix(pd.DataFrame({"a": ["x", "y"], "b": [0.1, 0.2]}))


# -------------------------------------------------------------- daily summary
def _daily_equity(returns: list[float], start: str = "2024-03-01") -> pd.Series:
    """Hourly equity curve whose day-end values produce ``returns``."""
    levels = 1000.0 * np.cumprod([1.0, *(1.0 + np.array(returns))])
    parts = []
    for d, level in enumerate(levels):
        day = pd.Timestamp(start, tz="UTC") + pd.Timedelta(days=d)
        hours = pd.date_range(day, periods=24, freq="h")
        # Intraday values wander; only the last value of the day counts.
        parts.append(pd.Series(np.r_[np.full(23, level * 1.5), level], index=hours))
    return pd.concat(parts)


def test_compute_risk_metrics_values_and_rows() -> None:
    rets = [0.01, -0.02, 0.03, -0.04, 0.02, 0.0, -0.01, 0.05]
    equity = _daily_equity(rets)
    days = pd.date_range("2024-03-02", periods=len(rets), freq="D", tz="UTC")
    bench = pd.Series(np.array(rets) / 2 + 0.001, index=days)  # beta exactly 2
    pairs = pd.DataFrame({"BTC/USDT": [0.01, 0.02, 0.03], "ETH/USDT": [0.02, 0.04, 0.06]})
    m = compute_risk_metrics(equity, benchmark=bench, pair_returns=pairs)
    assert isinstance(m, RiskMetrics)
    assert m.n_days == 8 and m.var.n_observations == 8
    assert m.var.at(0.95).historical_var == pytest.approx(historical_var(rets, 0.95), rel=1e-12)
    assert m.var.at(0.99).parametric_cvar == pytest.approx(parametric_cvar(rets, 0.99), rel=1e-12)
    assert m.volatility_annual == pytest.approx(np.std(rets, ddof=1) * math.sqrt(365), rel=1e-12)
    assert m.max_daily_loss == pytest.approx(0.04, rel=1e-12)
    assert m.beta == pytest.approx(2.0, rel=1e-10)
    assert m.correlation is not None and m.correlation.loc["BTC/USDT", "ETH/USDT"] == pytest.approx(1.0)
    rows = m.to_rows()
    d = dict(rows)
    assert rows[0] == ("Daily returns", "8")
    # Linear quantile at position 7 * 0.05 = 0.35 between -0.04 and -0.02: -0.033.
    assert d["VaR 95% (1d, historical)"] == "3.30%"
    assert d["CVaR 95% (1d, historical)"] == "4.00%"
    assert d["CVaR 99% (1d, parametric)"] == f"{parametric_cvar(rets, 0.99):.2%}"
    assert d["Volatility (annualised, 365d)"] == f"{np.std(rets, ddof=1) * math.sqrt(365):.2%}"
    assert d["Max daily loss"] == "4.00%"
    assert d["Beta to benchmark"] == "2.00"
    assert d["Correlation BTC/USDT / ETH/USDT"] == "1.00"
    assert len(rows) == 1 + 10 + 2 + 1 + 1


def test_compute_risk_metrics_without_optional_inputs_and_custom_periods() -> None:
    rets = [0.01, 0.02, 0.03]
    m = compute_risk_metrics(_daily_equity(rets), periods_per_year=252)
    assert m.beta is None and m.correlation is None
    assert m.max_daily_loss == 0.0  # no losing day
    assert m.volatility_annual == pytest.approx(0.01 * math.sqrt(252), rel=1e-12)
    labels = [label for label, _ in m.to_rows()]
    assert "Volatility (annualised, 252d)" in labels
    assert not any(label.startswith(("Beta", "Correlation")) for label in labels)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.beta = 1.0  # type: ignore[misc]
    assert m == compute_risk_metrics(_daily_equity(rets), periods_per_year=252)


def test_compute_risk_metrics_bad_inputs() -> None:
    with pytest.raises(DataError, match="at least 3 UTC days"):
        compute_risk_metrics(_daily_equity([0.01]))
    equity = _daily_equity([0.01, -0.02, 0.03])
    hourly_bench = pd.Series(0.001, index=pd.date_range("2024-03-01", periods=72, freq="h", tz="UTC"))
    with pytest.raises(DataError, match="benchmark must be daily returns stamped at UTC midnight"):
        compute_risk_metrics(equity, benchmark=hourly_bench)
    with pytest.raises(DataError, match="benchmark must be a Series of daily returns"):
        compute_risk_metrics(equity, benchmark=pd.Series([0.01, 0.02, 0.03]))
    with pytest.raises(ConfigError, match="periods_per_year"):
        compute_risk_metrics(equity, periods_per_year=0)
    with pytest.raises(ConfigError, match="confidence"):
        compute_risk_metrics(equity, confidences=(0.95, 99))


# -------------------------------------------------------------------- real data
def test_real_btc_buy_and_hold_risk_metrics(shared_dir) -> None:
    base = shared_dir / "data" / "binance"
    btc = pd.read_feather(base / "BTC_USDT-1h.feather").set_index("date")["close"]
    eth = pd.read_feather(base / "ETH_USDT-1h.feather").set_index("date")["close"]
    equity = 1000.0 * btc / btc.iloc[0]  # buy and hold BTC
    bench = daily_returns_from_equity(btc)
    pairs = pd.concat({"BTC/USDT": bench, "ETH/USDT": daily_returns_from_equity(eth)}, axis=1).dropna()
    m = compute_risk_metrics(equity, benchmark=bench, pair_returns=pairs)
    v95, v99 = m.var.at(0.95), m.var.at(0.99)
    for method in ("historical", "parametric"):
        var95, var99 = getattr(v95, f"{method}_var"), getattr(v99, f"{method}_var")
        assert var99 >= var95 > 0
        assert 0.01 < var95 < 0.15
        assert getattr(v95, f"{method}_cvar") >= var95
        assert getattr(v99, f"{method}_cvar") >= var99
    assert m.beta == pytest.approx(1.0, rel=1e-9)  # the equity is the benchmark, rescaled
    assert 0.2 < m.volatility_annual < 1.5  # BTC: roughly 40-80 % a year
    assert v99.historical_var <= m.max_daily_loss < 0.5
    assert m.correlation is not None and 0.5 < m.correlation.loc["BTC/USDT", "ETH/USDT"] < 1.0
    # The daily report matches var_table on the benchmark's daily returns (equal up to rounding).
    ref = var_table(bench, (0.95, 0.99), period_label="1d")
    for got, want in zip(m.var.levels, ref.levels, strict=True):
        assert dataclasses.astuple(got) == pytest.approx(dataclasses.astuple(want), rel=1e-9)
    # Rolling 30-day volatility of BTC ends in a plausible band too.
    vol30 = rolling_volatility(bench, 30, periods_per_year=365).dropna()
    assert ((vol30 > 0.05) & (vol30 < 2.0)).all()
