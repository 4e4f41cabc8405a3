"""Per-group result rows and tables."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from atb.analytics.tables import ROW_FIELDS, TOTAL_KEY, group_row, group_table
from atb.errors import DataError

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 11, tzinfo=UTC)


def _trades():
    return pd.DataFrame({
        "pair": ["A/USDT", "B/USDT", "A/USDT", "B/USDT"],
        "close_date": pd.date_range("2024-01-02", periods=4, freq="D", tz="UTC"),
        "profit_abs": [10.0, -4.0, -2.0, 0.0],
        "profit_ratio": [0.1, -0.04, -0.02, 0.0],
        "trade_duration": [60, 120, 30, 90],
    })


def test_group_row_values():
    row = group_row(_trades().iloc[[0, 2]], "A/USDT", 1000.0, START, END)
    assert tuple(row) == ROW_FIELDS
    assert (row["trades"], row["wins"], row["draws"], row["losses"]) == (2, 1, 0, 1)
    assert row["profit_mean"] == pytest.approx(0.04) and row["profit_mean_pct"] == 4.0
    assert row["profit_total_abs"] == 8.0 and row["profit_total"] == pytest.approx(0.008)
    assert row["profit_total_pct"] == 0.8 and row["duration_avg"] == "0:45:00"
    assert row["winrate"] == 0.5 and row["profit_factor"] == 5.0
    assert row["max_drawdown_abs"] == 2.0 and row["max_drawdown_account"] == pytest.approx(2 / 1010)
    assert row["cagr"] == pytest.approx(1.008 ** 36.5 - 1)


def test_empty_group_row():
    row = group_row(_trades().iloc[:0], "C/USDT", 1000.0, START, END)
    assert row["trades"] == 0 and row["duration_avg"] == "0:00" and row["winrate"] == 0.0
    assert row["sharpe"] == 0.0 and row["max_drawdown_abs"] == 0.0 and row["p_value"] == 1.0


def test_table_sorted_by_profit_with_total_and_labels():
    t = _trades()
    rows = group_table(t, "pair", ["B/USDT", "C/USDT", "A/USDT"], 1000.0, START, END)
    assert [r["key"] for r in rows] == ["A/USDT", "C/USDT", "B/USDT", TOTAL_KEY]
    assert rows[-1]["trades"] == 4 and rows[-1]["profit_total_abs"] == 4.0
    t["tag"] = ["x", "", "x", ""]
    tags = group_table(t, "tag", ["x", ""], 1000.0, START, END, labels={"": "OTHER"}, total=False)
    assert [r["key"] for r in tags] == ["x", "OTHER"]


def test_missing_columns():
    with pytest.raises(DataError, match="nope"):
        group_table(_trades(), "nope", [], 1.0, START, END)
    with pytest.raises(DataError, match="trade_duration"):
        group_row(_trades().drop(columns="trade_duration"), "A", 1.0, START, END)
