"""End to end through the installed ``atb`` command on bundled and shared real candles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))


def _atb(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atb.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_short_form_on_bundled_data_stores_the_run(tmp_path: Path) -> None:
    proc = _atb(["backtest", "AtbEmaRsiTrend", "--pairs", "BTC/USDT", "ETH/USDT", "--timeframe",
                 "1h", "--days", "90", "--user-data-dir", str(tmp_path / "ud")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for title in ("BACKTESTING REPORT", "EXIT REASON STATS", "SUMMARY METRICS"):
        assert title in out
    assert "BTC/USDT" in out and "ETH/USDT" in out and "Run stored as #1" in out
    shown = _atb(["backtesting-show", "--user-data-dir", str(tmp_path / "ud")], tmp_path)
    assert shown.returncode == 0 and "AtbEmaRsiTrend" in shown.stdout


def test_full_command_exports_trades_and_html(tmp_path: Path) -> None:
    case = _SHARED / "parity/cases/rsi_bb_meanrev__bittrex_5m"
    args = ["backtesting", "--config", str(case / "config.json"), "--strategy",
            "RsiBbMeanReversion", "--strategy-path", str(_SHARED / "parity/strategies"),
            "--datadir", str(_SHARED / "data/bittrex"), "--timeframe", "5m",
            "--markets", str(case / "markets.json"), "--export-trades", str(tmp_path / "t.json"),
            "--export-html", str(tmp_path / "r.html"),
            "--db-url", f"sqlite:///{tmp_path / 'runs.sqlite'}"]
    proc = _atb(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((tmp_path / "t.json").read_text())
    assert ours == json.loads((case / "trades.json").read_text())
    assert (tmp_path / "r.html").stat().st_size > 100_000
    assert (tmp_path / "runs.sqlite").is_file()


def test_pairs_without_candles_are_skipped_like_freqtrade(tmp_path: Path) -> None:
    proc = _atb(["backtest", "AtbBollingerReversion", "--pairs", "BTC/USDT", "DOGE/USDT",
                 "--timeframe", "1h", "--days", "30", "--no-store"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Skipped (no candles in range): DOGE/USDT" in proc.stdout  # not in the demo data
    assert "BTC/USDT" in proc.stdout
