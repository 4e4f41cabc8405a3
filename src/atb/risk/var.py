"""Value at Risk and expected shortfall of a periodic return series, each formula with its source.

Conventions shared by every function here:

* ``returns`` are simple periodic returns as *ratios* (0.01 is +1 %), a 1-D float array or a
  Series; NaNs are dropped before anything is computed, infinite values are a :class:`DataError`.
* ``confidence`` ``c`` is in (0, 1); the tail probability is ``alpha = 1 - c``.
* VaR and CVaR are reported as *positive loss ratios*: ``0.05`` means "lose 5 % of the position
  value". A negative result means that even the tail quantile is a gain (e.g. a series of gains only).
* Empirical quantiles use numpy's ``"linear"`` method (Hyndman & Fan 1996, definition 7, the default
  of ``numpy.quantile``/``numpy.percentile`` and ``pandas.Series.quantile``) everywhere.
* Standard deviations use ``ddof=1`` (the sample estimator).
* Gaussian quantiles and densities come from :class:`statistics.NormalDist` (the standard library,
  Wichura's AS241 inverse), so this module needs no SciPy at run time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal, TypeAlias

import numpy as np
import pandas as pd

from atb._typing import Float64Array
from atb.errors import ConfigError, DataError

__all__ = [
    "QUANTILE_METHOD",
    "ReturnsLike",
    "VaRLevel",
    "VaRReport",
    "cornish_fisher_var",
    "daily_returns_from_equity",
    "historical_cvar",
    "historical_var",
    "parametric_cvar",
    "parametric_var",
    "var_table",
]

#: The empirical quantile definition used by every historical estimator here (numpy ``method``).
QUANTILE_METHOD: Final[Literal["linear"]] = "linear"

#: A 1-D sequence of periodic returns (ratios).
ReturnsLike: TypeAlias = Float64Array | pd.Series | Sequence[float]

_STANDARD_NORMAL = NormalDist()


def _as_returns(returns: ReturnsLike, name: str = "returns", min_obs: int = 2) -> Float64Array:
    """``returns`` as a float64 1-D array without NaNs; DataError if too short, not 1-D or infinite."""
    try:
        r = np.asarray(returns, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be numeric returns: {exc}") from exc
    if r.ndim != 1:
        raise DataError(f"{name} must be 1-D, got shape {r.shape}")
    r = r[~np.isnan(r)]
    if not np.all(np.isfinite(r)):
        raise DataError(f"{name} contains infinite values")
    if len(r) < min_obs:
        raise DataError(f"{name} needs at least {min_obs} non-NaN observations, got {len(r)}")
    return r


def _check_confidence(confidence: float) -> float:
    """``confidence`` as a float in the open interval (0, 1), else ConfigError."""
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise ConfigError(f"confidence must be in (0, 1) (e.g. 0.95), got {confidence!r}")
    return c


def _check_horizon(horizon: float) -> float:
    h = float(horizon)
    if not (h > 0.0 and math.isfinite(h)):
        raise ConfigError(f"horizon must be a positive number of periods, got {horizon!r}")
    return h


def historical_var(returns: ReturnsLike, confidence: float = 0.95) -> float:
    """Historical-simulation Value at Risk: minus the empirical ``1 - c`` quantile of the returns.

    ``VaR_c = -Q(1 - c)``, ``Q`` the empirical quantile with linear interpolation between order
    statistics (:data:`QUANTILE_METHOD`; Hyndman & Fan 1996, definition 7). Source: Jorion,
    *Value at Risk*, 3rd ed. (2007), the historical-simulation method. Equals
    ``-empyrical.value_at_risk(returns, cutoff=1 - c)``.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidence : float, default 0.95
        Confidence level ``c`` in (0, 1).

    Returns
    -------
    float
        The loss not exceeded with probability ``c`` over one period, as a positive ratio.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        ``confidence`` not in (0, 1).
    """
    c = _check_confidence(confidence)
    r = _as_returns(returns)
    return -float(np.quantile(r, 1.0 - c, method=QUANTILE_METHOD))


def historical_cvar(returns: ReturnsLike, confidence: float = 0.95) -> float:
    """Historical expected shortfall (CVaR): minus the mean of the returns at or below the VaR quantile.

    ``CVaR_c = -mean{r_i : r_i <= Q(1 - c)}`` with the same quantile ``Q`` as :func:`historical_var`,
    so ``CVaR_c >= VaR_c`` always. This is the tail conditional expectation (TCE) of Acerbi &
    Tasche (2002), "On the coherence of expected shortfall", *J. Banking & Finance* 26(7); it
    differs from their coherent expected shortfall only by the fractional weight they give the
    boundary observation. Equals ``-quantstats.stats.conditional_value_at_risk(returns, c,
    method="historical")`` and, when no return ties the order statistic just above the quantile,
    ``-empyrical.conditional_value_at_risk(returns, 1 - c)``.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidence : float, default 0.95
        Confidence level ``c`` in (0, 1).

    Returns
    -------
    float
        Mean loss in the worst ``1 - c`` tail, as a positive ratio.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        ``confidence`` not in (0, 1).
    """
    c = _check_confidence(confidence)
    r = _as_returns(returns)
    q = float(np.quantile(r, 1.0 - c, method=QUANTILE_METHOD))
    # The linear quantile never falls below the minimum, so the tail is never empty.
    return -float(r[r <= q].mean())


def _mu_sigma(r: Float64Array) -> tuple[float, float]:
    return float(r.mean()), float(r.std(ddof=1))


def parametric_var(returns: ReturnsLike, confidence: float = 0.95, horizon: float = 1) -> float:
    """Gaussian (variance-covariance) Value at Risk.

    ``VaR = -(mu * h + sigma * sqrt(h) * z_{1-c})`` with ``mu`` the sample mean, ``sigma`` the sample
    standard deviation (``ddof=1``) of the periodic returns, ``z_{1-c} = Phi^{-1}(1 - c)`` (< 0) and
    ``h`` the horizon in periods (square-root-of-time scaling of i.i.d. returns). Source: Jorion,
    *Value at Risk*, 3rd ed. (2007), absolute VaR under the normal distribution, and the
    RiskMetrics Technical Document, 4th ed. (1996) (normal returns, ``z_{0.05} = -1.65``).
    For ``h = 1`` equals ``-quantstats.stats.value_at_risk(returns, confidence=c)``.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidence : float, default 0.95
        Confidence level ``c`` in (0, 1).
    horizon : float, default 1
        Horizon ``h`` in periods of the return series, > 0.

    Returns
    -------
    float
        Positive loss ratio over ``h`` periods.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        ``confidence`` not in (0, 1) or ``horizon`` not > 0.
    """
    c = _check_confidence(confidence)
    h = _check_horizon(horizon)
    mu, sigma = _mu_sigma(_as_returns(returns))
    z = _STANDARD_NORMAL.inv_cdf(1.0 - c)
    return -(mu * h + sigma * math.sqrt(h) * z)


def parametric_cvar(returns: ReturnsLike, confidence: float = 0.95, horizon: float = 1) -> float:
    """Gaussian expected shortfall (CVaR) of the variance-covariance model.

    ``CVaR = -(mu * h - sigma * sqrt(h) * phi(z_{1-c}) / (1 - c))``, ``phi`` the standard normal
    density, ``mu``/``sigma`` (``ddof=1``) and ``h`` as in :func:`parametric_var`: the closed form of
    ``E[X | X <= VaR]`` for normal ``X``. Sources: Acerbi & Tasche (2002), "On the coherence of
    expected shortfall"; McNeil, Frey & Embrechts, *Quantitative Risk Management* (2005),
    expected shortfall of the normal distribution. For ``h = 1`` equals
    ``-quantstats.stats.conditional_value_at_risk(returns, c)``.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidence : float, default 0.95
        Confidence level ``c`` in (0, 1).
    horizon : float, default 1
        Horizon ``h`` in periods of the return series, > 0.

    Returns
    -------
    float
        Positive loss ratio over ``h`` periods; ``>= parametric_var`` for the same inputs.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        ``confidence`` not in (0, 1) or ``horizon`` not > 0.
    """
    c = _check_confidence(confidence)
    h = _check_horizon(horizon)
    mu, sigma = _mu_sigma(_as_returns(returns))
    z = _STANDARD_NORMAL.inv_cdf(1.0 - c)
    return -(mu * h - sigma * math.sqrt(h) * _STANDARD_NORMAL.pdf(z) / (1.0 - c))


def cornish_fisher_var(returns: ReturnsLike, confidence: float = 0.95) -> float:
    """Modified (Cornish-Fisher) Value at Risk, adjusting the Gaussian quantile for skew and kurtosis.

    ``VaR = -(mu + sigma * z_cf)`` with ``z = Phi^{-1}(1 - c)`` and

    ``z_cf = z + (z^2 - 1) S / 6 + (z^3 - 3 z) K / 24 - (2 z^3 - 5 z) S^2 / 36``,

    ``S`` the skewness ``m3 / m2^1.5`` and ``K`` the excess kurtosis ``m4 / m2^2 - 3`` from the
    central moments ``m_k = mean((r - mean(r))^k)`` (the moment estimators, as
    ``scipy.stats.skew``/``kurtosis`` with ``bias=True``), ``sigma`` with ``ddof=1``. Source:
    Favre & Galeano (2002), "Mean-modified value-at-risk optimization with hedge funds",
    *J. Alternative Investments* 5(2); the expansion is Cornish & Fisher (1937). The
    expansion is reliable only for moderate skew/kurtosis (it can become non-monotone in ``c``).
    With zero dispersion ``S = K = 0`` and the result is ``-mu``.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidence : float, default 0.95
        Confidence level ``c`` in (0, 1).

    Returns
    -------
    float
        One-period loss as a positive ratio.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        ``confidence`` not in (0, 1).
    """
    c = _check_confidence(confidence)
    r = _as_returns(returns)
    mu, sigma = _mu_sigma(r)
    d = r - mu
    m2 = float(np.mean(d**2))
    if m2 > 0.0:
        s = float(np.mean(d**3)) / m2**1.5
        k = float(np.mean(d**4)) / m2**2 - 3.0
    else:
        s = k = 0.0
    z = _STANDARD_NORMAL.inv_cdf(1.0 - c)
    z_cf = z + (z**2 - 1.0) * s / 6.0 + (z**3 - 3.0 * z) * k / 24.0 - (2.0 * z**3 - 5.0 * z) * s**2 / 36.0
    return -(mu + sigma * z_cf)


def _confidence_label(confidence: float) -> str:
    """0.95 -> "95%", 0.975 -> "97.5%"."""
    return f"{confidence * 100:g}%"


@dataclass(frozen=True, slots=True)
class VaRLevel:
    """VaR and CVaR estimates at one confidence level, all positive one-period loss ratios."""

    confidence: float
    historical_var: float
    historical_cvar: float
    parametric_var: float
    parametric_cvar: float
    cornish_fisher_var: float


@dataclass(frozen=True, slots=True)
class VaRReport:
    """VaR/CVaR table of one return series, see :func:`var_table`.

    Attributes
    ----------
    levels : tuple of VaRLevel
        One entry per requested confidence, in the requested order.
    n_observations : int
        Non-NaN returns the estimates use.
    period_label : str
        Name of one return period, used only in :meth:`rows` labels (e.g. ``"1d"``).
    """

    levels: tuple[VaRLevel, ...]
    n_observations: int
    period_label: str = "1 period"

    def at(self, confidence: float) -> VaRLevel:
        """The level computed for ``confidence``; ConfigError if it was not requested."""
        for level in self.levels:
            if math.isclose(level.confidence, confidence, rel_tol=0.0, abs_tol=1e-12):
                return level
        have = [lv.confidence for lv in self.levels]
        raise ConfigError(f"confidence {confidence!r} not in this VaR report (has {have})")

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a text report, values in percent with 2 decimals.

        Labels read e.g. ``"VaR 95% (1d, historical)"``, ``"CVaR 99% (1d, parametric)"``; per level:
        historical, parametric and Cornish-Fisher VaR, then historical and parametric CVaR.
        """
        out: list[tuple[str, str]] = []
        p = self.period_label
        for lv in self.levels:
            pct = _confidence_label(lv.confidence)
            out += [
                (f"VaR {pct} ({p}, historical)", f"{lv.historical_var:.2%}"),
                (f"VaR {pct} ({p}, parametric)", f"{lv.parametric_var:.2%}"),
                (f"VaR {pct} ({p}, Cornish-Fisher)", f"{lv.cornish_fisher_var:.2%}"),
                (f"CVaR {pct} ({p}, historical)", f"{lv.historical_cvar:.2%}"),
                (f"CVaR {pct} ({p}, parametric)", f"{lv.parametric_cvar:.2%}"),
            ]
        return out


