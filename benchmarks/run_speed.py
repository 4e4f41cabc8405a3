"""atb vs freqtrade 2026.9: whole-command and simulation-only speed on the same inputs.

Cases:
  (a) parity case ``sample_strategy__binance_1h`` (22 pairs, 1h, full range);
  (b) all 12 pairs of the 5m data over its full range (SampleStrategy, the config of
      ``sample_strategy__binance_5m_2025q1`` without its timerange).

Run ``benchmarks/setup_freqtrade.sh`` and ``benchmarks/setup_atb.sh`` first, then
``python benchmarks/run_speed.py [--repeats 3]``. Each tool runs ``--repeats`` times; medians
are reported. freqtrade runs offline through ``ft_offline.py`` (markets from the case's
markets.json, ``--cache none``); its loop time is ``Backtesting.backtest``. atb's simulation time
is the kernel alone (``atb_sim_time.py``). Results are printed and written to
``benchmarks/out/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = Path(os.environ.get("ATB_SHARED_DIR", REPO.parent / "shared"))
CASES = SHARED / "parity" / "cases"
STRATEGIES = SHARED / "parity" / "strategies"
DATA = SHARED / "data" / "binance"


def _case_a(tmp: Path) -> dict:
    case = CASES / "sample_strategy__binance_1h"
    return {"name": "sample_strategy__binance_1h", "config": case / "config.json",
            "markets": case / "markets.json", "timeframe": "1h", "timerange": None,
            "expected_trades": json.loads((case / "case.json").read_text())["total_trades"]}


def _case_b(tmp: Path) -> dict:
    case = CASES / "sample_strategy__binance_5m_2025q1"
    cfg = json.loads((case / "config.json").read_text())
    cfg.pop("timerange", None)
    pairs = sorted(p.name.split("-")[0].replace("_", "/") for p in DATA.glob("*-5m.feather"))
    cfg["exchange"]["pair_whitelist"] = pairs
    path = tmp / "config_5m_full.json"
    path.write_text(json.dumps(cfg, indent=1))
    return {"name": f"sample_strategy__binance_5m_full ({len(pairs)} pairs)", "config": path,
            "markets": case / "markets.json", "timeframe": "5m", "timerange": None,
            "expected_trades": None}


def _run_freqtrade(py: Path, case: dict, tmp: Path) -> dict:
    userdir = tmp / "ft_user_data"
    (userdir / "backtest_results").mkdir(parents=True, exist_ok=True)
    timings = tmp / "ft_timings.json"
    cmd = [str(py), str(HERE / "ft_offline.py"), "backtesting", "--config", str(case["config"]),
           "--strategy", "SampleStrategy", "--strategy-path", str(STRATEGIES),
           "--datadir", str(DATA), "--timeframe", case["timeframe"], "--userdir", str(userdir),
           "--cache", "none"]  # default export: freqtrade writes its results, as atb does
    env = {**os.environ, "ATB_BENCH_MARKETS": str(case["markets"]),
           "ATB_BENCH_TIMINGS": str(timings)}
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"freqtrade failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    data = json.loads(timings.read_text())
    return {"wall_s": wall, "loop_s": data["loop_s"], "trades": data.get("trades")}


def _run_atb(py: Path, case: dict, tmp: Path) -> dict:
    cmd = [str(py), "-m", "atb.cli.main", "backtesting", "--config", str(case["config"]),
           "--strategy", "SampleStrategy", "--strategy-path", str(STRATEGIES),
           "--datadir", str(DATA), "--timeframe", case["timeframe"],
           "--markets", str(case["markets"]), "--user-data-dir", str(tmp / "atb_user_data"),
           "--export-trades", str(tmp / "atb_trades.json")]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"atb failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    trades = len(json.loads((tmp / "atb_trades.json").read_text()))
    return {"wall_s": wall, "trades": trades}


def _atb_sim(py: Path, case: dict) -> dict:
    cmd = [str(py), str(HERE / "atb_sim_time.py"), str(case["config"]), "SampleStrategy",
           str(STRATEGIES), str(DATA), case["timeframe"], str(case["markets"])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ft-python", type=Path, default=HERE / ".ft-venv" / "bin" / "python")
    ap.add_argument("--atb-python", type=Path, default=HERE / ".atb-venv" / "bin" / "python")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in (_case_a(tmp), _case_b(tmp)):
            ft = [_run_freqtrade(args.ft_python, case, tmp) for _ in range(args.repeats)]
            at = [_run_atb(args.atb_python, case, tmp) for _ in range(args.repeats)]
            sim = _atb_sim(args.atb_python, case)
            ft_wall = statistics.median(r["wall_s"] for r in ft)
            ft_loop = statistics.median(r["loop_s"] for r in ft)
            atb_wall = statistics.median(r["wall_s"] for r in at)
            row = {
                "case": case["name"], "freqtrade_trades": ft[0]["trades"],
                "atb_trades": at[0]["trades"], "expected_trades": case["expected_trades"],
                "freqtrade_wall_s": ft_wall, "freqtrade_loop_s": ft_loop,
                "atb_wall_s": atb_wall, "atb_kernel_ms": sim["kernel_ms"],
                "whole_command_ratio": ft_wall / atb_wall,
                "simulation_ratio": ft_loop / (sim["kernel_ms"] / 1000),
                "repeats": args.repeats,
            }
            results.append(row)
            print(json.dumps(row, indent=1), flush=True)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "speed.json").write_text(json.dumps(results, indent=1))
    print(f"\n{'case':48} {'ft s':>7} {'atb s':>7} {'x':>6} {'ft loop s':>9} {'kernel ms':>9} {'x':>7}")
    for r in results:
        print(f"{r['case']:48} {r['freqtrade_wall_s']:7.2f} {r['atb_wall_s']:7.2f} "
              f"{r['whole_command_ratio']:6.1f} {r['freqtrade_loop_s']:9.2f} "
              f"{r['atb_kernel_ms']:9.1f} {r['simulation_ratio']:7.0f}")
    if any(r["freqtrade_trades"] != r["atb_trades"] for r in results):
        sys.exit("trade counts differ between freqtrade and atb")


if __name__ == "__main__":
    main()
