"""Fixtures for the Binance emulator tests: real candles, a config, and a runner for scenarios."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
import pandas as pd
import pytest

from atb.testing.emulator import BinanceEmulator, EmulatorConfig

PAIRS = ("BTC/USDT", "ETH/USDT")


@pytest.fixture(scope="session")
def emu_candles(shared_dir) -> dict[str, pd.DataFrame]:
    return {p: pd.read_feather(shared_dir / f"data/binance/{p.replace('/', '_')}-1h.feather").iloc[:800]
            for p in PAIRS}


@pytest.fixture
def emu_config(emu_candles) -> EmulatorConfig:
    return EmulatorConfig(pairs=PAIRS, candles=emu_candles, timeframe="1h",
                          balances={"USDT": Decimal(10000), "BTC": Decimal("0.5")}, start_index=500)


Scenario = Callable[[BinanceEmulator, Any], Awaitable[Any]]


def run_scenario(config: EmulatorConfig, scenario: Scenario, **client_options: Any) -> Any:
    """Start the emulator, build ccxt's real binance client on it, run, close everything."""

    async def main() -> Any:
        async with BinanceEmulator(config) as emu:
            exchange = ccxt_async.binance({**emu.ccxt_config(), **client_options})
            try:
                await exchange.load_markets()
                return await scenario(emu, exchange)
            finally:
                await exchange.close()

    return asyncio.run(main())


@pytest.fixture
def run() -> Callable[..., Any]:
    """:func:`run_scenario` (tests take it as a fixture; test folders are not packages)."""
    return run_scenario
