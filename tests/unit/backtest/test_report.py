"""Terminal report text: freqtrade's blocks with the metrics' values."""

from datetime import UTC, datetime

import pytest
from rich.console import Console

from atb.backtest.export import load_trades_json
from atb.backtest.metrics import compute_metrics
from atb.backtest.report import fmt_coin, render_report, report_text
from atb.backtest.results import BacktestResult


@pytest.fixture(scope="module")
def result(shared_dir):
    trades = load_trades_json(shared_dir / "parity/cases/sample_strategy__binance_5m_2025q1/trades.json")
    return BacktestResult(
        strategy="SampleStrategy", timeframe="5m",
        pairs=tuple(sorted(trades["pair"].unique())), stake_currency="USDT",
        starting_balance=100_000.0, max_open_trades=3,
        backtest_start=datetime(2025, 1, 1, tzinfo=UTC),
        backtest_end=datetime(2025, 4, 1, tzinfo=UTC), trades=trades, config={}, config_hash="",
        rejected_signals=42, market_change=-0.2345,
    )


@pytest.fixture(scope="module")
def text(result):
    return report_text(result, compute_metrics(result))


def _line(text, label):
    return next(line for line in text.splitlines() if f" {label} " in line)


def test_blocks_and_headers(text):
    for title in ("BACKTESTING REPORT", "ENTER TAG STATS", "EXIT REASON STATS", "SUMMARY METRICS"):
        assert title in text
    for header in ("Pair", "Trades", "Avg Profit %", "Tot Profit USDT", "Tot Profit %",
                   "Avg Duration", "Win  Draw  Loss  Win%"):
        assert header in text
    assert "\x1b[" not in text  # plain text


def test_pair_and_reason_rows(result, text):
    m = compute_metrics(result)
    t = result.trades
    for row in m["results_per_pair"][:3] + m["exit_reason_summary"]:
        line = _line(text, row["key"])
        assert f" {row['trades']} " in line
        assert fmt_coin(row["profit_total_abs"], "USDT", with_currency=False) in line
        assert f"{row['profit_mean_pct']:.2f}" in line and row["duration_avg"] in line
    roi = _line(text, "roi")
    n_roi = int((t["exit_reason"] == "roi").sum())
    assert f"{n_roi}     0     0  100.0" in roi  # all ROI exits win


def test_summary_values(result, text):
    m = compute_metrics(result)
    assert "2025-01-01 00:00:00" in _line(text, "Backtesting from")
    assert f"224 / {m['trades_per_day']}" in _line(text, "Total/Daily Avg Trades")
    assert "100000.000 USDT" in _line(text, "Starting balance")
    assert f"{m['profit_total_abs']:.3f} USDT" in _line(text, "Absolute profit")
    assert f"{m['profit_total'] * 100:.2f}%" in _line(text, "Total profit %")
    assert f"{m['sharpe']:.2f}" in _line(text, "Sharpe")
    assert f"{m['sqn']:.2f}" in _line(text, "SQN")
    assert f"{m['wins']} / {m['draws']} / {m['losses']}" in text
    assert "42" in _line(text, "Rejected Entry signals")
    assert f"{m['max_drawdown_account'] * 100:.2f}%" in _line(text, "Absolute Drawdown (Account)")
    assert m["drawdown_duration"] in _line(text, "Drawdown Duration")
    assert "-23.45%" in _line(text, "Market change")
    assert m["best_pair"] in _line(text, "Best Pair")


def test_render_to_given_console(result):
    console = Console(record=True, width=160, color_system=None)
    render_report(result, compute_metrics(result), console)
    assert "SUMMARY METRICS" in console.export_text()


def test_fmt_coin():
    assert fmt_coin(1.23456789123, "BTC") == "1.23456789 BTC"
    assert fmt_coin(-2.5, "ETH", with_currency=False) == "-2.50000"
    assert fmt_coin(None, "USDT") == "-"


def test_strategy_report_sections_with_weighted_all_row(result, tmp_path):
    import dataclasses

    import pandas as pd

    from atb.backtest.html_report import write_html_report
    from atb.backtest.report import strategy_sections

    ml = pd.DataFrame({"pair": ["A/USDT", "B/USDT"], "n": [100, 300], "auc": [0.6, 0.4]})
    res = dataclasses.replace(result, strategy_report={"ml out-of-sample": ml})
    sections = strategy_sections(res)
    assert sections[0][0] == "ML OUT-OF-SAMPLE"
    assert sections[0][1] == ["pair", "n", "auc"]
    # ALL: counts summed, ratios weighted by n: (100*.6 + 300*.4) / 400 = 0.45
    assert sections[0][2][-1] == ["ALL", "400", "0.4500"]
    text = report_text(res, compute_metrics(res))
    assert "ML OUT-OF-SAMPLE" in text and "0.4500" in text
    out = tmp_path / "r.html"
    write_html_report(res, compute_metrics(res), out)
    assert "ML OUT-OF-SAMPLE" in out.read_text()
