"""ccxt's real binance client against the emulator: markets, data, orders, balances, errors."""

from __future__ import annotations

from decimal import Decimal as D

import ccxt
import pytest

from atb.testing.emulator import BinanceEmulator


def test_load_markets_serves_filters_as_precision_and_limits(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        m = ex.market("BTC/USDT")
        assert m["spot"] and m["id"] == "BTCUSDT"
        assert m["precision"]["price"] == 0.01 and m["precision"]["amount"] == 0.00001
        assert m["limits"]["cost"]["min"] == 5.0 and m["limits"]["amount"]["min"] == 0.00001
        assert ex.market("ETH/USDT")["precision"]["amount"] == 0.0001
        assert await ex.fetch_time() == emu.now_ms
        assert emu.rest_url.startswith("http://127.0.0.1:") and emu.ws_url.startswith("ws://127.0.0.1:")

    run(emu_config, scenario)


def test_fetch_ohlcv_never_returns_candles_after_the_replay_clock(run, emu_config, emu_candles):
    async def scenario(emu: BinanceEmulator, ex):
        since = emu.now_ms - 10 * 3_600_000
        rows = await ex.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=50)
        assert len(rows) == 10 and rows[-1][0] == emu.now_ms - 3_600_000
        src = emu_candles["BTC/USDT"].iloc[500]  # the current candle (start_index)
        assert rows[-1][1:5] == [src.open, src.high, src.low, src.close]
        latest = await ex.fetch_ohlcv("BTC/USDT", "1h", limit=5)
        assert latest[-1][0] < emu.now_ms and len(latest) == 5
        emu.advance(3)
        rows = await ex.fetch_ohlcv("BTC/USDT", "1h", since=since, limit=50)
        assert len(rows) == 13 and rows[-1][0] == emu.now_ms - 3_600_000
        with pytest.raises(ccxt.BadRequest):
            await ex.fetch_ohlcv("BTC/USDT", "5m")  # only the replay timeframe is served
        ticker = await ex.fetch_ticker("BTC/USDT")
        book = await ex.fetch_order_book("BTC/USDT", limit=5)
        assert ticker["last"] == rows[-1][4] and ticker["ask"] - ticker["bid"] == pytest.approx(0.01)
        assert book["asks"][0][0] == ticker["ask"] and book["bids"][0][0] == ticker["bid"]
        assert len(book["asks"]) == 5 and set(await ex.fetch_tickers()) == {"BTC/USDT", "ETH/USDT"}

    run(emu_config, scenario)


