"""Gaussian hidden-Markov-model regime detector with walk-forward refits and filtered probabilities."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atb.errors import ConfigError
from atb.regime._common import candle_dates, check_int, label_series, log_returns, positive_closes
from atb.regime.models import Regime

__all__ = ["HmmRegimeDetector"]

_REGIMES: tuple[str, ...] = (Regime.BULL.value, Regime.BEAR.value, Regime.RANGE.value)
_COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
_VOL_FLOOR = 1e-12


def _gaussian_hmm_class() -> Any:
    """Import ``hmmlearn.hmm.GaussianHMM`` lazily (optional dependency, ``atb[regime]``)."""
    try:
        from hmmlearn.hmm import GaussianHMM
    except ImportError as exc:
        raise ConfigError("HmmRegimeDetector: needs the optional package 'hmmlearn' "
                          "(pip install 'atb[regime]')") from exc
    return GaussianHMM


@contextmanager
def _quiet_hmmlearn() -> Iterator[None]:
    """Mute hmmlearn's per-fit "Model is not converging" log lines (tiny EM likelihood dips)."""
    logger = logging.getLogger("hmmlearn.base")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass(frozen=True)
class _Fitted:
    """One fitted model: feature scaling, HMM parameters (standardised units), state -> regime."""

    mu: np.ndarray          # (2,) training feature means
    sd: np.ndarray          # (2,) training feature standard deviations
    startprob: np.ndarray   # (K,)
    transmat: np.ndarray    # (K, K), rows sum to 1
    means: np.ndarray       # (K, 2)
    covars: np.ndarray      # (K, 2, 2) full matrices
    regime_of_state: np.ndarray  # (K,) int index into _REGIMES
    last_filtered: np.ndarray    # (K,) P(state | all training rows) at the last training row


def _state_regimes(mean_return: np.ndarray) -> np.ndarray:
    """Highest mean log-return -> bull, lowest -> bear, the rest -> range (2 states: bull/bear)."""
    order = np.argsort(mean_return, kind="stable")
    out = np.full(mean_return.size, 2, dtype=np.int64)
    out[order[0]] = 1
    out[order[-1]] = 0
    return out


def _log_emissions(fitted: _Fitted, xs: np.ndarray) -> np.ndarray:
    """``log N(x_t; mean_k, cov_k)`` for standardised features ``xs`` (n, d) -> (n, K).

    Mahalanobis terms use each (d, d) inverse through ``einsum`` (no threaded BLAS call per row
    block, which is slow on busy machines).
    """
    n, d = xs.shape
    out = np.empty((n, fitted.means.shape[0]))
    for k, (mean, cov) in enumerate(zip(fitted.means, fitted.covars, strict=True)):
        _, logdet = np.linalg.slogdet(cov)
        diff = xs - mean
        maha = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
        out[:, k] = -0.5 * (d * np.log(2.0 * np.pi) + logdet + maha)
    return out


