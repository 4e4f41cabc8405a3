"""``atb backtesting --risk-config``: bad risk config rejected before anything runs; the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_bad_input import _SHARED, _assert_one_line_error, _atb, _nothing_written

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]


def _args(tmp: Path, risk_file: Path | None, *extra: str) -> list[str]:
    args = ["backtest", "AtbEmaRsiTrend", "--pairs", *PAIRS, "--timeframe", "1h",
            "--datadir", str(_SHARED / "data" / "binance"), "--timerange", "20240101-20240901",
            "--db-url", f"sqlite:///{tmp / 'store.sqlite'}", "--user-data-dir", str(tmp / "user_data"),
            *extra]
    if risk_file is not None:
        args += ["--risk-config", str(risk_file)]
    return args


@pytest.mark.parametrize("risk, needles", [
    ({"max_drawdown": -0.2}, ["'max_drawdown'", "greater than 0"]),
    ({"max_portfolio_exposure": -1}, ["'max_portfolio_exposure'"]),
    ({"rules": ["max_drawdown", "lunar_phase"]}, ["'rules'", "lunar_phase"]),
    ({"sectors": {"layer1": ["BTC/USDT", "DOGE/USDT"]}}, ["'sectors.layer1'", "DOGE/USDT"]),
    ({"max_dd": 0.1}, ["'max_dd'", "Extra inputs"]),
])
def test_bad_risk_config_is_one_line_and_nothing_runs(tmp_path, risk, needles):
    f = tmp_path / "risk.json"
    f.write_text(json.dumps(risk))
    proc = _atb(_args(tmp_path, f), tmp_path)
    _assert_one_line_error(proc, str(f), *needles)
    assert "Result for strategy" not in proc.stdout
    _nothing_written(tmp_path)


def test_risk_section_in_the_config_is_validated_too(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"stake_currency": "USDT", "stake_amount": "unlimited",
                               "dry_run_wallet": 1000, "risk": {"daily_loss_limit": 2}}))
    proc = _atb(_args(tmp_path, None, "--config", str(cfg)), tmp_path)
    _assert_one_line_error(proc, "config.risk", "'daily_loss_limit'")
    _nothing_written(tmp_path)


def test_report_lists_denials_var_and_regimes(tmp_path):
    f = tmp_path / "risk.json"
    f.write_text(json.dumps({"max_drawdown": 0.05, "daily_loss_limit": 0.02,
                             "regime": {"detector": "sma", "reference_pair": "BTC/USDT"}}))
    html = tmp_path / "report.html"
    proc = _atb(_args(tmp_path, f, "--export-html", str(html)), tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for block in ("RISK METRICS", "VaR 95% (1d, historical)", "CVaR 99% (1d, historical)",
                  "RISK ENGINE", "DENIALS BY RULE", "trading_halted", "PERFORMANCE BY REGIME"):
        assert block in out, block
    page = html.read_text()
    assert "HALTED" in page and "DENIALS BY RULE" in page and "VaR 95%" in page


def test_without_risk_the_report_still_has_var(tmp_path):
    proc = _atb(_args(tmp_path, None, "--no-store"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "RISK METRICS (1-day, closed-trade equity)" in proc.stdout
    assert "DENIALS BY RULE" not in proc.stdout
