"""Portfolio risk metrics: volatility, portfolio heat, beta, correlation and a daily risk summary.

Returns are simple periodic returns as ratios (0.01 is +1 %). Point estimates (:func:`beta`) drop
NaN observations; rolling estimates keep the input index and give NaN for every window that holds
a NaN or is not yet full (``min_periods = window``). Standard deviations, variances and covariances
use ``ddof=1`` throughout. Series inputs are aligned on their index (inner join); plain arrays are
paired by position and must have equal lengths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atb.errors import ConfigError, DataError
from atb.risk.var import ReturnsLike, VaRReport, _as_returns, daily_returns_from_equity, var_table

__all__ = [
    "RiskMetrics",
    "beta",
    "compute_risk_metrics",
    "correlation_matrix",
    "ewma_volatility",
    "portfolio_heat",
    "rolling_beta",
    "rolling_correlation",
    "rolling_volatility",
]


def _as_series(x: ReturnsLike, name: str) -> pd.Series:
    """``x`` as a float64 Series (index kept; RangeIndex for arrays); DataError if not 1-D or infinite."""
    if isinstance(x, pd.Series):
        s = x.astype(np.float64)
    else:
        try:
            a = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name} must be numeric returns: {exc}") from exc
        if a.ndim != 1:
            raise DataError(f"{name} must be 1-D, got shape {a.shape}")
        s = pd.Series(a)
    if np.isinf(s.to_numpy()).any():
        raise DataError(f"{name} contains infinite values")
    return s


def _check_window(window: int, name: str = "window") -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ConfigError(f"{name} must be an integer >= 2, got {window!r}")
    return int(window)


def _annualisation(periods_per_year: float | None) -> float:
    if periods_per_year is None:
        return 1.0
    p = float(periods_per_year)
    if not (p > 0.0 and math.isfinite(p)):
        raise ConfigError(f"periods_per_year must be a positive number, got {periods_per_year!r}")
    return math.sqrt(p)


def _pair(a: ReturnsLike, b: ReturnsLike, name_a: str, name_b: str) -> tuple[pd.Series, pd.Series]:
    """Two return series aligned on their index (Series) or by position (arrays), NaN pairs masked."""
    sa, sb = _as_series(a, name_a), _as_series(b, name_b)
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        sa, sb = sa.align(sb, join="inner")
    elif len(sa) != len(sb):
        raise DataError(f"{name_a} and {name_b} must have equal lengths when not both Series, "
                        f"got {len(sa)} and {len(sb)}")
    else:
        sb = pd.Series(sb.to_numpy(), index=sa.index)
    both = sa.notna() & sb.notna()
    return sa.where(both), sb.where(both)


def rolling_volatility(returns: ReturnsLike, window: int, periods_per_year: float | None = None) -> pd.Series:
    """Rolling sample standard deviation of returns, optionally annualised.

    ``sigma_t = std(r_{t-window+1..t}, ddof=1) * sqrt(periods_per_year)`` (the square-root-of-time
    rule for i.i.d. returns; Jorion, *Value at Risk*, 3rd ed. (2007)).

    Parameters
    ----------
    returns : array-like or Series, shape (n,), float
        Periodic simple returns (ratios).
    window : int
        Observations per window, >= 2.
    periods_per_year : float, optional
        Return periods per year (365 for daily crypto, 252 for daily equities, 8760 for hourly
        crypto); None leaves the volatility per period.

    Returns
    -------
    Series of float64
        Same index as ``returns`` (RangeIndex for arrays); NaN for the first ``window - 1`` entries
        and every window containing a NaN.

    Raises
    ------
    ConfigError
        ``window`` not an integer >= 2 or ``periods_per_year`` not > 0.
    DataError
        ``returns`` not 1-D or with infinite values.
    """
    w = _check_window(window)
    scale = _annualisation(periods_per_year)
    s = _as_series(returns, "returns")
    return (s.rolling(w, min_periods=w).std(ddof=1) * scale).rename("volatility")


def ewma_volatility(returns: ReturnsLike, lam: float = 0.94,
                    periods_per_year: float | None = None) -> pd.Series:
    """Exponentially weighted (RiskMetrics) volatility, zero mean.

    ``sigma_t^2 = sum_{i=0}^{t} lam^i r_{t-i}^2 / sum_{i=0}^{t} lam^i``: the RiskMetrics estimator
    (RiskMetrics Technical Document, 4th ed., J.P. Morgan/Reuters 1996, exponentially weighted
    volatility with zero mean; ``lam = 0.94`` is its decay factor for daily data) with the weights of
    the finite sample normalised to sum to 1. For long series it equals the recursion
    ``sigma_t^2 = lam * sigma_{t-1}^2 + (1 - lam) * r_t^2``. The value at ``t`` uses returns up to and
    including ``r_t`` (it is the forecast for ``t + 1``). NaN returns are skipped (weights count only
    non-NaN observations) and the estimate is carried through them; leading NaNs give NaN.

    Parameters
    ----------
    returns : array-like or Series, shape (n,), float
        Periodic simple returns (ratios).
    lam : float, default 0.94
        Decay factor in (0, 1).
    periods_per_year : float, optional
        Annualise by ``sqrt(periods_per_year)``; None leaves the volatility per period.

    Returns
    -------
    Series of float64
        Same index as ``returns`` (RangeIndex for arrays).

    Raises
    ------
    ConfigError
        ``lam`` not in (0, 1) or ``periods_per_year`` not > 0.
    DataError
        ``returns`` not 1-D or with infinite values.
    """
    if not 0.0 < float(lam) < 1.0:
        raise ConfigError(f"lam must be in (0, 1) (RiskMetrics daily: 0.94), got {lam!r}")
    scale = _annualisation(periods_per_year)
    s = _as_series(returns, "returns")
    var = (s**2).ewm(alpha=1.0 - float(lam), adjust=True, ignore_na=True).mean()
    return (np.sqrt(var) * scale).rename("volatility")


def portfolio_heat(stakes: ReturnsLike, stop_distances: ReturnsLike, equity: float) -> float:
    """Share of equity lost if the stop of every open position is hit at once.

    ``heat = sum_i stake_i * stop_distance_i / equity`` ("portfolio heat", Van Tharp, *Definitive
    Guide to Position Sizing*, 2008).

    Parameters
    ----------
    stakes : array-like, shape (n_positions,), float
        Position notional per open position in quote currency (stake x leverage), >= 0.
    stop_distances : array-like, shape (n_positions,), float
        Distance from the current price to each stop as a positive ratio of the price
        (0.05 = stop 5 % away), >= 0.
    equity : float
        Account equity in quote currency, > 0.

    Returns
    -------
    float
        Ratio of equity at risk (0.06 = 6 %); 0.0 without open positions.

    Raises
    ------
    DataError
        Lengths differ, not 1-D, NaN/infinite or negative values, or ``equity`` not > 0.
    """
    arrays = []
    for name, x in (("stakes", stakes), ("stop_distances", stop_distances)):
        a = np.asarray(x, dtype=np.float64)
        if a.ndim != 1:
            raise DataError(f"{name} must be 1-D, got shape {a.shape}")
        if not np.all(np.isfinite(a)) or np.any(a < 0.0):
            raise DataError(f"{name} must hold finite values >= 0")
        arrays.append(a)
    s, d = arrays
    if len(s) != len(d):
        raise DataError(f"stakes and stop_distances must have equal lengths, got {len(s)} and {len(d)}")
    if not (math.isfinite(float(equity)) and float(equity) > 0.0):
        raise DataError(f"equity must be a finite number > 0, got {equity!r}")
    return float(np.sum(s * d)) / float(equity)


def beta(asset_returns: ReturnsLike, benchmark_returns: ReturnsLike) -> float:
    """Beta of an asset to a benchmark: ``cov(a, b) / var(b)``, both with ``ddof=1``.

    The OLS slope of ``a`` on ``b`` (Sharpe 1964, CAPM; Bodie, Kane & Marcus, *Investments*, the
    single-index model) over the aligned pairs where both returns are non-NaN. The ratio does not
    depend on ``ddof`` as long as numerator and denominator share it (empyrical ``beta`` uses
    ``ddof=0`` for both and gives the same value).

    Parameters
    ----------
    asset_returns, benchmark_returns : array-like or Series, shape (n,), float
        Periodic simple returns (ratios) of the same frequency. Two Series are aligned on their
        index; otherwise they are paired by position.

    Returns
    -------
    float
        Dimensionless beta.

    Raises
    ------
    DataError
        Fewer than 2 complete pairs, unequal array lengths, infinite values, or a benchmark
        with zero variance over the pairs.
    """
    a, b = _pair(asset_returns, benchmark_returns, "asset_returns", "benchmark_returns")
    ok = a.notna().to_numpy()
    x = _as_returns(a.to_numpy()[ok], "asset_returns and benchmark_returns (complete pairs)")
    y = b.to_numpy()[ok]
    var_b = float(np.var(y, ddof=1))
    if var_b == 0.0:
        raise DataError("benchmark_returns has zero variance over the paired observations; beta undefined")
    return float(np.cov(x, y, ddof=1)[0, 1]) / var_b


def rolling_beta(asset_returns: ReturnsLike, benchmark_returns: ReturnsLike, window: int) -> pd.Series:
    """Rolling :func:`beta`: ``cov_w(a, b) / var_w(b)`` over the last ``window`` pairs (``ddof=1``).

    Parameters
    ----------
    asset_returns, benchmark_returns : array-like or Series, shape (n,), float
        As in :func:`beta`.
    window : int
        Pairs per window, >= 2.

    Returns
    -------
    Series of float64
        Index of the aligned pairs; NaN for incomplete windows, windows containing a NaN in either
        series, and windows where the benchmark has zero variance.

    Raises
    ------
    ConfigError
        ``window`` not an integer >= 2.
    DataError
        Unequal array lengths, not 1-D or infinite values.
    """
    w = _check_window(window)
    a, b = _pair(asset_returns, benchmark_returns, "asset_returns", "benchmark_returns")
    cov = a.rolling(w, min_periods=w).cov(b, ddof=1)
    var = b.rolling(w, min_periods=w).var(ddof=1)
    out = cov / var.where(var > 0.0)
    return out.rename("beta")


def rolling_correlation(a: ReturnsLike, b: ReturnsLike, window: int) -> pd.Series:
    """Rolling Pearson correlation of two return series over the last ``window`` pairs.

    ``rho = cov_w(a, b) / (sigma_w(a) * sigma_w(b))`` (Pearson 1896).

    Parameters
    ----------
    a, b : array-like or Series, shape (n,), float
        Periodic simple returns (ratios); two Series are aligned on their index, arrays by position.
    window : int
        Pairs per window, >= 2.

    Returns
    -------
    Series of float64
        In [-1, 1]; NaN for incomplete windows, windows containing a NaN, and windows where either
        series is constant.

    Raises
    ------
    ConfigError
        ``window`` not an integer >= 2.
    DataError
        Unequal array lengths, not 1-D or infinite values.
    """
    w = _check_window(window)
    sa, sb = _pair(a, b, "a", "b")
    rho = sa.rolling(w, min_periods=w).corr(sb)
    return rho.where(np.isfinite(rho)).rename("correlation")


def correlation_matrix(returns: pd.DataFrame, window: int | None = None) -> pd.DataFrame:
    """Pearson correlation matrix of the columns of a return table.

    Pairwise-complete observations (pandas ``DataFrame.corr``, ``min_periods=2``): each pair uses the
    rows where both columns are non-NaN.

    Parameters
    ----------
    returns : DataFrame, shape (n, k), float
        One column of periodic simple returns per asset (e.g. per pair), rows in time order.
    window : int, optional
        Use only the last ``window`` rows (>= 2); None uses all rows.

    Returns
    -------
    DataFrame, shape (k, k), float64
        Index and columns are ``returns.columns``; NaN where a pair has fewer than 2 complete rows
        or a constant column.

    Raises
    ------
    DataError
        ``returns`` is not a DataFrame, has fewer than 2 rows, or non-numeric/infinite values.
    ConfigError
        ``window`` not an integer >= 2.
    """
    if not isinstance(returns, pd.DataFrame):
        raise DataError(f"returns must be a DataFrame of per-asset returns, got {type(returns).__name__}")
    frame = returns if window is None else returns.iloc[-_check_window(window):]
    try:
        frame = frame.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"returns must hold numeric returns: {exc}") from exc
    if len(frame) < 2:
        raise DataError(f"returns needs at least 2 rows for a correlation, got {len(frame)}")
    if np.isinf(frame.to_numpy()).any():
        raise DataError("returns contains infinite values")
    return frame.corr(method="pearson", min_periods=2)


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    """Daily risk summary of an equity curve, see :func:`compute_risk_metrics`.

    Attributes
    ----------
    var : VaRReport
        1-day historical, parametric and Cornish-Fisher VaR and CVaR (positive loss ratios).
    n_days : int
        Daily returns used.
    volatility_annual : float
        ``std(daily returns, ddof=1) * sqrt(periods_per_year)``, ratio.
    periods_per_year : float
        Annualisation factor used (365 for crypto).
    max_daily_loss : float
        Largest one-day loss as a positive ratio; 0.0 if no day lost.
    beta : float or None
        Beta of the daily returns to the benchmark, None without a benchmark.
    correlation : DataFrame or None
        Pearson correlation matrix of ``pair_returns``, None without them (not compared by ``==``).
    """

    var: VaRReport
    n_days: int
    volatility_annual: float
    periods_per_year: float
    max_daily_loss: float
    beta: float | None = None
    correlation: pd.DataFrame | None = field(default=None, compare=False)

    def to_rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a text report; ratios in percent with 2 decimals.

        E.g. ``("VaR 95% (1d, historical)", "3.21%")``, ``("Volatility (annualised, 365d)", "45.10%")``,
        ``("Beta to benchmark", "0.85")``, and one ``"Correlation A / B"`` row per column pair.
        """
        rows = [("Daily returns", str(self.n_days)), *self.var.rows(),
                (f"Volatility (annualised, {self.periods_per_year:g}d)", f"{self.volatility_annual:.2%}"),
                ("Max daily loss", f"{self.max_daily_loss:.2%}")]
        if self.beta is not None:
            rows.append(("Beta to benchmark", f"{self.beta:.2f}"))
        if self.correlation is not None:
            cols = list(self.correlation.columns)
            for i, ci in enumerate(cols):
                for cj in cols[i + 1:]:
                    rows.append((f"Correlation {ci} / {cj}", f"{self.correlation.loc[ci, cj]:.2f}"))
        return rows


