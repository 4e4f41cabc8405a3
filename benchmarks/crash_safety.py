"""Crash-safety benchmark (promise 6): SIGKILL the live engine at random moments, restart, compare.

The Binance emulator runs in this process (its own thread and event loop) and advances one real
5m candle every ``--candle-ms`` ms. The live engine runs as a subprocess
(``python -m atb.live.harness``: ccxt's binance client, write-ahead order manager on SQLite,
checkpoints) trading the churn strategy (tests/fixtures/strategies/churn_strategy.py). The
benchmark kills it with SIGKILL ``--kills`` times, restarting it after each kill. Kill moments
(seeded):

* ``startup``: U(0, 1.5 s) after the spawn (during imports, checkpoint restore or reconciliation);
* ``random``: U(0, 2 x candle interval) after the engine reported it started;
* ``after_order``: U(0, 30 ms) after the emulator accepted a new order of ours (between the
  venue's answer and the store's update, or during the next orders of the same candle).

At the end the engine is stopped gracefully (SIGTERM, exit status 0 required) once it has
processed the emulator's last candle; then, with faults off, one reconciliation pass
(``grace_s=0``) runs here and the store is compared with the emulator's own records
(:func:`atb.testing.venue_checks.verify_venue_state`, also used by tests/integration/live): (a) no
order lost, (b) no duplicate client id, (c) no orphan, (d) base positions and the quote balance
equal to the stored fills (tolerance 1e-8: the emulator's fees are exact decimals in the quote
currency, the store keeps Decimals), (e) the loop's open trades equal the store's open positions.
Exit status 1 if any check fails in any configuration.

Run (both configurations: no faults, and 10 % of REST responses failing with every fault kind)::

    .venv/bin/python benchmarks/crash_safety.py --kills 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd

from atb.config.secrets import Credentials
from atb.execution.ccxt import RetryPolicy, create_ccxt_exchange
from atb.execution.reconcile import client_id_prefix, reconcile
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore
from atb.testing.emulator import FAULT_KINDS, BinanceEmulator, EmulatorConfig, FaultConfig
from atb.testing.venue_checks import verify_venue_state

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ATB_SHARED_DIR", REPO.parent / "shared"))
STRATEGIES = REPO / "tests" / "fixtures" / "strategies"
KEY, SECRET = "emulator-test-key", "emulator-test-secret"
STRATEGY_ID = "harness"
TF_MS = 300_000


@dataclass(slots=True)
class RunReport:
    """What one configuration did and found."""

    name: str
    kills: int = 0
    kill_modes: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    candles: int = 0
    orders: int = 0
    venue_orders: int = 0
    fills: int = 0
    rejected: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    tracebacks: int = 0
    exit_code: int | None = None
    reconcile_actions: dict[str, int] = field(default_factory=dict)
    restart_reconcile: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


class EmulatorThread:
    """The emulator on its own event loop in a thread, advancing every ``candle_ms``."""

    def __init__(self, cfg: EmulatorConfig, candle_ms: float) -> None:
        self.emu = BinanceEmulator(cfg)
        self.candle_ms = candle_ms
        self.advancing = threading.Event()
        self.advancing.set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.emu.start())
        self._loop.create_task(self._advance())
        self._ready.set()
        self._loop.run_forever()

    async def _advance(self) -> None:
        while True:
            await asyncio.sleep(self.candle_ms / 1000)
            if self.advancing.is_set():
                self.emu.advance(1)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        fut = asyncio.run_coroutine_threadsafe(self.emu.stop(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class Engine:
    """One harness subprocess; its stderr is read by a thread (started flag, last group, tracebacks)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = open(log, "a")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True, cwd=REPO)
        self.started = threading.Event()
        self.last_group = 0
        self.tracebacks = 0
        self.reconciled: dict[str, int] = {}
        self.state: tuple[list[str], list[str]] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.write(line)
            if line.startswith("harness: started"):
                acts = json.loads(line.split("reconcile ", 1)[1].split("}", 1)[0].replace("'", '"') + "}")
                self.reconciled = {str(k): int(v) for k, v in acts.items()}
                self.started.set()
            elif line.startswith("harness: state: "):
                loop_part, store_part = line.split("loop open trades ", 1)[1].split(" store positions ")
                self.state = (json.loads(loop_part), json.loads(store_part))
            elif line.startswith("harness: group "):
                self.last_group = int(line.split()[2])
            elif line.startswith("Traceback"):
                self.tracebacks += 1

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            self._reader.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.log.close()
        return code


