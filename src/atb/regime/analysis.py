"""Regime attribution: how a strategy's trades did in each regime, and time spent in each."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from atb.errors import DataError
from atb.regime.models import REGIME_ORDER, UNKNOWN

__all__ = ["performance_by_regime", "time_in_regime"]

_COLUMNS = ("trades", "wins", "losses", "win_rate", "profit_abs", "profit_mean_ratio",
            "profit_total_share")


def _name(v: Any) -> str | None:
    if isinstance(v, Enum):
        v = v.value
    return v if isinstance(v, str) else None


def _ordered(names: Iterable[str]) -> list[str]:
    """``REGIME_ORDER`` first, then other names sorted, ``UNKNOWN`` last."""
    present = set(names)
    head = [r for r in REGIME_ORDER if r in present]
    tail = sorted(present - set(REGIME_ORDER) - {UNKNOWN})
    return head + tail + ([UNKNOWN] if UNKNOWN in present else [])


def _label_index(labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Label times as int64 UTC ns (sorted) and label names (object, None where undetermined)."""
    if not isinstance(labels, pd.Series) or not isinstance(labels.index, pd.DatetimeIndex):
        raise DataError("labels: expected a Series indexed by candle dates (DatetimeIndex, UTC)")
    idx = labels.index
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    order = np.argsort(idx.asi8, kind="stable")
    names = np.array([_name(v) for v in labels.to_numpy(dtype=object)], dtype=object)
    return idx.as_unit("ns").asi8[order], names[order]


def performance_by_regime(trades: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Trade statistics per regime, each trade attributed to the regime at its open time.

    A trade gets the last label at or before its ``open_date`` (backward as-of join, exact match
    allowed); trades before the first label, or whose label is ``None``/NaN (warm-up), get
    ``"unknown"``. Note that a label indexed by a candle's OPEN time describes that candle's
    close; to attribute strictly by the label known when the trade opened, pass labels indexed by
    candle close time (``labels.index + timeframe``).

    Parameters
    ----------
    trades : DataFrame
        One row per trade with ``open_date`` (datetime, UTC; naive values are taken as UTC),
        ``profit_abs`` (float, quote currency) and ``profit_ratio`` (float, ratio: 0.01 = 1 %).
    labels : Series
        Regime labels (str or enum members; None/NaN allowed) indexed by UTC candle dates.

    Returns
    -------
    DataFrame
        Index ``regime`` (bull, bear, range, low, normal, high, other names sorted, ``unknown``
        last; every regime found in ``labels`` or assigned to a trade). Columns:

        * ``trades``, ``wins`` (``profit_abs > 0``), ``losses`` (``profit_abs < 0``): int64;
        * ``win_rate`` = wins / trades (float64, NaN without trades);
        * ``profit_abs``: sum, quote currency;
        * ``profit_mean_ratio``: mean of ``profit_ratio`` (NaN without trades);
        * ``profit_total_share``: ``profit_abs`` / sum of all trades' ``profit_abs`` (NaN if that
          sum is 0; signs follow the numbers, so a regime can exceed 1 or be negative).

    Raises
    ------
    DataError
        If a trade column is missing or ``labels`` is not indexed by dates.
    """
    missing = [c for c in ("open_date", "profit_abs", "profit_ratio") if c not in trades.columns]
    if missing:
        raise DataError(f"trades: missing column(s) {', '.join(missing)}")
    times, names = _label_index(labels)
    opened = pd.DatetimeIndex(pd.to_datetime(trades["open_date"], utc=True)).as_unit("ns").asi8
    pos = np.searchsorted(times, opened, side="right") - 1
    assigned = [names[p] if p >= 0 and names[p] is not None else UNKNOWN for p in pos]
    profit = trades["profit_abs"].to_numpy(dtype=np.float64)
    ratio = trades["profit_ratio"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"regime": assigned, "profit_abs": profit, "profit_ratio": ratio,
                          "win": profit > 0.0, "loss": profit < 0.0})
    grouped = frame.groupby("regime", sort=False)
    rows = _ordered([*(n for n in names if n is not None), *assigned])
    out = pd.DataFrame({
        "trades": grouped.size(),
        "wins": grouped["win"].sum(),
        "losses": grouped["loss"].sum(),
        "profit_abs": grouped["profit_abs"].sum(),
        "profit_mean_ratio": grouped["profit_ratio"].mean(),
    }).reindex(pd.Index(rows, name="regime"))
    for col in ("trades", "wins", "losses"):
        out[col] = out[col].fillna(0).astype(np.int64)
    out["profit_abs"] = out["profit_abs"].fillna(0.0).astype(np.float64)
    out["profit_mean_ratio"] = out["profit_mean_ratio"].astype(np.float64)
    out["win_rate"] = out["wins"] / out["trades"].where(out["trades"] > 0)
    total = float(profit.sum())
    out["profit_total_share"] = out["profit_abs"] / total if total != 0.0 else np.nan
    return out.loc[:, list(_COLUMNS)]


def time_in_regime(labels: pd.Series, dropna: bool = True) -> pd.Series:
    """Fraction of rows (candles) spent in each regime.

    Parameters
    ----------
    labels : Series
        Regime labels (str or enum members; None/NaN allowed); any index.
    dropna : bool, default True
        True: fractions of the determinable rows only. False: undetermined rows count as
        ``"unknown"``.

    Returns
    -------
    Series
        float64 fractions summing to 1 (empty if no row counts), index ``regime`` in report order
        (bull, bear, range, low, normal, high, others sorted, unknown), name ``fraction``. Each
        candle weighs the same, so this is a share of time for gap-free data.
    """
    names = [_name(v) for v in labels.to_numpy(dtype=object)]
    kept = [n for n in names if n is not None] if dropna else [n or UNKNOWN for n in names]
    counts = pd.Series(kept, dtype=object).value_counts()
    index = pd.Index(_ordered(counts.index), name="regime")
    total = float(counts.sum())
    return (counts.reindex(index).astype(np.float64) / total if total else
            pd.Series(dtype=np.float64, index=index)).rename("fraction")
