"""Metrics computed from freqtrade's own trade lists equal freqtrade's own summaries.

For every case in ``../shared/parity/cases``: a :class:`BacktestResult` is built from
``trades.json`` (no engine involved) with the backtest range freqtrade used, and
:func:`compute_metrics` must reproduce ``summary.json``: the top-level numbers and every field of
every ``results_per_pair`` / ``exit_reason_summary`` row, in freqtrade's row order.

The backtest range (freqtrade's ``min_date``/``max_date``, needed by CAGR, Sharpe, Sortino and
Calmar) is derived from the candle files as freqtrade does: per pair, the rows inside the timerange
widened by ``startup_candle_count`` candles, minus the first ``startup_candle_count`` rows; start =
earliest first row, end = latest last row over the pairs that have data. (``summary.json`` carries
``candles.startup_candle_count``; a wrong range would change Sharpe/Sortino/Calmar/CAGR, so their
agreement to 1e-9 also pins the range.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from atb.backtest.export import trades_from_records
from atb.backtest.metrics import compute_metrics
from atb.backtest.results import BacktestResult
from atb.core.timeframe import timeframe_to_seconds

_REPO = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
_CASES_DIR = _SHARED / "parity" / "cases"
CASES = sorted(p.name for p in _CASES_DIR.iterdir()) if _CASES_DIR.is_dir() else []

COUNTS = ("total_trades", "wins", "draws", "losses")
VALUES = ("profit_total", "profit_total_abs", "max_drawdown_account", "max_drawdown_abs", "sharpe",
          "sortino", "calmar", "profit_factor", "expectancy")
ROW_EXACT = ("key", "trades", "wins", "draws", "losses", "duration_avg", "profit_mean_pct",
             "profit_total_pct")


def _close(ours: float, ref: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return abs(ours - ref) <= max(rel * abs(ref), abs_)


def _range(case: dict, startup: int) -> tuple[pd.Timestamp, pd.Timestamp, tuple[str, ...]]:
    tf = case["timeframe"]
    starts, ends, skipped = [], [], []
    for pair in case["pairs"]:
        path = _SHARED / "data" / case["datadir"] / f"{pair.replace('/', '_')}-{tf}.feather"
        dates = pd.read_feather(path, columns=["date"])["date"] if path.exists() else pd.Series()
        if case["timerange"] and len(dates):
            first, last = (pd.Timestamp(x, tz="UTC") for x in case["timerange"].split("-"))
            first -= pd.Timedelta(seconds=timeframe_to_seconds(tf) * startup)
            dates = dates[(dates >= first) & (dates <= last)]
        dates = dates.iloc[startup:]
        if len(dates) < 2:
            skipped.append(pair)
            continue
        starts.append(dates.iloc[0])
        ends.append(dates.iloc[-1])
    return min(starts), max(ends), tuple(skipped)


def reference_result(case_name: str) -> tuple[BacktestResult, dict]:
    """BacktestResult from a case's trades.json, and the case's summary.json."""
    case_dir = _CASES_DIR / case_name
    case = json.loads((case_dir / "case.json").read_text())
    summary = json.loads((case_dir / "summary.json").read_text())
    start, end, skipped = _range(case, summary["candles"]["startup_candle_count"])
    trades = trades_from_records(json.loads((case_dir / "trades.json").read_text()))
    result = BacktestResult(
        strategy=case["strategy"], timeframe=case["timeframe"], pairs=tuple(case["pairs"]),
        stake_currency=case["stake_currency"], starting_balance=case["dry_run_wallet"],
        max_open_trades=case["max_open_trades"], backtest_start=start.to_pydatetime(),
        backtest_end=end.to_pydatetime(), trades=trades, config={}, config_hash="",
        skipped_pairs=skipped,
    )
    return result, summary


@pytest.fixture(scope="module", params=CASES)
def computed(request) -> tuple[dict, dict]:
    result, summary = reference_result(request.param)
    return compute_metrics(result), summary


def test_cases_exist():
    assert len(CASES) >= 9


def test_top_level_metrics(computed):
    ours, ref = computed
    for key in COUNTS:
        assert ours[key] == ref[key], key
    for key in VALUES:
        assert _close(ours[key], ref[key]), (key, ours[key], ref[key])


def _compare_rows(ours: list[dict], ref: list[dict], table: str) -> None:
    assert [r["key"] for r in ours] == [r["key"] for r in ref], table
    for mine, theirs in zip(ours, ref, strict=True):
        assert list(mine) == list(theirs), (table, mine["key"])
        for field, value in theirs.items():
            if field in ROW_EXACT:
                assert mine[field] == value, (table, mine["key"], field)
            else:
                assert _close(mine[field], value), (table, mine["key"], field, mine[field], value)


def test_results_per_pair_rows(computed):
    ours, ref = computed
    _compare_rows(ours["results_per_pair"], ref["results_per_pair"], "results_per_pair")


def test_exit_reason_rows(computed):
    ours, ref = computed
    _compare_rows(ours["exit_reason_summary"], ref["exit_reason_summary"], "exit_reason_summary")


def test_metrics_are_plain_json(computed):
    ours, _ = computed
    assert json.loads(json.dumps(ours, allow_nan=False)) == ours
