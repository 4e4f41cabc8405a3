"""Training labels: forward returns, return classes, triple-barrier labels. TRAINING ONLY.

Labels look into the future by definition. Live and paper code must never import this module
(it is deliberately not re-exported from :mod:`atb.features`); only training code does.

Every :class:`LabelSet` carries, per row t, ``known_at[t]``: the index of the candle whose close
reveals the label (-1 while unknown). A training set for a model that predicts at row p may only
use rows with ``0 <= known_at <= p`` (purging, López de Prado 2018, ch. 7.4).

Label dtype: ``values`` is always float64 with NaN for unknown labels (classes are -1.0, 0.0,
1.0); ``known_at`` is int64 with -1 for unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from atb._typing import Float64Array, Int64Array
from atb.errors import ConfigError, DataError
from atb.features._labels_nb import triple_barrier_nb

__all__ = ["LabelSet", "forward_return", "return_classes", "triple_barrier"]

ArrayLike: TypeAlias = pd.Series | np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LabelSet:
    """Labels of one series with the row at which each becomes known.

    Attributes
    ----------
    values : ndarray
        float64, shape ``(n,)``; NaN where unknown.
    known_at : ndarray
        int64, shape ``(n,)``; row index whose candle close reveals the label, -1 if unknown.
        Always ``> t`` for a known label at row t.
    kind : str
        ``"forward_return"``, ``"return_classes"`` or ``"triple_barrier"``.
    params : Mapping[str, float | int | str]
        Parameters that produced the labels (horizon, barriers, ...).
    realised : ndarray or None
        float64 return (ratio) at the deciding candle (triple barrier only), NaN if unknown.
    """

    values: Float64Array
    known_at: Int64Array
    kind: str
    params: Mapping[str, float | int | str] = field(default_factory=dict)
    realised: Float64Array | None = None

    def __post_init__(self) -> None:
        if self.values.dtype != np.float64 or self.known_at.dtype != np.int64:
            raise DataError("LabelSet: values must be float64 and known_at int64")
        if self.values.shape != self.known_at.shape or (
                self.realised is not None and self.realised.shape != self.values.shape):
            raise DataError("LabelSet: values, known_at and realised differ in shape")
        if np.any(np.isnan(self.values) != (self.known_at < 0)):
            raise DataError("LabelSet: a label is NaN exactly when known_at is -1")

    @property
    def known(self) -> np.ndarray:
        """Boolean mask, shape ``(n,)``: rows whose label is known."""
        return self.known_at >= 0


def _as_f64(name: str, values: ArrayLike) -> Float64Array:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-d series, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _check_horizon(horizon: int) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon: must be an integer >= 1, got {horizon!r}")


def forward_return(close: ArrayLike, horizon: int) -> LabelSet:
    """Forward return ``close[t + h] / close[t] - 1`` (ratio), known at row ``t + h``.

    Parameters
    ----------
    close : Series or ndarray
        Close prices in quote currency, shape ``(n,)``.
    horizon : int
        h, candles ahead, >= 1.

    Returns
    -------
    LabelSet
        ``values`` NaN for the last h rows (and where a close is NaN); ``known_at = t + h``.

    Raises
    ------
    ConfigError
        ``horizon`` < 1.

    Examples
    --------
    >>> ls = forward_return([100.0, 110.0, 99.0], 1)
    >>> ls.values.round(2).tolist(), ls.known_at.tolist()
    ([0.1, -0.1, nan], [1, 2, -1])
    """
    _check_horizon(horizon)
    c = _as_f64("close", close)
    n = len(c)
    values = np.full(n, np.nan)
    if horizon < n:
        values[:-horizon] = c[horizon:] / c[:-horizon] - 1.0
    values[~np.isfinite(values)] = np.nan
    known_at = np.where(np.isnan(values), -1, np.arange(n, dtype=np.int64) + horizon).astype(np.int64)
    return LabelSet(values=values, known_at=known_at, kind="forward_return", params={"horizon": int(horizon)})


def return_classes(returns: LabelSet | ArrayLike, up: float, down: float, *,
                   known_at: Int64Array | None = None) -> LabelSet:
    """Classify returns: 1 if ``ret > up``, -1 if ``ret < -down``, else 0; unknown stays NaN.

    Parameters
    ----------
    returns : LabelSet or Series or ndarray
        Returns as ratios, usually :func:`forward_return` output (its ``known_at`` is kept).
    up, down : float
        Thresholds as ratios, >= 0 (``down`` is a positive distance below 0).
    known_at : ndarray, optional
        int64 rows at which each return becomes known; required when ``returns`` is an array.

    Returns
    -------
    LabelSet
        ``values`` float64 in {-1.0, 0.0, 1.0}, NaN where the return is unknown.

    Raises
    ------
    ConfigError
        ``up`` or ``down`` negative; ``known_at`` missing for an array input or of other length.

    Examples
    --------
    >>> return_classes(forward_return([100.0, 102.0, 100.0, 100.5], 1), 0.01, 0.01).values.tolist()
    [1.0, -1.0, 0.0, nan]
    """
    for name, value in (("up", up), ("down", down)):
        if not np.isfinite(value) or value < 0:
            raise ConfigError(f"{name}: must be a finite ratio >= 0, got {value!r}")
    if isinstance(returns, LabelSet):
        ret, known = returns.values, returns.known_at
    else:
        ret = _as_f64("returns", returns)
        if known_at is None:
            raise ConfigError("known_at: required when returns is an array (pass a LabelSet instead)")
        known = np.asarray(known_at, dtype=np.int64)
        if known.shape != ret.shape:
            raise ConfigError(f"known_at: shape {known.shape} differs from returns {ret.shape}")
    values = np.where(ret > up, 1.0, np.where(ret < -down, -1.0, 0.0))
    unknown = np.isnan(ret) | (known < 0)
    values[unknown] = np.nan
    known = np.where(unknown, -1, known).astype(np.int64)
    return LabelSet(values=values, known_at=known, kind="return_classes",
                    params={"up": float(up), "down": float(down)})


def triple_barrier(close: ArrayLike, high: ArrayLike, low: ArrayLike, *, horizon: int,
                   take_profit: float, stop_loss: float, volatility: ArrayLike | None = None,
                   vertical: Literal["zero", "sign"] = "zero") -> LabelSet:
    """Triple-barrier labels after López de Prado (2018), *Advances in Financial ML*, ch. 3.4.

    At row t (decision at the close of candle t) the barriers are
    ``close[t] * (1 + take_profit * s)`` and ``close[t] * (1 - stop_loss * s)`` with
    ``s = volatility[t]`` if given, else 1. Candles t+1 .. t+horizon are walked using their
    high/low; the first touch decides: +1 take profit, -1 stop loss. If both are touched in the
    same candle the stop counts (pessimistic: the order inside a candle is unknown). Without a
    touch the vertical barrier at t+horizon gives 0 (``vertical="zero"``) or the sign of
    ``close[t+horizon] / close[t] - 1`` (``vertical="sign"``).

    Parameters
    ----------
    close, high, low : Series or ndarray
        Prices in quote currency, shape ``(n,)``, equal lengths.
    horizon : int
        Vertical barrier in candles, >= 1.
    take_profit, stop_loss : float
        Barrier widths as ratios (multiples of ``volatility`` when given), > 0.
    volatility : Series or ndarray, optional
        Per-row scale, e.g. a causal volatility estimate at t (ratio); NaN or <= 0 gives an
        unknown label.
    vertical : {"zero", "sign"}
        Label at the vertical barrier.

    Returns
    -------
    LabelSet
        ``values`` in {-1.0, 0.0, 1.0}, NaN where unknown (no touch and the window runs past the
        data); ``known_at`` = the touching candle's row (or t+horizon); ``realised`` = return at
        the decision: ``+take_profit * s`` / ``-stop_loss * s`` at a barrier (barrier price, no
        gap slippage), ``close[t+horizon] / close[t] - 1`` at the vertical barrier.

    Raises
    ------
    ConfigError
        ``horizon`` < 1, a barrier <= 0, unknown ``vertical`` (names the parameter).
    DataError
        Inputs of different lengths.

    Examples
    --------
    >>> ls = triple_barrier([100.0, 101.0, 103.0], [100.0, 101.5, 104.0], [100.0, 100.5, 102.0],
    ...                     horizon=2, take_profit=0.02, stop_loss=0.02)
    >>> ls.values.tolist(), ls.known_at.tolist()
    ([1.0, 1.0, nan], [2, 2, -1])
    """
    _check_horizon(horizon)
    for name, value in (("take_profit", take_profit), ("stop_loss", stop_loss)):
        if not np.isfinite(value) or value <= 0:
            raise ConfigError(f"{name}: must be a ratio > 0, got {value!r}")
    if vertical not in ("zero", "sign"):
        raise ConfigError(f"vertical: must be 'zero' or 'sign', got {vertical!r}")
    c, h, lo = _as_f64("close", close), _as_f64("high", high), _as_f64("low", low)
    scale = np.ones_like(c) if volatility is None else _as_f64("volatility", volatility)
    for name, arr in (("high", h), ("low", lo), ("volatility", scale)):
        if len(arr) != len(c):
            raise DataError(f"{name}: length {len(arr)} differs from close ({len(c)})")
    values, known_at, realised = triple_barrier_nb(c, h, lo, scale, int(horizon), float(take_profit),
                                                   float(stop_loss), vertical == "sign")
    return LabelSet(values=values, known_at=known_at, kind="triple_barrier", realised=realised,
                    params={"horizon": int(horizon), "take_profit": float(take_profit),
                            "stop_loss": float(stop_loss), "vertical": vertical,
                            "volatility": "given" if volatility is not None else "none"})