def var_table(returns: ReturnsLike, confidences: Sequence[float] = (0.95, 0.99), *,
              period_label: str = "1 period") -> VaRReport:
    """Historical, parametric and Cornish-Fisher VaR and CVaR of one series at several confidences.

    Parameters
    ----------
    returns : array-like, shape (n,), float
        Periodic simple returns (ratios); NaNs are dropped.
    confidences : sequence of float, default (0.95, 0.99)
        Confidence levels in (0, 1); at least one.
    period_label : str, default "1 period"
        Name of one return period for the report labels (e.g. ``"1d"`` for daily returns).

    Returns
    -------
    VaRReport
        One :class:`VaRLevel` per confidence (one-period horizon), plus the observation count.

    Raises
    ------
    DataError
        Fewer than 2 non-NaN observations, infinite values or not 1-D.
    ConfigError
        No confidence given, or one not in (0, 1).
    """
    cs = tuple(_check_confidence(c) for c in confidences)
    if not cs:
        raise ConfigError("confidences must hold at least one level in (0, 1)")
    r = _as_returns(returns)
    levels = tuple(
        VaRLevel(confidence=c, historical_var=historical_var(r, c), historical_cvar=historical_cvar(r, c),
                 parametric_var=parametric_var(r, c), parametric_cvar=parametric_cvar(r, c),
                 cornish_fisher_var=cornish_fisher_var(r, c))
        for c in cs
    )
    return VaRReport(levels=levels, n_observations=len(r), period_label=period_label)