def load_candles(pairs: tuple[str, ...], rows: int) -> dict[str, pd.DataFrame]:
    out = {}
    for pair in pairs:
        df = pd.read_feather(SHARED / "data/binance" / f"{pair.replace('/', '_')}-5m.feather")
        out[pair] = df[df["date"] >= pd.Timestamp("2025-03-01", tz="UTC")].iloc[:rows].reset_index(drop=True)
    return out


def _wait_until(cond: Callable[[], bool], timeout: float, step: float = 0.002) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def _our_orders(emu: BinanceEmulator, prefix: str) -> int:
    return sum(1 for o in emu.orders() if str(o["clientOrderId"]).startswith(prefix))


async def _final_check(emu: BinanceEmulator, db_url: str, work: Path, initial: dict[str, Decimal],
                       report: RunReport) -> None:
    config = {k: v for k, v in emu.ccxt_config().items() if k not in ("apiKey", "secret")}
    exchange = create_ccxt_exchange("binance", config_overrides=config, websocket=False,
                                    credentials=Credentials(exchange_id="binance", key=KEY, secret=SECRET),
                                    retry=RetryPolicy(max_attempts=3, initial_delay_s=0.05))
    db = create_db_engine(db_url, work)
    try:
        store = SqlOrderStore(create_session_factory(db))
        now = pd.Timestamp(emu.now_ms, unit="ms", tz="UTC").to_pydatetime()
        rep = await reconcile(store, exchange, strategy_id=STRATEGY_ID, venue="binance", now=now, grace_s=0.0)
        for a in rep.actions:
            report.reconcile_actions[a.kind] = report.reconcile_actions.get(a.kind, 0) + 1
        check = verify_venue_state(store, STRATEGY_ID, emu.orders(), emu.balances(), initial,
                                   prefix=client_id_prefix(STRATEGY_ID))
        report.orders, report.venue_orders = check.orders, check.venue_orders
        report.fills, report.rejected = check.fills, check.rejected
        report.failures += check.failures
        if not rep.consistent:
            report.failures.append(f"final reconcile not consistent: {rep.actions} {rep.balance_mismatches}")
    finally:
        await exchange.close()
        db.dispose()


def run_config(name: str, *, kills: int, candle_ms: float, failure_rate: float, seed: int,
               pairs: tuple[str, ...], work: Path, python: str = sys.executable,
               start_index: int = 300) -> RunReport:
    """One configuration: emulator thread + killed/restarted harness subprocess + final checks."""
    t0 = time.perf_counter()
    report = RunReport(name=name)
    rng = random.Random(seed)
    work.mkdir(parents=True, exist_ok=True)
    initial = {"USDT": Decimal(10000)}
    faults = FaultConfig(failure_rate=failure_rate, kinds=FAULT_KINDS, timeout_s=0.6)
    rows = start_index + int(kills * 6000 / candle_ms) + 400
    emu_cfg = EmulatorConfig(pairs=pairs, candles=load_candles(pairs, rows), timeframe="5m",
                             balances=initial, seed=seed, start_index=start_index, faults=faults)
    et = EmulatorThread(emu_cfg, candle_ms)
    et.start()
    emu = et.emu
    first_open = emu.now_ms - TF_MS
    ccxt_file = work / "ccxt.json"
    config = {k: v for k, v in emu.ccxt_config().items() if k not in ("apiKey", "secret")}
    ccxt_file.write_text(json.dumps({**config, "timeout": 400}))
    db_url = f"sqlite:///{work / 'atb.sqlite'}"
    retry = json.dumps({"max_attempts": 8, "max_total_s": 10.0, "initial_delay_s": 0.01,
                        "max_delay_s": 0.05, "jitter_s": 0.01, "max_retry_after_s": 0.05})
    args = [python, "-m", "atb.live.harness", "--ccxt-config", str(ccxt_file), "--db-url", db_url,
            "--checkpoint-dir", str(work / "ckpt"), "--strategy", "ChurnStrategy",
            "--strategy-path", str(STRATEGIES), "--pairs", *pairs, "--timeframe", "5m",
            "--wallet", "5000", "--stake-amount", "200", "--poll-interval", "0.05", "--retry", retry,
            "--breaker-threshold", "10", "--breaker-cool-down", "0.1"]
    env = {**os.environ, "ATB__EXCHANGE__BINANCE__KEY": KEY, "ATB__EXCHANGE__BINANCE__SECRET": SECRET}
    log = work / "engine.log"
    prefix = client_id_prefix(STRATEGY_ID)
    try:
        for _ in range(kills):
            eng = Engine(args, env, log)
            report.restarts += 1
            mode = rng.choices(["startup", "random", "after_order"], weights=[2, 4, 4])[0]
            if mode == "startup":
                time.sleep(rng.uniform(0.0, 1.5))
            else:
                if not eng.started.wait(60):
                    report.failures.append(f"engine did not start: see {log}")
                    eng.kill()
                    eng.wait(10)
                    break
                if mode == "random":
                    time.sleep(rng.uniform(0.0, 2 * candle_ms / 1000))
                else:
                    n0 = _our_orders(emu, prefix)
                    _wait_until(lambda n0=n0: _our_orders(emu, prefix) > n0, 6 * candle_ms / 1000)
                    time.sleep(rng.uniform(0.0, 0.03))
            if eng.proc.poll() is not None:
                report.failures.append(f"engine exited by itself with {eng.proc.returncode}: see {log}")
            eng.kill()
            eng.wait(10)
            report.kills += 1
            report.kill_modes[mode] = report.kill_modes.get(mode, 0) + 1
            report.tracebacks += eng.tracebacks
            for k, v in eng.reconciled.items():
                report.restart_reconcile[k] = report.restart_reconcile.get(k, 0) + v
        # last life: catch up, stop the replay, let it process the last candle, SIGTERM
        eng = Engine(args, env, log)
        report.restarts += 1
        eng.started.wait(60)
        time.sleep(4 * candle_ms / 1000)
        et.advancing.clear()
        time.sleep(candle_ms / 1000)
        last_open = emu.now_ms - TF_MS
        if not _wait_until(lambda: eng.last_group >= last_open, 60, 0.05):
            report.failures.append(f"engine did not reach the last candle {last_open} (at {eng.last_group})")
        eng.proc.send_signal(signal.SIGTERM)
        report.exit_code = eng.wait(30)
        report.tracebacks += eng.tracebacks
        if report.exit_code != 0:
            report.failures.append(f"graceful stop exited with {report.exit_code}")
        for k, v in eng.reconciled.items():
            report.restart_reconcile[k] = report.restart_reconcile.get(k, 0) + v
        if eng.state is None or eng.state[0] != eng.state[1]:
            report.failures.append(f"(e) loop open trades != store positions: {eng.state}")
        if report.tracebacks:
            report.failures.append(f"{report.tracebacks} unhandled exception(s) in {log}")
        report.candles = (last_open - first_open) // TF_MS
        report.faults = emu.faults_injected
        emu.set_faults(FaultConfig())
        asyncio.run(_final_check(emu, db_url, work, initial, report))
    finally:
        et.stop()
    report.seconds = time.perf_counter() - t0
    return report


