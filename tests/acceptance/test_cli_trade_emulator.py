"""``atb trade --live`` end to end against the Binance emulator (real 1h candles, 127.0.0.1 only).

The emulator runs on its own event loop in a thread and steps one candle every 0.3 s; ``atb trade``
runs through the CLI entry point with ccxt's own binance client pointed at it (``--ccxt-config``),
keys from the environment, the venue's clock for candle closes and order times. After six candle
groups the command exits 0, and the run store agrees with the emulator's own records.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from atb.cli.main import main
from atb.execution.reconcile import client_id_prefix
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore
from atb.testing.emulator import BinanceEmulator, EmulatorConfig
from atb.testing.venue_checks import VENUE_STATUS, verify_venue_state

STRATEGIES = Path(__file__).resolve().parents[1] / "fixtures" / "strategies"
PAIRS = ("BTC/USDT", "ETH/USDT")
KEY, SECRET = "emulator-test-key", "emulator-test-secret"
USDT = Decimal(10000)
#: current candle at start (2025-03-08 09:00 UTC): two green candles in a row end many of the
#: following 1h candles of BTC or ETH, so the churn strategy enters within six groups wherever
#: in that stretch the run starts
START = 177
STEP_S = 0.3


class EmulatorThread:
    """The emulator on its own event loop in a daemon thread.

    While ``advancing`` is set and the file ``gate`` exists (the run store: ``atb trade`` is
    starting), it steps one candle every ``STEP_S`` seconds.
    """

    def __init__(self, cfg: EmulatorConfig) -> None:
        self.emu = BinanceEmulator(cfg)
        self.advancing = threading.Event()
        self.gate: Path | None = None
        self.steps = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._task: asyncio.Task[None] | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.emu.start())
        self._task = self._loop.create_task(self._advance())
        self._ready.set()
        self._loop.run_forever()

    async def _advance(self) -> None:
        while True:
            await asyncio.sleep(STEP_S)
            if self.advancing.is_set() and (self.gate is None or self.gate.exists()):
                self.steps += self.emu.advance(1)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("emulator did not start")

    def stop(self) -> None:
        self.advancing.clear()
        if self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        asyncio.run_coroutine_threadsafe(self.emu.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def emulator(shared_dir: Path) -> Iterator[EmulatorThread]:
    candles = {}
    for pair in PAIRS:
        df = pd.read_feather(shared_dir / "data" / "binance" / f"{pair.replace('/', '_')}-1h.feather")
        candles[pair] = df[df["date"] >= pd.Timestamp("2025-03-01", tz="UTC")].iloc[:START + 200]
    cfg = EmulatorConfig(pairs=PAIRS, candles=candles, timeframe="1h", balances={"USDT": USDT},
                         seed=5, start_index=START)
    et = EmulatorThread(cfg)
    et.start()
    try:
        yield et
    finally:
        et.stop()


def test_atb_trade_live_against_the_emulator(tmp_path: Path, emulator: EmulatorThread, monkeypatch,
                                             capsys) -> None:
    emu = emulator.emu
    ccxt_file = tmp_path / "ccxt.json"
    ccxt_config = {k: v for k, v in emu.ccxt_config().items() if k not in ("apiKey", "secret")}
    ccxt_file.write_text(json.dumps(ccxt_config))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "timeframe": "1h", "stake_currency": "USDT", "stake_amount": 500, "dry_run_wallet": 5000,
        "max_open_trades": 2, "fee": 0.001, "exchange": {"name": "binance", "pair_whitelist": list(PAIRS)}}))
    monkeypatch.setenv("ATB__EXCHANGE__BINANCE__KEY", KEY)
    monkeypatch.setenv("ATB__EXCHANGE__BINANCE__SECRET", SECRET)
    userdir = tmp_path / "user_data"
    emulator.gate = userdir / "atb.sqlite"
    emulator.advancing.set()
    with pytest.raises(SystemExit) as exc:
        main(["trade", "-c", str(config), "-s", "ChurnStrategy", "--strategy-path", str(STRATEGIES),
              "--live", "--i-understand-live-risk", "--ccxt-config", str(ccxt_file), "--max-candles", "6",
              "--userdir", str(userdir)])
    emulator.advancing.clear()
    out = capsys.readouterr()
    assert exc.value.code == 0, out.out + out.err
    assert "LIVE" in out.out and "in 6 groups" in out.out, out.out
    assert emulator.steps >= 6

    engine = create_db_engine(None, userdir)
    try:
        store = SqlOrderStore(create_session_factory(engine))
        orders = store.orders("ChurnStrategy")
        venue = {o["clientOrderId"]: o for o in emu.orders()}
        assert orders, "the churn strategy must trade within six 1h candles"
        for o in orders:
            assert o.client_order_id in venue, o
            assert VENUE_STATUS[venue[o.client_order_id]["status"]] == o.status.value
        check = verify_venue_state(store, "ChurnStrategy", emu.orders(), emu.balances(), {"USDT": USDT},
                                   prefix=client_id_prefix("ChurnStrategy"))
        assert check.ok, check.failures
        print(f"orders={check.orders} fills={check.fills} emulator steps={emulator.steps}")
        balances = emu.balances()
        held = {p.pair: p.amount for p in store.positions("ChurnStrategy")}
        for pair in PAIRS:
            free, locked = balances.get(pair.split("/")[0], (Decimal(0), Decimal(0)))
            assert held.get(pair, Decimal(0)) == free + locked, (pair, held, balances)
    finally:
        engine.dispose()