def daily_returns_from_equity(equity: pd.Series) -> pd.Series:
    """Calendar-day returns of an equity (or price) curve sampled at any frequency.

    The equity of UTC day ``d`` is the *last* non-NaN value stamped within ``[d 00:00, d+1 00:00)``
    UTC; days without any value carry the previous day's equity forward (a 0 return), so there is
    exactly one return per calendar day, matching a 365-day annualisation. ``r_d = E_d / E_{d-1} - 1``;
    the first day has no previous value and is dropped. Timestamps are used as given (for candles
    stamped by their open time, the close of the 23:00 candle is the day's last value); a tz-naive
    index is taken as UTC, other time zones are converted to UTC. Duplicated timestamps keep the
    last row (stable sort).

    Parameters
    ----------
    equity : Series of float
        Equity in quote currency (or prices), > 0; index a DatetimeIndex (UTC). NaNs are dropped.

    Returns
    -------
    Series of float64
        Daily simple returns (ratios), index the UTC midnight of each day (``datetime64[ns, UTC]``,
        daily frequency), name ``"return"``; empty when the curve spans fewer than 2 days.

    Raises
    ------
    DataError
        ``equity`` is not a Series with a DatetimeIndex, or holds non-positive or infinite values.
    """
    if not isinstance(equity, pd.Series) or not isinstance(equity.index, pd.DatetimeIndex):
        raise DataError("equity must be a pandas Series indexed by a DatetimeIndex of UTC timestamps")
    try:
        s = equity.astype(np.float64).dropna()
    except (TypeError, ValueError) as exc:
        raise DataError(f"equity must hold numbers: {exc}") from exc
    values = s.to_numpy()
    if not np.all(np.isfinite(values)) or np.any(values <= 0.0):
        raise DataError("equity must hold finite values > 0")
    idx = pd.DatetimeIndex(s.index)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    s = pd.Series(values, index=idx.as_unit("ns")).sort_index(kind="mergesort")
    if s.empty:
        return pd.Series([], index=pd.DatetimeIndex([], tz="UTC"), dtype=np.float64, name="return")
    last = s.groupby(s.index.floor("D")).last()
    days = pd.date_range(last.index[0], last.index[-1], freq="D")
    level = last.reindex(days).ffill().to_numpy()
    return pd.Series(level[1:] / level[:-1] - 1.0, index=days[1:], name="return")
