"""Trades as the JSON list of freqtrade's exported trades (``../shared/parity/cases/*/trades.json``).

Each trade is an object with exactly :data:`EXPORT_FIELDS`, in that order: dates as ISO-8601 UTC
strings with an explicit offset (``"2024-01-10T16:00:00+00:00"``), ``enter_tag`` ``""`` when the
entry had no tag, ``is_short`` a boolean, ``trade_duration`` an integer number of minutes, every
other number a float. :func:`trades_from_records` reads the same list back into a trades frame.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atb.backtest.results import TRADE_COLUMNS, BacktestResult
from atb.errors import DataError

__all__ = ["EXPORT_FIELDS", "export_trades_json", "load_trades_json", "trades_from_records",
           "trades_to_records"]

#: Field order of freqtrade's exported trades (the first 15 of :data:`TRADE_COLUMNS`).
EXPORT_FIELDS: tuple[str, ...] = TRADE_COLUMNS[:15]

_FLOATS = ("open_rate", "close_rate", "amount", "profit_ratio", "profit_abs", "stake_amount",
           "fee_open", "fee_close")


def _iso(ts: Any) -> str:
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat()


def _tag(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def trades_to_records(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """Trades as dicts with exactly :data:`EXPORT_FIELDS`, in frame order.

    Parameters
    ----------
    trades : DataFrame
        Columns including :data:`EXPORT_FIELDS` (dates tz-aware or naive UTC).

    Returns
    -------
    list of dict
        JSON-ready records (str, float, bool, int only).

    Raises
    ------
    DataError
        If a field is missing.
    """
    missing = [c for c in EXPORT_FIELDS if c not in trades.columns]
    if missing:
        raise DataError(f"trade export: trades lack columns {missing}")
    out = []
    for row in trades[list(EXPORT_FIELDS)].itertuples(index=False):
        rec: dict[str, Any] = {
            "pair": str(row.pair),
            "open_date": _iso(row.open_date),
            "close_date": _iso(row.close_date),
        }
        for name in ("open_rate", "close_rate", "amount", "profit_ratio", "profit_abs"):
            rec[name] = float(getattr(row, name))
        rec["exit_reason"] = str(row.exit_reason)
        rec["enter_tag"] = _tag(row.enter_tag)
        rec["is_short"] = bool(row.is_short)
        for name in ("stake_amount", "fee_open", "fee_close"):
            rec[name] = float(getattr(row, name))
        rec["trade_duration"] = int(row.trade_duration)
        out.append(rec)
    return out


def export_trades_json(result: BacktestResult, path: Path) -> None:
    """Write the run's trades to ``path`` as a JSON list (one-space indent, freqtrade's layout).

    Parameters
    ----------
    result : BacktestResult
        The run; its trades frame order (by close) is kept.
    path : Path
        Output file; parent folders are created.

    Raises
    ------
    DataError
        If a trade field is missing.
    """
    path = Path(path)
    records = trades_to_records(result.trades)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")


def trades_from_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    """A trades frame with :data:`TRADE_COLUMNS` from exported records (the inverse of export).

    Parameters
    ----------
    records : list of dict
        Objects with at least :data:`EXPORT_FIELDS`.

    Returns
    -------
    DataFrame
        Dates ``datetime64[ns, UTC]``; ``leverage`` from the records or 1.0; ``max_rate`` and
        ``min_rate`` from the records or NaN (freqtrade's export here does not carry them).

    Raises
    ------
    DataError
        If a record lacks a field.
    """
    for i, rec in enumerate(records):
        missing = [f for f in EXPORT_FIELDS if f not in rec]
        if missing:
            raise DataError(f"trade record {i}: missing fields {missing}")
    df = pd.DataFrame.from_records(records, columns=list(EXPORT_FIELDS)) if records else (
        pd.DataFrame({c: pd.Series(dtype=object) for c in EXPORT_FIELDS}))
    for col in ("open_date", "close_date"):
        df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[ns, UTC]")
    for col in _FLOATS:
        df[col] = df[col].astype(np.float64)
    df["pair"] = df["pair"].astype(str)
    df["exit_reason"] = df["exit_reason"].astype(str)
    df["enter_tag"] = [_tag(v) for v in df["enter_tag"]]
    df["is_short"] = df["is_short"].astype(bool)
    df["trade_duration"] = df["trade_duration"].astype(np.int64)
    for col, default in (("leverage", 1.0), ("max_rate", math.nan), ("min_rate", math.nan)):
        df[col] = [float(r.get(col, default)) for r in records] if records else pd.Series(
            dtype=np.float64)
    return df[list(TRADE_COLUMNS)]


def load_trades_json(path: Path) -> pd.DataFrame:
    """Read a trades JSON list (freqtrade's or :func:`export_trades_json`'s) into a frame.

    Raises
    ------
    DataError
        If the file cannot be read, is not a JSON list, or a record lacks a field.
    """
    try:
        records = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read trades file {path}: {exc}") from exc
    if not isinstance(records, list):
        raise DataError(f"trades file {path}: expected a JSON list, got {type(records).__name__}")
    return trades_from_records(records)