def test_market_buy_changes_balances_by_cost_plus_fee(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        before = await ex.fetch_balance()
        ask = (await ex.fetch_ticker("BTC/USDT"))["ask"]
        order = await ex.create_order("BTC/USDT", "market", "buy", 0.01)
        assert order["status"] == "closed" and order["filled"] == 0.01
        cost = D(str(ask)) * D("0.01")
        fee = cost * D("0.001")
        assert order["fee"] == {"currency": "USDT", "cost": float(fee)}
        assert emu.balances()["USDT"] == (D(10000) - cost - fee, D(0))
        assert emu.balances()["BTC"] == (D("0.51"), D(0))
        after = await ex.fetch_balance()
        assert after["USDT"]["free"] == pytest.approx(before["USDT"]["free"] - float(cost + fee))
        trades = await ex.fetch_my_trades("BTC/USDT")
        assert len(trades) == 1 and trades[0]["order"] == order["id"]

    run(emu_config, scenario)


def test_limit_order_rests_then_fills_on_advance_with_maker_fee(run, emu_config, emu_candles):
    src = emu_candles["BTC/USDT"]
    # the first later candle whose low reaches 0.5 % under the current close
    price = round(float(src.close.iloc[500]) * 0.995, 2)
    hit = next(i for i in range(501, 800) if src.low.iloc[i] <= price)

    async def scenario(emu: BinanceEmulator, ex):
        order = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, price, {"clientOrderId": "rest-1"})
        assert order["status"] == "open"
        locked = D(str(price)) * D("0.01") * D("1.001")
        assert emu.balances()["USDT"] == (D(10000) - locked, locked)
        assert [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
        emu.advance(hit - 501)
        assert (await ex.fetch_order(order["id"], "BTC/USDT"))["status"] == "open"
        emu.advance()
        done = await ex.fetch_order(None, "BTC/USDT", {"clientOrderId": "rest-1"})
        assert done["status"] == "closed" and done["filled"] == 0.01 and done["price"] == price
        trade = (await ex.fetch_my_trades("BTC/USDT"))[0]
        assert trade["takerOrMaker"] == "maker" and trade["price"] == price
        cost = D(str(price)) * D("0.01")
        assert emu.balances()["USDT"] == (D(10000) - cost - cost * D("0.001"), D(0))
        assert await ex.fetch_open_orders("BTC/USDT") == []

    run(emu_config, scenario)


def test_cancel_and_fetch_by_client_order_id(run, emu_config):
    async def scenario_btc(emu: BinanceEmulator, ex):
        order = await ex.create_order("BTC/USDT", "limit", "sell", 0.1, 999999, {"clientOrderId": "c-1"})
        assert emu.balances()["BTC"] == (D("0.4"), D("0.1"))
        fetched = await ex.fetch_order(None, "BTC/USDT", {"clientOrderId": "c-1"})
        assert fetched["id"] == order["id"] and fetched["status"] == "open"
        cancelled = await ex.cancel_order(None, "BTC/USDT", {"clientOrderId": "c-1"})
        assert cancelled["status"] == "canceled" and cancelled["clientOrderId"] == "c-1"
        assert emu.balances()["BTC"] == (D("0.5"), D(0))
        with pytest.raises(ccxt.OrderNotFound):
            await ex.cancel_order(order["id"], "BTC/USDT")
        assert [o["status"] for o in await ex.fetch_orders("BTC/USDT")] == ["canceled"]
        assert emu.orders()[0]["clientOrderId"] == "c-1" and emu.orders()[0]["status"] == "CANCELED"
        with pytest.raises(ccxt.InsufficientFunds):  # no ETH to sell
            await ex.create_order("ETH/USDT", "limit", "sell", 0.1, 99999)

    run(emu_config, scenario_btc)


def test_rejections_map_to_ccxt_exceptions(run, emu_config):
    async def scenario(emu: BinanceEmulator, ex):
        await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000, {"clientOrderId": "dup-1"})
        with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
            await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 1000, {"clientOrderId": "dup-1"})
        with pytest.raises(ccxt.InsufficientFunds):
            await ex.create_order("BTC/USDT", "market", "buy", 1)
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order("424242", "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound):
            await ex.fetch_order(None, "BTC/USDT", {"clientOrderId": "nope"})
        ask = (await ex.fetch_ticker("BTC/USDT"))["ask"]
        with pytest.raises(ccxt.OrderImmediatelyFillable):
            await ex.create_order("BTC/USDT", "limit", "buy", 0.01, ask, {"postOnly": True})
        with pytest.raises(ccxt.InvalidOrder):  # LOT_SIZE (ccxt matches the filter name)
            await ex.private_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                         "quantity": "0.000011"})
        with pytest.raises(ccxt.BadRequest):  # NOTIONAL: -1013 -> BadRequest, as on Binance
            await ex.create_order("BTC/USDT", "limit", "buy", 0.0001, 1000)
        with pytest.raises(ccxt.BadSymbol):
            await ex.public_get_depth({"symbol": "NOPEUSDT"})
        assert len(emu.orders()) == 1

    run(emu_config, scenario)


def test_stop_loss_limit_triggers_on_advance(run, emu_config, emu_candles):
    src = emu_candles["BTC/USDT"]
    stop = round(float(src.close.iloc[500]) * 0.99, 2)
    hit = next(i for i in range(501, 800) if src.low.iloc[i] <= stop)

    async def scenario(emu: BinanceEmulator, ex):
        order = await ex.create_order("BTC/USDT", "limit", "sell", 0.1, round(stop * 0.99, 2),
                                      {"stopLossPrice": stop})
        assert emu.orders()[0]["type"] == "STOP_LOSS_LIMIT"
        emu.advance(hit - 500)
        done = await ex.fetch_order(order["id"], "BTC/USDT")
        assert done["status"] == "closed" and done["filled"] == 0.1

    run(emu_config, scenario)


def test_signed_endpoints_require_api_key_timestamp_and_signature(run, emu_config):
    import aiohttp

    async def scenario(emu: BinanceEmulator, ex):
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{emu.rest_url}/account") as resp:
                assert resp.status == 401 and (await resp.json())["code"] == -2014
            headers = {"X-MBX-APIKEY": "k"}
            async with http.get(f"{emu.rest_url}/account?timestamp=1", headers=headers) as resp:
                assert resp.status == 400 and (await resp.json())["code"] == -1102
            async with http.get(f"{emu.rest_url}/account?timestamp=1&signature=x",
                                headers=headers) as resp:
                assert resp.status == 200 and (await resp.json())["accountType"] == "SPOT"

    run(emu_config, scenario)
