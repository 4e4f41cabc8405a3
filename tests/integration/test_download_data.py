"""ccxt's real binance client downloads real candles from a local emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json

import ccxt.async_support as ccxt_async
import pandas as pd
import pytest
from typer.testing import CliRunner

from atb.cli.main import app, expand_multi_value_flags
from atb.data.download import download_pair
from atb.data.storage import FileCandleStore
from atb.testing.binance_server import BinanceKlineServer


@pytest.fixture(scope="module")
def btc_1h(shared_dir) -> pd.DataFrame:
    df = pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather")
    return df[df["date"] < pd.Timestamp("2024-03-01", tz="UTC")].reset_index(drop=True)


def _run(coro):
    return asyncio.run(coro)


async def _download(server, store, since, until=None, limit=200):
    ex = ccxt_async.binance(server.ccxt_config())
    try:
        await ex.load_markets()
        return await download_pair(ex, store, "BTC/USDT", "1h", since_ms=since, until_ms=until,
                                   limit=limit, now_ms=lambda: server._server.now_ms)
    finally:
        await ex.close()


def test_paginated_download_equals_source_and_resumes(tmp_path, btc_1h):
    store = FileCandleStore(tmp_path, "feather")
    since = int(btc_1h["date"].iloc[0].value // 1_000_000)
    half = btc_1h.iloc[:700]
    with BinanceKlineServer({("BTC/USDT", "1h"): half}) as server:
        report = _run(_download(server, store, since))
        assert server.requests["/api/v3/exchangeInfo"] == 1
        assert report.requests == server.requests["/api/v3/klines"] >= 4  # 700 / 200 per page
    stored = store.load("BTC/USDT", "1h")
    pd.testing.assert_frame_equal(stored, half.reset_index(drop=True), check_dtype=False)
    assert str(stored["date"].dtype).endswith("UTC]")
    # the source grows: a second run fetches only what is new
    with BinanceKlineServer({("BTC/USDT", "1h"): btc_1h}) as server:
        report = _run(_download(server, store, since))
        assert report.new_candles == len(btc_1h) - 700
        assert report.requests <= (len(btc_1h) - 700) // 200 + 2
    pd.testing.assert_frame_equal(store.load("BTC/USDT", "1h"), btc_1h, check_dtype=False)


def test_rate_limiter_is_on(btc_1h):
    with BinanceKlineServer({("BTC/USDT", "1h"): btc_1h}) as server:
        ex = ccxt_async.binance(server.ccxt_config())
        assert ex.enableRateLimit and ex.rateLimit > 0
        _run(ex.close())


def test_cli_download_data_into_datadir(tmp_path, btc_1h):
    part = btc_1h.iloc[:300]
    with BinanceKlineServer({("BTC/USDT", "1h"): part}) as server:
        cfg = {"exchange": {"name": "binance", "ccxt_config": server.ccxt_config()}}
        cfg_path = tmp_path / "config.json"
        cfg_path.write_text(json.dumps(cfg))
        start = part["date"].iloc[0].strftime("%Y%m%d")
        stop = part["date"].iloc[-1].strftime("%Y%m%d")
        args = ["download-data", "--config", str(cfg_path), "--pairs", "BTC/USDT",
                "--timeframes", "1h", "--timerange", f"{start}-{stop}", "--datadir",
                str(tmp_path / "data")]
        result = CliRunner().invoke(app, expand_multi_value_flags(args))
    assert result.exit_code == 0, result.output
    stored = FileCandleStore(tmp_path / "data", "feather").load("BTC/USDT", "1h")
    expected = part[part["date"] <= pd.Timestamp(stop, tz="UTC")].reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
