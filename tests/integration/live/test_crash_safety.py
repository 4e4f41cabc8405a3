"""Crash safety (promise 6), reduced: the live engine SIGKILLed 5 times against the Binance emulator.

The machinery is the benchmark's (``benchmarks/crash_safety.py``, loaded from its file): the
emulator runs in a thread of this process, the engine (``python -m atb.live.harness``) in a
subprocess that is killed at seeded random moments (during start-up, at random, right after an
order reached the venue) and restarted; after a graceful SIGTERM stop and a final
reconciliation the store must agree with the emulator: no order lost, duplicated or orphaned,
positions and the quote balance equal to the stored fills, the loop's open trades equal to the
store's positions.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "crash_safety.py"


def _bench():
    spec = importlib.util.spec_from_file_location("atb_bench_crash_safety", _BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_five_sigkills_lose_nothing(tmp_path):
    bench = _bench()
    report = bench.run_config("test", kills=5, candle_ms=300.0, failure_rate=0.0, seed=11,
                              pairs=("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"), work=tmp_path)
    print(bench.format_report(report))
    assert report.kills == 5 and report.restarts == 6 and report.exit_code == 0
    assert report.orders >= 10 and report.fills >= 10
    assert report.ok, report.failures