def format_report(r: RunReport) -> str:
    lines = [f"### {r.name}: {'PASS' if r.ok else 'FAIL'}", "",
             f"- kills (SIGKILL): {r.kills} {dict(sorted(r.kill_modes.items()))}; "
             f"engine starts: {r.restarts}; graceful stop exit code: {r.exit_code}",
             f"- candles replayed: {r.candles}; orders in the store: {r.orders} ({r.rejected} rejected/never "
             f"sent); orders on the venue: {r.venue_orders}; fills: {r.fills}",
             f"- faults injected: {dict(sorted(r.faults.items())) or 'none'}",
             f"- reconciliation at the {r.restarts} starts: "
             f"{dict(sorted(r.restart_reconcile.items())) or 'nothing to do'}",
             f"- final reconcile actions: {dict(sorted(r.reconcile_actions.items())) or 'none'}",
             f"- unhandled exceptions: {r.tracebacks}; time: {r.seconds:.1f} s",
             "- checks: (a) no order lost, (b) no duplicate, (c) no orphan, (d) positions and quote "
             f"balance = fills, (e) loop open trades = store positions: {'all passed' if r.ok else 'FAILED'}"]
    lines += [f"  - {f}" for f in r.failures[:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kills", type=int, default=50, help="SIGKILLs per configuration")
    p.add_argument("--candle-ms", type=float, default=400.0, help="wall ms between two emulator candles")
    p.add_argument("--pairs", nargs="+", default=["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--configs", default="clean,faults", help="clean (no faults), faults (10 %% failing)")
    p.add_argument("--workdir", type=Path, default=None, help="keep the store/logs here (default: temp)")
    a = p.parse_args(argv)
    reports = []
    with tempfile.TemporaryDirectory(prefix="atb-crash-") as tmp:
        base = a.workdir or Path(tmp)
        for name in a.configs.split(","):
            rate = {"clean": 0.0, "faults": 0.1}[name]
            label = f"{name} (failure rate {rate:.0%}, {a.kills} kills, candle every {a.candle_ms:.0f} ms)"
            r = run_config(label, kills=a.kills, candle_ms=a.candle_ms, failure_rate=rate,
                           seed=a.seed, pairs=tuple(a.pairs), work=base / name)
            print(format_report(r) + "\n", flush=True)
            reports.append(r)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
