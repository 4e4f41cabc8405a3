"""Fault injection seen through ccxt's real binance client."""

from __future__ import annotations

import json
import time

import ccxt
import pytest

from atb.testing.emulator import BinanceEmulator, FaultConfig

ORDER = ("/api/v3/order",)


def test_429_raises_rate_limit_class(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        emu.set_faults(FaultConfig(failure_rate=1.0, kinds=("429",)))
        with pytest.raises(ccxt.DDoSProtection):  # RateLimitExceeded's parent: ccxt maps HTTP 429 here
            await ex.fetch_balance()
        emu.set_faults(FaultConfig())
        assert (await ex.fetch_balance())["USDT"]["free"] == 10000.0
        assert emu.faults_injected == {"429": 1}

    run(emu_config, scenario)


def test_lost_response_places_the_order_and_fetch_by_client_id_finds_it(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        emu.set_faults(FaultConfig(failure_rate=1.0, kinds=("lost_response",), endpoints=ORDER))
        with pytest.raises(ccxt.NetworkError):
            await ex.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "lost-1"})
        emu.set_faults(FaultConfig())
        found = await ex.fetch_order(None, "BTC/USDT", {"clientOrderId": "lost-1"})
        assert found["status"] == "closed" and found["filled"] == 0.01
        assert [o["clientOrderId"] for o in emu.orders()] == ["lost-1"]

    run(emu_config, scenario)


def test_disconnect_timeout_and_5xx_are_not_executed(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        for kind, expected in (("disconnect", ccxt.NetworkError), ("timeout", ccxt.RequestTimeout)):
            emu.set_faults(FaultConfig(failure_rate=1.0, kinds=(kind,), endpoints=ORDER, timeout_s=0.5))
            start = time.perf_counter()
            with pytest.raises(expected):
                await ex.create_order("BTC/USDT", "market", "buy", 0.01)
            assert time.perf_counter() - start < 1.0
        emu.set_faults(FaultConfig(failure_rate=1.0, kinds=("5xx",), endpoints=ORDER))
        for _ in range(4):  # 500/503 carry Binance bodies (-1000/-1001 -> OperationFailed); 502 is HTML
            with pytest.raises((ccxt.OperationFailed, ccxt.ExchangeNotAvailable)):
                await ex.create_order("BTC/USDT", "market", "buy", 0.01)
        assert emu.orders() == []

    run(emu_config, scenario, timeout=250)


def test_malformed_body_is_served_truncated_and_not_executed(run, emu_config):
    # ccxt 4.5 does not raise on a truncated 200 body: it parses the raw text into an empty
    # structure (order id None, OHLCV rows of None, balance with info=str). Callers (the atb ccxt
    # adapter) must treat a result whose "info" is not a dict/list as a failed request.
    async def scenario(emu: BinanceEmulator, ex):
        emu.set_faults(FaultConfig(failure_rate=1.0, kinds=("malformed",)))
        ex.enableLastHttpResponse = True
        for call in (lambda: ex.create_order("BTC/USDT", "market", "buy", 0.01),
                     lambda: ex.fetch_balance(), lambda: ex.fetch_order("1", "BTC/USDT")):
            try:
                result = await call()
            except (ccxt.BaseError, TypeError, AttributeError, ValueError):
                continue
            assert not isinstance(result.get("info"), dict | list) and result.get("id") is None
        body = ex.last_http_response
        with pytest.raises(ValueError):
            json.loads(body)
        assert body.startswith("{")
        assert emu.orders() == []

    run(emu_config, scenario)


def test_fault_draws_are_deterministic_by_seed(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        emu.set_faults(FaultConfig(failure_rate=0.5, kinds=("429", "5xx")))
        outcome = []
        for _ in range(12):
            try:
                await ex.fetch_time()
                outcome.append("ok")
            except ccxt.BaseError as exc:
                outcome.append(type(exc).__name__)
        return outcome

    first, second = run(emu_config, scenario), run(emu_config, scenario)
    assert first == second and "ok" in first and len(set(first)) > 1
