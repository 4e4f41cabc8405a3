"""The fusion engine: technical setup, model probability, sentiment, events and regime -> signal.

One vectorised implementation (:func:`fuse_frame`) serves backtests (a whole frame at once) and
live code (:class:`FusionEngine.fuse`, a one-row frame), so both decide identically.

Formula (per row ``t``; every input must already be causal, i.e. known at the close of ``t``)::

    c_i      component value in [-1, 1] (NaN = missing)
    score    = sum_i w_i c_i / sum_{i: c_i known} w_i          (0 when nothing is known)
    contrib_i = w_i c_i / sum_{j: c_j known} w_j               (sum_i contrib_i = score)
    long     if score >=  entry_threshold and no veto
    short    if score <= -entry_threshold, allow_short and no veto

Vetoes (checked in this order): fewer than ``min_components`` known components ("components"),
an active qualifying event ("event"), a regime listed in ``long_veto_regimes`` /
``short_veto_regimes`` ("regime"). ``confidence`` is ``|score|`` unless calibrated
(:mod:`atb.signals.calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from atb.errors import DataError
from atb.signals.config import FusionConfig
from atb.signals.models import COMPONENTS, Direction, TradingSignal

__all__ = ["FusionEngine", "fuse_frame", "model_component", "regime_component"]

ArrayLike: TypeAlias = pd.Series | np.ndarray | list[Any] | None


def model_component(proba_up: ArrayLike, proba_down: ArrayLike = None) -> np.ndarray:
    """Model component in ``[-1, 1]`` from class probabilities.

    ``2 * p_up - 1`` for a binary up/down model, ``p_up - p_down`` for an up/flat/down model.
    NaN probabilities (no model yet, warm-up) stay NaN.

    Examples
    --------
    >>> model_component([0.75, np.nan]).tolist()
    [0.5, nan]
    >>> model_component([0.6], [0.1]).tolist()
    [0.5]
    """
    up = np.asarray(proba_up, dtype=np.float64)
    if proba_down is None:
        return 2.0 * up - 1.0
    return up - np.asarray(proba_down, dtype=np.float64)


def regime_component(labels: ArrayLike, scores: Mapping[str, float], n: int) -> np.ndarray:
    """Regime labels -> component values via ``scores`` (unknown/None labels -> NaN)."""
    if labels is None:
        return np.full(n, np.nan)
    vals = pd.Series(labels).to_numpy(dtype=object)
    out = np.full(len(vals), np.nan)
    for i, lab in enumerate(vals):
        key = getattr(lab, "value", lab)
        if isinstance(key, str) and key in scores:
            out[i] = scores[key]
    return out


def _column(values: ArrayLike, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise DataError(f"fusion input {name!r}: expected {n} values, got shape {arr.shape}")
    return arr


def _veto_mask(labels: ArrayLike, regimes: list[str], n: int) -> np.ndarray:
    if labels is None or not regimes:
        return np.zeros(n, dtype=bool)
    vals = pd.Series(labels).to_numpy(dtype=object)
    return np.array([getattr(v, "value", v) in regimes for v in vals], dtype=bool)


def fuse_frame(config: FusionConfig, n: int, *, technical: ArrayLike = None, model: ArrayLike = None,
               sentiment: ArrayLike = None, regime: ArrayLike = None,
               event_veto: ArrayLike = None) -> pd.DataFrame:
    """Fuse aligned component columns row by row.

    Parameters
    ----------
    config : FusionConfig
    n : int
        Number of rows (every given input must have this length).
    technical : array-like of float, optional
        Technical setup score in ``[-1, 1]`` (clipped), e.g. a strategy's own entry logic.
    model : array-like of float, optional
        Model component in ``[-1, 1]`` (see :func:`model_component`).
    sentiment : array-like of float, optional
        Aggregated sentiment (``atb.sentiment.signal``), scaled by ``config.sentiment_scale``.
    regime : array-like of str, optional
        Regime labels (``bull``/``bear``/``range``/...; None in warm-up).
    event_veto : array-like of bool, optional
        True where a qualifying event is active (``atb.sentiment.events.event_veto_series``).

    Returns
    -------
    DataFrame
        ``n`` rows, RangeIndex: ``fusion_<component>`` (values), ``contrib_<component>``,
        ``fusion_score`` (float64), ``fusion_direction`` (int8: -1/0/1), ``fusion_confidence``
        (``|score|``), ``fusion_veto`` (object: None or the veto name), ``fusion_emergency``
        (bool), ``fusion_components`` (int: known components).

    Raises
    ------
    DataError
        An input of the wrong length.
    """
    comp = {
        "technical": np.clip(_column(technical, n, "technical"), -1.0, 1.0),
        "model": np.clip(_column(model, n, "model"), -1.0, 1.0),
        "sentiment": np.clip(_column(sentiment, n, "sentiment") / config.sentiment_scale, -1.0, 1.0),
        "regime": regime_component(regime, config.regime_scores, n),
    }
    if len(comp["regime"]) != n:
        raise DataError(f"fusion input 'regime': expected {n} values, got {len(comp['regime'])}")
    w = config.weights
    known = {c: ~np.isnan(comp[c]) & (w[c] > 0.0) for c in COMPONENTS}
    wsum = sum(np.where(known[c], w[c], 0.0) for c in COMPONENTS)
    safe = np.where(wsum > 0, wsum, 1.0)
    out: dict[str, Any] = {}
    score = np.zeros(n)
    for c in COMPONENTS:
        contrib = np.where(known[c], w[c] * np.nan_to_num(comp[c]), 0.0) / safe
        out[f"fusion_{c}"] = comp[c]
        out[f"contrib_{c}"] = contrib
        score += contrib
    n_known = sum(known[c].astype(np.int64) for c in COMPONENTS)
    events = (np.zeros(n, dtype=bool) if event_veto is None
              else np.asarray(pd.Series(event_veto).fillna(False), dtype=bool))
    if events.shape != (n,):
        raise DataError(f"fusion input 'event_veto': expected {n} values, got {events.shape}")
    veto = np.full(n, None, dtype=object)
    long_raw = score >= config.entry_threshold
    short_raw = config.allow_short & (score <= -config.entry_threshold)
    wants = long_raw | short_raw
    regime_block = np.where(long_raw, _veto_mask(regime, config.long_veto_regimes, n),
                            _veto_mask(regime, config.short_veto_regimes, n))
    veto[wants & regime_block] = "regime"
    if config.event_veto:
        veto[wants & events] = "event"
    veto[wants & (n_known < config.min_components)] = "components"
    ok = pd.isna(veto)
    direction = np.where(long_raw & ok, 1, np.where(short_raw & ok, -1, 0)).astype(np.int8)
    out.update({
        "fusion_score": score,
        "fusion_direction": direction,
        "fusion_confidence": np.abs(score),
        "fusion_veto": pd.Series(veto, dtype=object),
        "fusion_emergency": events & config.emergency_exit_on_event,
        "fusion_components": n_known,
    })
    return pd.DataFrame(out)


class FusionEngine:
    """Live face of :func:`fuse_frame`: one row of components -> :class:`TradingSignal`.

    Parameters
    ----------
    config : FusionConfig, optional
        Default :class:`FusionConfig()`.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> sig = FusionEngine().fuse("BTC/USDT", datetime(2024, 1, 1, tzinfo=UTC),
    ...                           technical=1.0, model=0.5, regime="bull")
    >>> int(sig.direction), round(sig.score, 4)
    (1, 0.8125)
    """

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()

    def fuse(self, pair: str, time: datetime, *, technical: float | None = None,
             model: float | None = None, sentiment: float | None = None,
             regime: str | None = None, event_veto: bool = False,
             confidence: float | None = None) -> TradingSignal:
        """Fuse one candle's components (each known at ``time``) into a signal.

        ``confidence`` overrides ``|score|`` (e.g. a calibrated probability).
        """
        def one(x: float | None) -> list[float]:
            return [np.nan if x is None else float(x)]

        row = fuse_frame(self.config, 1, technical=one(technical), model=one(model),
                         sentiment=one(sentiment), regime=[regime], event_veto=[event_veto]).iloc[0]
        return TradingSignal(
            pair=pair, time=time, direction=Direction(int(row["fusion_direction"])),
            score=float(row["fusion_score"]),
            confidence=float(row["fusion_confidence"] if confidence is None else confidence),
            components={c: float(row[f"fusion_{c}"]) for c in COMPONENTS},
            contributions={c: float(row[f"contrib_{c}"]) for c in COMPONENTS},
            veto=row["fusion_veto"], emergency_exit=bool(row["fusion_emergency"]),
        )
