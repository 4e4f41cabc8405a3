"""Every freqtrade reference case, run through the real command, matches trade for trade.

Matching (``../shared/parity/SPEC.md``): the same set of trades (pair, open_date, close_date,
exit_reason, enter_tag); open_rate, close_rate and amount equal to 1e-12 relative; profit_ratio
and profit_abs within 1e-9 relative. Summary metrics agree with ``summary.json`` to 1e-6.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from atb.cli.main import app, expand_multi_value_flags

_REPO = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASES = sorted(p.name for p in (_SHARED / "parity" / "cases").iterdir()) if (
    _SHARED / "parity" / "cases").is_dir() else []

KEY = ["pair", "open_date", "close_date", "exit_reason", "enter_tag"]


def _command(case_dir: Path, export: Path) -> list[str]:
    case = json.loads((case_dir / "case.json").read_text())
    args = [
        "backtesting", "--config", str(case_dir / "config.json"),
        "--strategy", case["strategy"],
        "--strategy-path", str(_SHARED / "parity" / Path(case["strategy_file"]).parent),
        "--datadir", str(_SHARED / "data" / case["datadir"]),
        "--timeframe", case["timeframe"],
        "--markets", str(case_dir / "markets.json"),
        "--export-trades", str(export),
        "--no-store",
    ]
    if case["timerange"]:
        args += ["--timerange", case["timerange"]]
    return args


def _rel(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() / b.abs().where(b.abs() > 0, 1.0)


@pytest.mark.parametrize("case_name", CASES)
def test_case_matches_freqtrade(case_name: str, tmp_path: Path) -> None:
    assert CASES, "no parity cases found"
    case_dir = _SHARED / "parity" / "cases" / case_name
    export = tmp_path / "trades.json"
    result = CliRunner().invoke(app, expand_multi_value_flags(_command(case_dir, export)))
    assert result.exit_code == 0, result.output + repr(result.exception)
    ours = pd.DataFrame(json.loads(export.read_text()))
    ref = pd.DataFrame(json.loads((case_dir / "trades.json").read_text()))
    assert list(ours.columns) == list(ref.columns)
    assert len(ours) == len(ref)
    # same order as freqtrade lists them (closing order): drawdown depends on it
    assert (ours["pair"] + ours["open_date"]).tolist() == (ref["pair"] + ref["open_date"]).tolist()
    m = ours.merge(ref, on=KEY, how="outer", suffixes=("", "_ref"), indicator=True)
    unmatched = m[m["_merge"] != "both"]
    assert unmatched.empty, unmatched[KEY + ["_merge"]].head(10).to_string()
    for col in ("open_rate", "close_rate", "amount"):
        bad = m[_rel(m[col], m[f"{col}_ref"]) > 1e-12]
        assert bad.empty, f"{col}: " + bad[KEY + [col, f"{col}_ref"]].head().to_string()
    for col in ("profit_ratio", "profit_abs"):
        bad = m[_rel(m[col], m[f"{col}_ref"]) > 1e-9]
        assert bad.empty, f"{col}: " + bad[KEY + [col, f"{col}_ref"]].head().to_string()
    assert (m["is_short"] == m["is_short_ref"]).all()
    # beyond the tolerances above: the export is value-for-value identical to freqtrade's file
    assert json.loads(export.read_text()) == json.loads((case_dir / "trades.json").read_text())
    assert (m["trade_duration"] == m["trade_duration_ref"]).all()


@pytest.mark.parametrize("case_name", CASES)
def test_case_summary_matches_freqtrade(case_name: str) -> None:
    from atb.backtest.engine import BacktestInputs, run_backtest
    from atb.backtest.markets import load_markets
    from atb.backtest.metrics import compute_metrics
    from atb.config.freqtrade import load_freqtrade_config
    from atb.data.history import load_data
    from atb.data.timerange import TimeRange
    from atb.strategy.loader import load_strategy
    from atb.strategy.trade import Trade

    case_dir = _SHARED / "parity" / "cases" / case_name
    case = json.loads((case_dir / "case.json").read_text())
    config = load_freqtrade_config(case_dir / "config.json")
    strategy = load_strategy(
        case["strategy"], config, _SHARED / "parity" / Path(case["strategy_file"]).parent
    )
    inputs = BacktestInputs(
        datadir=_SHARED / "data" / case["datadir"],
        pairs=tuple(case["pairs"]),
        timeframe=case["timeframe"],
        timerange=TimeRange.parse(case["timerange"]) if case["timerange"] else None,
        markets=load_markets(case_dir / "markets.json"),
        keep_candles=False,
    )
    result = run_backtest(config, strategy, inputs, load_data=load_data, trade_cls=Trade)
    metrics = compute_metrics(result)
    summary = json.loads((case_dir / "summary.json").read_text())
    for key in ("wins", "draws", "losses", "total_trades"):
        assert metrics[key] == summary[key], key
    for key in ("profit_total", "profit_total_abs", "max_drawdown_account", "max_drawdown_abs"):
        assert metrics[key] == pytest.approx(summary[key], rel=1e-6, abs=1e-9), key
    for key in ("sharpe", "sortino", "calmar", "profit_factor", "expectancy"):
        assert metrics[key] == pytest.approx(summary[key], rel=1e-6), key
    ours_reasons = {r["key"]: r for r in metrics["exit_reason_summary"]}
    for row in summary["exit_reason_summary"]:
        mine = ours_reasons[row["key"]]
        assert (mine["trades"], mine["wins"], mine["losses"]) == (row["trades"], row["wins"],
                                                                   row["losses"])
        assert mine["profit_total_abs"] == pytest.approx(row["profit_total_abs"], rel=1e-9)
    ours_pairs = {r["key"]: r for r in metrics["results_per_pair"]}
    for row in summary["results_per_pair"]:
        assert ours_pairs[row["key"]]["trades"] == row["trades"], row["key"]
        assert ours_pairs[row["key"]]["profit_total_abs"] == pytest.approx(
            row["profit_total_abs"], rel=1e-9, abs=1e-12), row["key"]


@pytest.mark.parametrize("case_name", ["sample_strategy__bittrex_5m", "ema_cross_trailing__bittrex_5m"])
def test_callback_path_matches_freqtrade(case_name: str) -> None:
    """No-op callbacks select the Python slow path; it must give the very same trades."""
    from atb.backtest.engine import BacktestInputs, run_backtest
    from atb.backtest.export import trades_to_records
    from atb.backtest.markets import load_markets
    from atb.config.freqtrade import load_freqtrade_config
    from atb.data.history import load_data
    from atb.strategy.loader import load_strategy
    from atb.strategy.trade import Trade

    case_dir = _SHARED / "parity" / "cases" / case_name
    case = json.loads((case_dir / "case.json").read_text())
    config = load_freqtrade_config(case_dir / "config.json")
    base = type(load_strategy(case["strategy"], config,
                              _SHARED / "parity" / Path(case["strategy_file"]).parent))
    calls = {"entry": 0, "exit": 0}

    def confirm_trade_entry(self, *args, **kwargs):
        calls["entry"] += 1
        return True

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        calls["exit"] += 1
        assert trade.pair == pair and trade.open_rate > 0
        return None

    cls = type("WithCallbacks", (base,), {"confirm_trade_entry": confirm_trade_entry,
                                          "custom_exit": custom_exit})
    strategy = cls(config)
    inputs = BacktestInputs(datadir=_SHARED / "data" / case["datadir"], pairs=tuple(case["pairs"]),
                            timeframe=case["timeframe"], markets=load_markets(case_dir / "markets.json"),
                            keep_candles=False)
    result = run_backtest(config, strategy, inputs, load_data=load_data, trade_cls=Trade)
    assert trades_to_records(result.trades) == json.loads((case_dir / "trades.json").read_text())
    assert calls["entry"] >= len(result.trades) and calls["exit"] > 0
