"""ccxt.pro's binance client on the emulator's websockets: market streams and the user data stream."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import ccxt
import ccxt.pro as ccxtpro
import pytest

from atb.testing.emulator import BinanceEmulator, EmulatorConfig, FaultConfig


def _run_pro(config: EmulatorConfig, scenario):
    async def main():
        async with BinanceEmulator(config) as emu:
            ex = ccxtpro.binance(emu.ccxt_config())
            try:
                await ex.load_markets()
                return await scenario(emu, ex)
            finally:
                await ex.close()

    return asyncio.run(main())


async def _settle(task: asyncio.Task, until) -> None:
    """Let a watch_* task subscribe: wait until ``until()`` (a subscription is visible)."""
    for _ in range(100):
        if until() or task.done():
            return
        await asyncio.sleep(0.01)


def test_watch_ohlcv_and_ticker_get_the_next_candle_on_advance(emu_config, emu_candles):
    async def scenario(emu: BinanceEmulator, ex):
        ohlcv = asyncio.create_task(ex.watch_ohlcv("BTC/USDT", "1h"))
        ticker = asyncio.create_task(ex.watch_ticker("ETH/USDT"))
        hub = emu._core.hub
        await _settle(ohlcv, lambda: hub.wants("btcusdt@kline_1h") and hub.wants("ethusdt@ticker"))
        emu.advance()
        candles = await asyncio.wait_for(ohlcv, 5)
        src = emu_candles["BTC/USDT"].iloc[501]
        assert candles[-1] == [emu.now_ms - 3_600_000, src.open, src.high, src.low, src.close, src.volume]
        tick = await asyncio.wait_for(ticker, 5)
        assert tick["last"] == emu_candles["ETH/USDT"].close.iloc[501]

    _run_pro(emu_config, scenario)


def test_watch_orders_and_balance_get_the_fill_from_the_user_stream(emu_config, emu_candles):
    src = emu_candles["BTC/USDT"]
    price = round(float(src.close.iloc[500]) * 0.995, 2)
    hit = next(i for i in range(501, 800) if src.low.iloc[i] <= price)

    async def scenario(emu: BinanceEmulator, ex):
        watch = asyncio.create_task(ex.watch_orders("BTC/USDT"))
        hub = emu._core.hub
        await _settle(watch, lambda: any(c.user_sub is not None for c in hub._conns))
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, price, {"clientOrderId": "ws-1"})
        seen = await asyncio.wait_for(watch, 5)
        assert seen[-1]["id"] == order["id"] and seen[-1]["status"] == "open"
        balance = asyncio.create_task(ex.watch_balance())
        emu.advance(hit - 500)
        while True:
            seen = await asyncio.wait_for(ex.watch_orders("BTC/USDT"), 5)
            if seen[-1]["status"] == "closed":
                break
        assert seen[-1]["clientOrderId"] == "ws-1" and seen[-1]["filled"] == 0.01
        usdt = (await asyncio.wait_for(balance, 5))["USDT"]
        cost = D(str(price)) * D("0.01")
        assert usdt["free"] == pytest.approx(float(D(10000) - cost * D("1.001")))

    _run_pro(emu_config, scenario)


def test_ws_drop_closes_the_stream(emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        emu.set_faults(FaultConfig(ws_drop_rate=1.0))
        watch = asyncio.create_task(ex.watch_ohlcv("BTC/USDT", "1h"))
        await _settle(watch, lambda: emu._core.hub.wants("btcusdt@kline_1h"))
        emu.advance()
        with pytest.raises(ccxt.NetworkError):
            await asyncio.wait_for(watch, 5)
        assert emu.faults_injected == {"ws_drop": 1}

    _run_pro(emu_config, scenario)
