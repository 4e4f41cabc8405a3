"""Strategy-side helpers: put fused signals into a strategy frame and summarise contributions.

A strategy computes its components in ``populate_indicators`` and calls :func:`apply_fusion`;
``populate_entry_trend`` / ``populate_exit_trend`` then call :func:`set_entry_signals` /
:func:`set_exit_signals`. Rows with a CRITICAL event get ``emergency_exit = 1``, which the
backtest kernel executes like a risk-engine flatten at the next candle's open (reason
``emergency_exit``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from atb.signals.calibration import calibrated_confidence
from atb.signals.config import FusionConfig
from atb.signals.fusion import ArrayLike, fuse_frame
from atb.signals.models import COMPONENTS

__all__ = ["apply_fusion", "contribution_summary", "set_entry_signals", "set_exit_signals"]


def apply_fusion(dataframe: pd.DataFrame, config: FusionConfig, *, technical: ArrayLike = None,
                 model: ArrayLike = None, sentiment: ArrayLike = None, regime: ArrayLike = None,
                 event_veto: ArrayLike = None, calibrate_horizon: int | None = None) -> pd.DataFrame:
    """Return ``dataframe`` with the :func:`~atb.signals.fusion.fuse_frame` columns added.

    Inputs are aligned by position with ``dataframe``'s rows. With ``calibrate_horizon``,
    ``fusion_confidence`` becomes the causal calibrated probability
    (:func:`~atb.signals.calibration.calibrated_confidence` on ``close``).
    """
    def col(x: ArrayLike) -> ArrayLike:
        return x.to_numpy() if isinstance(x, pd.Series) else x

    fused = fuse_frame(config, len(dataframe), technical=col(technical), model=col(model),
                       sentiment=col(sentiment), regime=col(regime), event_veto=col(event_veto))
    if calibrate_horizon is not None:
        fused["fusion_confidence"] = calibrated_confidence(
            fused["fusion_score"].to_numpy(), dataframe["close"].to_numpy(dtype=np.float64),
            horizon=calibrate_horizon)
    fused.index = dataframe.index
    out = dataframe.drop(columns=[c for c in fused.columns if c in dataframe.columns])
    return pd.concat([out, fused], axis=1)


def set_entry_signals(dataframe: pd.DataFrame, tag: str = "fusion",
                      min_confidence: float = 0.0) -> pd.DataFrame:
    """Set ``enter_long`` / ``enter_short`` (and ``enter_tag``) from ``fusion_direction``.

    ``min_confidence`` additionally requires ``fusion_confidence >= min_confidence`` (NaN fails).
    """
    conf_ok = dataframe["fusion_confidence"].fillna(-1.0) >= min_confidence
    longs = (dataframe["fusion_direction"] == 1) & conf_ok
    shorts = (dataframe["fusion_direction"] == -1) & conf_ok
    dataframe.loc[longs, ["enter_long", "enter_tag"]] = (1, f"{tag}_long")
    dataframe.loc[shorts, ["enter_short", "enter_tag"]] = (1, f"{tag}_short")
    return dataframe


def set_exit_signals(dataframe: pd.DataFrame, config: FusionConfig,
                     tag: str = "fusion") -> pd.DataFrame:
    """Set ``exit_long`` / ``exit_short`` from the score and ``emergency_exit`` from events."""
    score = dataframe["fusion_score"]
    dataframe.loc[score <= -config.exit_threshold, ["exit_long", "exit_tag"]] = (1, f"{tag}_exit")
    dataframe.loc[score >= config.exit_threshold, ["exit_short", "exit_tag"]] = (1, f"{tag}_exit")
    dataframe["emergency_exit"] = dataframe["fusion_emergency"].astype(np.int8)
    return dataframe


def contribution_summary(dataframe: pd.DataFrame) -> dict[str, Any]:
    """One report row: how each component drove the entries of a fused frame.

    Returns
    -------
    dict
        ``entries`` (rows with a long/short direction), ``mean_score`` on them,
        ``share_<component>`` (mean ``|contribution|`` on entry rows / sum over components,
        ratio), ``veto_event``, ``veto_regime``, ``veto_components`` (rows whose entry was
        vetoed) and ``emergency_rows``.
    """
    entries = dataframe["fusion_direction"] != 0
    row: dict[str, Any] = {"entries": int(entries.sum()),
                           "mean_score": float(dataframe.loc[entries, "fusion_score"].mean())
                           if entries.any() else float("nan")}
    mags = {c: float(dataframe.loc[entries, f"contrib_{c}"].abs().mean()) if entries.any() else 0.0
            for c in COMPONENTS}
    total = sum(mags.values())
    for c in COMPONENTS:
        row[f"share_{c}"] = mags[c] / total if total > 0 else float("nan")
    veto = dataframe["fusion_veto"]
    for kind in ("event", "regime", "components"):
        row[f"veto_{kind}"] = int((veto == kind).sum())
    row["emergency_rows"] = int(dataframe["fusion_emergency"].sum())
    return row
