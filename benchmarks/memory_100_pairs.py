"""Peak memory of ``atb backtesting`` on 100 pairs x 2 years of 1h candles (target < 2 GB).

The 100 pairs are the 22 real Binance 1h files of ``../shared/data/binance`` reused under alias
names (``P000/USDT`` ...): prices are real, names are not. Each file is cut to the last 2 years.
Peak RSS is the largest sum over the atb process and its forked worker, sampled every 20 ms
from /proc. Usage: ``python benchmarks/memory_100_pairs.py [--atb-python PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("ATB_SHARED_DIR", HERE.parent.parent / "shared"))


def _rss_tree(pid: int) -> int:
    """Resident set size of ``pid`` and all its descendants, bytes."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    stack += [int(x) for x in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def build_datadir(target: Path, n_pairs: int = 100) -> list[str]:
    files = sorted((SHARED / "data" / "binance").glob("*-1h.feather"))
    pairs = []
    for i in range(n_pairs):
        df = pd.read_feather(files[i % len(files)])
        df = df[df["date"] >= df["date"].iloc[-1] - pd.Timedelta(days=730)]
        pair = f"P{i:03d}/USDT"
        df.reset_index(drop=True).to_feather(target / f"P{i:03d}_USDT-1h.feather")
        pairs.append(pair)
    return pairs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--atb-python", type=Path, default=HERE / ".atb-venv" / "bin" / "python")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "data").mkdir()
        pairs = build_datadir(tmp / "data")
        rows = sum(len(pd.read_feather(p)) for p in (tmp / "data").glob("*.feather"))
        cfg = {"stake_currency": "USDT", "stake_amount": 100, "dry_run_wallet": 100000,
               "max_open_trades": 10, "fee": 0.001, "exchange": {"pair_whitelist": pairs}}
        (tmp / "config.json").write_text(json.dumps(cfg))
        cmd = [str(args.atb_python), "-m", "atb.cli.main", "backtesting", "--config",
               str(tmp / "config.json"), "--strategy", "SampleStrategy", "--strategy-path",
               str(SHARED / "parity" / "strategies"), "--datadir", str(tmp / "data"),
               "--timeframe", "1h", "--user-data-dir", str(tmp / "ud")]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _rss_tree(proc.pid))
                time.sleep(0.02)

        th = threading.Thread(target=sample)
        th.start()
        out, err = proc.communicate()
        done.set()
        th.join()
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(err)
        trades = [ln for ln in out.splitlines() if "TOTAL" in ln][:1]
        result = {"pairs": len(pairs), "candles": rows, "wall_s": round(wall, 2),
                  "peak_rss_mb": round(peak / 2**20, 1), "total_row": trades}
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