def _daily_benchmark(benchmark: pd.Series) -> pd.Series:
    """Benchmark daily returns on a UTC-midnight index; DataError if it is not daily."""
    if not isinstance(benchmark, pd.Series) or not isinstance(benchmark.index, pd.DatetimeIndex):
        raise DataError("benchmark must be a Series of daily returns indexed by UTC day (DatetimeIndex)")
    idx = pd.DatetimeIndex(benchmark.index)
    idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("ns")
    if not (idx == idx.normalize()).all():
        raise DataError("benchmark must be daily returns stamped at UTC midnight; build them from prices "
                        "with daily_returns_from_equity(close)")
    return pd.Series(benchmark.to_numpy(np.float64), index=idx)


def compute_risk_metrics(equity: pd.Series, benchmark: pd.Series | None = None,
                         pair_returns: pd.DataFrame | None = None, *, periods_per_year: float = 365,
                         confidences: Sequence[float] = (0.95, 0.99),
                         correlation_window: int | None = None) -> RiskMetrics:
    """Daily VaR/CVaR, volatility, worst day, beta and correlations of an equity curve.

    The equity curve is turned into calendar-day returns with :func:`daily_returns_from_equity`
    (last value of each UTC day); VaR/CVaR come from :func:`var_table` at a 1-day horizon.

    Parameters
    ----------
    equity : Series of float
        Account equity in quote currency, > 0, indexed by UTC timestamps of any frequency.
    benchmark : Series of float, optional
        Benchmark *daily returns* (ratios, e.g. BTC/USDT close-to-close) indexed by UTC midnight;
        aligned with the equity's daily returns on the day for :func:`beta`.
    pair_returns : DataFrame, optional
        Per-pair returns (one column per pair) for :func:`correlation_matrix`.
    periods_per_year : float, default 365
        Annualisation factor for the volatility: 365 because crypto trades every calendar day.
    confidences : sequence of float, default (0.95, 0.99)
        VaR/CVaR confidence levels in (0, 1).
    correlation_window : int, optional
        Use only the last ``correlation_window`` rows of ``pair_returns``.

    Returns
    -------
    RiskMetrics

    Raises
    ------
    DataError
        The equity spans fewer than 3 UTC days (2 daily returns), holds non-positive values, the
        benchmark is not daily or has fewer than 2 overlapping days, or ``pair_returns`` is invalid.
    ConfigError
        A confidence not in (0, 1), ``periods_per_year`` not > 0, or a bad ``correlation_window``.
    """
    r = daily_returns_from_equity(equity)
    if len(r) < 2:
        raise DataError(f"equity must span at least 3 UTC days (2 daily returns), got {len(r)} daily returns")
    scale = _annualisation(periods_per_year)
    report = var_table(r, confidences, period_label="1d")
    values = r.to_numpy()
    b = None if benchmark is None else beta(r, _daily_benchmark(benchmark))
    corr = None if pair_returns is None else correlation_matrix(pair_returns, correlation_window)
    return RiskMetrics(var=report, n_days=len(r), volatility_annual=float(np.std(values, ddof=1)) * scale,
                       periods_per_year=float(periods_per_year),
                       max_daily_loss=max(0.0, -float(values.min())), beta=b, correlation=corr)
