"""Engine control: graceful stop while the feed is idle, hot reload of strategy parameters."""

from __future__ import annotations

import asyncio

import pytest
from test_paper_parity import build_paper_engine

from atb.backtest.kernels import records as rec
from atb.errors import ConfigError
from atb.orders.memory import InMemoryOrderStore


def test_stop_request_ends_run_while_the_feed_waits() -> None:
    store = InMemoryOrderStore()
    engine, _feed, before, _paper, _ = build_paper_engine("RsiBbMeanReversion", "20250101-20250105", store)

    async def idle_feed():
        await asyncio.sleep(3600)
        yield None  # pragma: no cover - never reached

    async def main() -> float:
        await engine.start()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        loop.call_later(0.2, engine.request_stop)
        await engine.run(idle_feed(), before_group=before)
        return loop.time() - t0

    assert asyncio.run(main()) < 2.0


def test_hot_reload_applies_between_candles() -> None:
    store = InMemoryOrderStore()
    engine, feed, before, _paper, _ = build_paper_engine("RsiBbMeanReversion", "20250101-20250110", store)
    bot = engine.bots[0]
    assert bot.runner.stepper._params[rec.P_STOPLOSS] == pytest.approx(-0.08)
    with pytest.raises(ConfigError, match="no parameter"):
        engine.reload("s1", {"no_such_parameter": 1})
    with pytest.raises(ConfigError, match="unknown strategy id"):
        engine.reload("nope", {"stoploss": -0.02})

    async def main() -> None:
        await engine.start()
        await engine.run(feed, before_group=before, max_groups=5)
        engine.reload("s1", {"stoploss": -0.02, "minimal_roi": {"0": 0.5}})
        # queued: nothing changes until the next candle
        assert bot.runner.stepper._params[rec.P_STOPLOSS] == pytest.approx(-0.08)
        await engine.run(feed, before_group=before, max_groups=1)

    asyncio.run(main())
    assert bot.runner.strategy.stoploss == -0.02
    assert bot.runner.stepper._params[rec.P_STOPLOSS] == pytest.approx(-0.02)
    roi_keys, roi_vals = bot.runner.stepper._roi
    assert list(roi_keys) == [0] and list(roi_vals) == [0.5]
