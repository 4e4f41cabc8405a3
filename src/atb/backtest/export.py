"""Export trades as the JSON list freqtrade's parity references use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from atb.backtest.results import BacktestResult

__all__ = ["EXPORT_FIELDS", "export_trades_json", "trades_to_records"]

#: Field order of ``../shared/parity/cases/*/trades.json``.
EXPORT_FIELDS: tuple[str, ...] = (
    "pair", "open_date", "close_date", "open_rate", "close_rate", "amount", "profit_ratio",
    "profit_abs", "exit_reason", "enter_tag", "is_short", "stake_amount", "fee_open", "fee_close",
    "trade_duration",
)


def _iso(ts: Any) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat()


def trades_to_records(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """Trades as dicts with exactly :data:`EXPORT_FIELDS` (ISO-8601 UTC dates, ints, floats)."""
    out = []
    for row in trades.itertuples(index=False):
        out.append({
            "pair": row.pair,
            "open_date": _iso(row.open_date),
            "close_date": _iso(row.close_date),
            "open_rate": float(row.open_rate),
            "close_rate": float(row.close_rate),
            "amount": float(row.amount),
            "profit_ratio": float(row.profit_ratio),
            "profit_abs": float(row.profit_abs),
            "exit_reason": str(row.exit_reason),
            "enter_tag": "" if row.enter_tag is None else str(row.enter_tag),
            "is_short": bool(row.is_short),
            "stake_amount": float(row.stake_amount),
            "fee_open": float(row.fee_open),
            "fee_close": float(row.fee_close),
            "trade_duration": int(row.trade_duration),
        })
    return out


def export_trades_json(result: BacktestResult, path: Path) -> None:
    """Write the run's trades to ``path`` (a JSON list, ordered by close)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trades_to_records(result.trades), indent=1), encoding="utf-8")
