"""Bad input: one line naming the problem, exit status 2, no traceback, nothing stored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "sample_strategy__bittrex_5m"
STRATEGIES = _SHARED / "parity" / "strategies"


def _atb(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atb.cli.main", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300,
    )


def _base(tmp: Path, **over: str) -> list[str]:
    args = {
        "--config": str(CASE / "config.json"),
        "--strategy": "SampleStrategy",
        "--strategy-path": str(STRATEGIES),
        "--datadir": str(_SHARED / "data" / "bittrex"),
        "--timeframe": "5m",
        "--db-url": f"sqlite:///{tmp / 'store.sqlite'}",
        "--user-data-dir": str(tmp / "user_data"),
    }
    args.update(over)
    out = ["backtesting"]
    for k, v in args.items():
        out += [k, v]
    return out


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path


def _nothing_written(tmp: Path) -> None:
    assert not (tmp / "store.sqlite").exists()
    assert not (tmp / "user_data" / "atb.sqlite").exists()


def test_unknown_strategy(work: Path) -> None:
    proc = _atb(_base(work, **{"--strategy": "NoSuchStrategy"}), work)
    _assert_one_line_error(proc, "NoSuchStrategy")
    _nothing_written(work)


def test_strategy_file_with_syntax_error(work: Path) -> None:
    sdir = work / "strategies"
    sdir.mkdir()
    (sdir / "broken.py").write_text("class Broken(IStrategy:\n    pass\n")
    proc = _atb(_base(work, **{"--strategy": "Broken", "--strategy-path": str(sdir)}), work)
    _assert_one_line_error(proc, "broken.py")
    _nothing_written(work)


def test_config_with_wrong_type(work: Path) -> None:
    cfg = json.loads((CASE / "config.json").read_text())
    cfg["stake_amount"] = "lots"
    path = work / "config.json"
    path.write_text(json.dumps(cfg))
    proc = _atb(_base(work, **{"--config": str(path)}), work)
    _assert_one_line_error(proc, "stake_amount")
    _nothing_written(work)


def test_missing_data_file(work: Path) -> None:
    empty = work / "data"
    empty.mkdir()
    proc = _atb(_base(work, **{"--datadir": str(empty)}), work)
    _assert_one_line_error(proc, "ADA/BTC")
    _nothing_written(work)


def test_corrupt_data_file(work: Path) -> None:
    data = work / "data"
    shutil.copytree(_SHARED / "data" / "bittrex", data)
    (data / "ETH_BTC-5m.feather").write_bytes(b"this is not an arrow file")
    proc = _atb(_base(work, **{"--datadir": str(data)}), work)
    _assert_one_line_error(proc, "ETH_BTC-5m.feather")
    _nothing_written(work)


def test_timerange_without_data(work: Path) -> None:
    proc = _atb(_base(work, **{"--timerange": "20100101-20100201"}), work)
    _assert_one_line_error(proc, "20100101")
    _nothing_written(work)


def test_bad_timeframe_and_timerange_strings(work: Path) -> None:
    _assert_one_line_error(_atb(_base(work, **{"--timeframe": "7x"}), work), "timeframe")
    _assert_one_line_error(_atb(_base(work, **{"--timerange": "2024-01-01"}), work), "timerange")
    _nothing_written(work)