def _forward_filter(fitted: _Fitted, xs: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Filtered state probabilities ``P(s_t = k | x_..t)`` for the rows of ``xs``, shape (n, K).

    Normalised forward recursion (Rabiner 1989, eqs. 19-20 with the scaling of section V.A):
    ``alpha_t = (alpha_{t-1} A) * b(x_t)`` renormalised to sum 1, starting from ``alpha_{-1} =
    prior`` (the filtered distribution of the row before ``xs``). Emissions are evaluated in log
    space and shifted by their row maximum before ``exp``, so nothing underflows; the shift cancels
    in the normalisation. Row ``t`` uses rows ``<= t`` only.
    """
    log_b = _log_emissions(fitted, xs)
    b = np.exp(log_b - log_b.max(axis=1, keepdims=True))
    a = fitted.transmat
    out = np.empty_like(b)
    alpha = prior
    for t in range(b.shape[0]):
        alpha = (alpha @ a) * b[t]
        total = alpha.sum()
        if not total > 0.0:  # every predicted state impossible: restart from the emissions alone
            alpha, total = b[t].copy(), b[t].sum()
        alpha = alpha / total
        out[t] = alpha
    return out


def _cold_start(xs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Deterministic initial parameters: rows split into ``k`` equal groups by the volatility feature.

    Group means and covariances (+ 1e-3 on the diagonal) seed the emissions, the start
    distribution is uniform and the transition matrix keeps a state with probability 0.95.
    """
    groups = np.array_split(np.argsort(xs[:, 1], kind="stable"), k)
    means = np.stack([xs[g].mean(axis=0) for g in groups])
    eye = np.eye(xs.shape[1])
    covars = np.stack([np.cov(xs[g].T, bias=True) + 1e-3 * eye for g in groups])
    transmat = np.full((k, k), 0.05 / (k - 1))
    np.fill_diagonal(transmat, 0.95)
    return np.full(k, 1.0 / k), transmat, means, covars


def _warm_start(prev: _Fitted, mu: np.ndarray, sd: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The previous fit's parameters re-expressed in the new window's standardised units."""
    means = (prev.means * prev.sd + prev.mu - mu) / sd
    covars = prev.covars * np.outer(prev.sd, prev.sd) / np.outer(sd, sd)
    return prev.startprob, prev.transmat, means, covars


def _native_covars(full: np.ndarray, covariance_type: str) -> np.ndarray:
    """Full (K, d, d) matrices in the shape hmmlearn expects for ``covariance_type``."""
    if covariance_type == "diag":
        return np.stack([np.diag(c) for c in full])
    if covariance_type == "spherical":
        return np.array([np.diag(c).mean() for c in full])
    if covariance_type == "tied":
        return full.mean(axis=0)
    return full


@dataclass(frozen=True)
class HmmRegimeDetector:
    """Bull/bear/range from a Gaussian HMM refitted walk-forward, labelled by FILTERED probabilities.

    Features (per row ``t``, consecutive rows; a data gap is one step):

    * ``r_t = ln(close_t / close_{t-1})`` (log return per candle);
    * ``v_t = ln(max(std(r_{t-w+1..t}, ddof=1), 1e-12))`` with ``w = vol_window`` (log of the
      rolling realised volatility); both defined from row ``vol_window``.

    Walk-forward (all counts in rows): predictions start ``min_train`` rows after the first row with
    features, in blocks of ``refit_every`` rows at fixed positions. For a block starting at row
    ``s`` a ``hmmlearn.hmm.GaussianHMM`` is fitted by Baum-Welch on the features of rows
    ``[s - train_window, s)`` (``train_window=None``: all earlier rows), standardised with that
    window's mean and std. The first fit starts from a deterministic split of the rows into
    ``n_states`` equal groups by the volatility feature; every later fit warm-starts from the
    previous block's model (re-expressed in the new scaling), which needs few EM iterations.
    Filtering: the distribution of the state at row ``s - 1`` is hmmlearn's posterior of the last
    training row (for the last row of a sequence the smoothed posterior IS the filtered one,
    Rabiner 1989, since ``beta_T = 1``); from there our own forward recursion with the fitted
    ``transmat_`` and Gaussian densities runs through the block (:func:`_forward_filter`). So row
    ``t`` gets ``P(state | x_..t)``: nothing at or after ``s`` is used for fitting and nothing
    after ``t`` for row ``t``. If a fit fails (degenerate covariance) the previous model continues.

    States -> regimes: the state with the highest mean log return is ``bull``, the lowest ``bear``,
    any other ``range`` (``n_states=2``: bull and bear only). A row's label is the regime with the
    largest summed filtered probability (ties: bull, bear, range).

    Runtime (measured on 2 CPUs): 18,500 1h BTC/USDT candles (2024-01 to 2026-02) with the
    defaults (106 refits) take about 1.2 s, 1.8 s with the other CPU busy; ``covariance_type="full"``
    takes about 2.2 s idle but up to 10 s on a busy machine (hmmlearn's full-covariance density
    calls threaded BLAS triangular solves), hence the ``"diag"`` default.

    Parameters
    ----------
    n_states : int, default 3
        Hidden states (>= 2).
    train_window : int or None, default 2160
        Training rows before each block (2160 = 90 days of 1h candles); ``None`` = expanding.
    refit_every : int, default 168
        Block length in rows between refits (168 = one week of 1h candles).
    min_train : int, default 720
        Feature rows required before the first prediction (>= 10 * n_states; <= ``train_window``).
    vol_window : int, default 24
        Rows in the realised-volatility feature (>= 2).
    covariance_type : {"diag", "full", "spherical", "tied"}, default "diag"
        Emission covariance form (hmmlearn); on the synthetic test regimes diag and full agree.
    n_iter : int, default 25
        Maximum Baum-Welch iterations per fit.
    tol : float, default 1e-2
        Log-likelihood convergence threshold of each fit.
    random_state : int, default 0
        Seed passed to hmmlearn. Initialisation is deterministic anyway (no k-means), so equal
        inputs always give equal labels.
    name : str, default "hmm"

    Raises
    ------
    ConfigError
        On construction, for a parameter out of range (named in the message) or when ``hmmlearn``
        is not installed.
    """

    n_states: int = 3
    train_window: int | None = 2160
    refit_every: int = 168
    min_train: int = 720
    vol_window: int = 24
    covariance_type: str = "diag"
    n_iter: int = 25
    tol: float = 1e-2
    random_state: int = 0
    name: str = "hmm"

    def __post_init__(self) -> None:
        owner = "HmmRegimeDetector"
        check_int(owner, "n_states", self.n_states, 2)
        check_int(owner, "refit_every", self.refit_every, 1)
        check_int(owner, "min_train", self.min_train, 10 * self.n_states)
        if self.train_window is not None:
            check_int(owner, "train_window", self.train_window, self.min_train)
        check_int(owner, "vol_window", self.vol_window, 2)
        check_int(owner, "n_iter", self.n_iter, 1)
        check_int(owner, "random_state", self.random_state, 0)
        if self.covariance_type not in _COVARIANCE_TYPES:
            raise ConfigError(f"{owner}.covariance_type: must be one of {_COVARIANCE_TYPES}, "
                              f"got {self.covariance_type!r}")
        if not (isinstance(self.tol, int | float) and self.tol > 0):
            raise ConfigError(f"{owner}.tol: must be a number > 0, got {self.tol!r}")
        _gaussian_hmm_class()

    def features(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Model inputs per row: ``log_return`` and ``log_vol`` (float64, ``RangeIndex``, NaN warm-up).

        Raises
        ------
        DataError
            If ``date``/``close`` are missing, unsorted, or prices are not finite and positive.
        """
        candle_dates(candles)
        r = pd.Series(log_returns(positive_closes(candles)))
        vol = r.rolling(self.vol_window, min_periods=self.vol_window).std(ddof=1)
        return pd.DataFrame({"log_return": r, "log_vol": np.log(vol.clip(lower=_VOL_FLOOR))})

    def _fit(self, x: np.ndarray, previous: _Fitted | None) -> _Fitted | None:
        """Fit on raw features ``x`` (n, 2); warm-start from ``previous``, else a cold start."""
        mu, sd = x.mean(axis=0), x.std(axis=0)
        sd = np.where(sd > 0.0, sd, 1.0)
        xs = (x - mu) / sd
        starts = [_warm_start(previous, mu, sd), _cold_start(xs, self.n_states)] if previous else [
            _cold_start(xs, self.n_states)]
        for startprob, transmat, means, covars in starts:
            model = _gaussian_hmm_class()(
                n_components=self.n_states, covariance_type=self.covariance_type, n_iter=self.n_iter,
                tol=self.tol, random_state=self.random_state, init_params="", params="stmc",
                implementation="scaling")
            try:
                model.startprob_, model.transmat_, model.means_ = startprob, transmat, means
                model.covars_ = _native_covars(covars, self.covariance_type)
                with warnings.catch_warnings(), _quiet_hmmlearn():
                    warnings.simplefilter("ignore")
                    model.fit(xs)
                fitted_covars = np.asarray(model.covars_, dtype=np.float64)
                np.linalg.cholesky(fitted_covars)
                # smoothed posterior of the LAST row = its filtered probability (beta_T = 1)
                last = np.asarray(model.predict_proba(xs)[-1], dtype=np.float64)
            except (ValueError, np.linalg.LinAlgError):
                continue
            fitted_means = np.asarray(model.means_, dtype=np.float64)
            if not (np.isfinite(fitted_means).all() and np.isfinite(model.transmat_).all()
                    and np.isfinite(last).all()):
                continue
            return _Fitted(mu=mu, sd=sd, startprob=np.asarray(model.startprob_, dtype=np.float64),
                           transmat=np.asarray(model.transmat_, dtype=np.float64), means=fitted_means,
                           covars=fitted_covars, regime_of_state=_state_regimes(fitted_means[:, 0]),
                           last_filtered=last)
        return None

    def predict_proba(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Filtered regime probabilities per row.

        Returns
        -------
        DataFrame
            ``RangeIndex`` aligned with ``candles`` rows; float64 columns ``bull``, ``bear``,
            ``range`` (sum 1 per row; ``range`` is 0 with ``n_states=2``); NaN rows before the
            first prediction or while no fit has succeeded.

        Raises
        ------
        DataError
            As :meth:`features`.
        """
        x = self.features(candles).to_numpy()
        n = x.shape[0]
        probs = np.full((n, len(_REGIMES)), np.nan)
        first = self.vol_window
        fitted: _Fitted | None = None
        state_p = np.empty((0, 0))
        for start in range(first + self.min_train, n, self.refit_every):
            lo = first if self.train_window is None else max(first, start - self.train_window)
            refit = self._fit(x[lo:start], fitted)
            if refit is None and fitted is None:
                continue
            # a fresh model starts from its filtered state at row start - 1; a reused one (failed
            # refit) continues from its own filtered state at the end of the previous block
            prior = refit.last_filtered if refit is not None else state_p[-1]
            fitted = refit or fitted
            assert fitted is not None
            end = min(start + self.refit_every, n)
            state_p = _forward_filter(fitted, (x[start:end] - fitted.mu) / fitted.sd, prior)
            regime_p = np.zeros((end - start, len(_REGIMES)))
            for k, reg in enumerate(fitted.regime_of_state):
                regime_p[:, reg] += state_p[:, k]
            probs[start:end] = regime_p
        return pd.DataFrame(probs, columns=list(_REGIMES))

    def detect(self, candles: pd.DataFrame) -> pd.Series:
        """Regime label per row: ``"bull"``, ``"bear"``, ``"range"`` or ``None`` (warm-up).

        Returns
        -------
        Series
            dtype object, ``RangeIndex`` aligned with ``candles`` rows; the arg-max of
            :meth:`predict_proba` per row.

        Raises
        ------
        DataError
            As :meth:`features`.
        """
        probs = self.predict_proba(candles).to_numpy()
        out: list[str | None] = [None] * probs.shape[0]
        for i in np.flatnonzero(~np.isnan(probs).any(axis=1)):
            out[i] = _REGIMES[int(np.argmax(probs[i]))]
        return label_series(out, self.name)
