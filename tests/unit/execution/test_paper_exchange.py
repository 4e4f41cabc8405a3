"""PaperExchange: hand-computed fills, fees and balances; timing modes; order rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest

from atb.backtest.markets import MarketInfo
from atb.core.enums import OrderSide, OrderType, TimeInForce
from atb.errors import ConfigError, DataError, InsufficientFundsError, InvalidOrderError, OrderNotFoundError
from atb.execution.feeds import Candle
from atb.execution.fills import SlippageModel
from atb.execution.models import Market
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.execution.ports import ExchangeClient
from atb.orders.models import OrderRequest
from atb.orders.state import OrderStatus

D = Decimal
H = 3_600_000
BTC_1H = "/work/shared/data/binance/BTC_USDT-1h.feather"
MARKET = Market(pair="BTC/USDT", base="BTC", quote="USDT", price_tick=D("0.01"),
                amount_step=D("0.00001"), min_notional=D("5"), maker_fee=D("0.0002"),
                taker_fee=D("0.001"))
S = OrderStatus


def run(coro):
    return asyncio.run(coro)


def candle(i: int, o: float, h: float, lo: float, c: float, v: float = 1000.0) -> Candle:
    return Candle(pair="BTC/USDT", timeframe="1h", open_time_ms=i * H, open=o, high=h, low=lo, close=c,
                  volume=v)


def exchange(usdt: str = "1000", btc: str | None = None, **kw) -> PaperExchange:
    balances = {"USDT": D(usdt)}
    if btc is not None:
        balances["BTC"] = D(btc)
    ex = PaperExchange({"BTC/USDT": MARKET}, PaperConfig(balances=balances, **kw))
    ex.on_candle(candle(0, 100.0, 101.0, 99.0, 100.5))
    return ex


def req(cid: str, side: str = "buy", kind: str = "market", amount: str = "1", price: str | None = None,
        stop: str | None = None, **kw) -> OrderRequest:
    return OrderRequest(client_order_id=cid, pair="BTC/USDT", side=OrderSide(side),
                        order_type=OrderType(kind), amount=D(amount),
                        price=None if price is None else D(price),
                        stop_price=None if stop is None else D(stop), **kw)


def balance(ex: PaperExchange, cur: str) -> tuple[Decimal, Decimal]:
    b = run(ex.fetch_balance())[cur]
    return b.free, b.used


def test_is_an_exchange_client():
    assert isinstance(exchange(), ExchangeClient)


def test_next_open_market_buy_fills_at_next_open_with_taker_fee():
    ex = exchange()
    placed = run(ex.create_order(req("b1")))
    assert placed.status == S.OPEN and placed.filled == 0
    # locked: 1 x last close 100.5 x (1 + max fee 0.001) = 100.6005
    assert balance(ex, "USDT") == (D("899.3995"), D("100.6005"))
    updates = ex.on_candle(candle(1, 100.7, 102.0, 100.1, 101.0))
    assert [u.status for u in updates] == [S.FILLED]
    fill = updates[0].fills[0]
    assert (fill.price, fill.amount, fill.fee, fill.is_maker) == (D("100.7"), D(1), D("0.1007"), False)
    assert fill.at == datetime(1970, 1, 1, 1, tzinfo=UTC)  # the open time of candle 1
    # 1000 - 100.7 - 0.1007
    assert balance(ex, "USDT") == (D("899.1993"), D(0))
    assert balance(ex, "BTC") == (D(1), D(0))
    assert run(ex.fetch_my_trades("BTC/USDT")) == [fill]


def test_immediate_market_buy_fills_at_last_close_with_slippage():
    ex = exchange(fill_mode="immediate")
    placed = run(ex.create_order(req("b1")))
    assert placed.status == S.FILLED and placed.average == D("100.5")
    assert balance(ex, "USDT") == (D("1000") - D("100.5") - D("0.1005"), D(0))
    slip = exchange(fill_mode="immediate", slippage=SlippageModel(fixed_bps=10.0))
    # 100.5 x 1.001 = 100.6005 -> rounded up to the tick: 100.61
    assert run(slip.create_order(req("b1"))).average == D("100.61")


def test_next_open_vs_immediate_on_real_candles():
    df = pd.read_feather(BTC_1H).iloc[:4]
    rows = [Candle(pair="BTC/USDT", timeframe="1h", open_time_ms=int(r.date.value // 1_000_000),
                   open=r.open, high=r.high, low=r.low, close=r.close, volume=r.volume)
            for r in df.itertuples()]
    got = {}
    for mode in ("next_open", "immediate"):
        ex = PaperExchange(paper_markets(["BTC/USDT"]),
                           PaperConfig(fill_mode=mode, balances={"USDT": D(10**6)}))
        ex.on_candle(rows[0])
        ex.on_candle(rows[1])  # the engine decides on candle 01:00's close (42613.56)
        run(ex.create_order(req("b1", amount="0.01")))
        ex.on_candle(rows[2])
        fill = run(ex.fetch_my_trades("BTC/USDT"))[0]
        got[mode] = (fill.price, fill.at)
    # next_open: the open of candle 02:00, at its open time (the backtest's entry); immediate:
    # the last close, at the decision time (also 02:00)
    at = datetime(2024, 1, 1, 2, tzinfo=UTC)
    assert got == {"next_open": (D("42613.57"), at), "immediate": (D("42613.56"), at)}


def test_market_sell_credits_quote_minus_fee():
    ex = exchange(btc="2")
    run(ex.create_order(req("s1", side="sell")))
    assert balance(ex, "BTC") == (D(1), D(1))
    ex.on_candle(candle(1, 100.7, 102.0, 100.1, 101.0))
    assert balance(ex, "BTC") == (D(1), D(0))
    assert balance(ex, "USDT") == (D("1000") + D("100.7") - D("0.1007"), D(0))


def test_limit_buy_rests_until_the_low_crosses():
    ex = exchange()
    run(ex.create_order(req("l1", kind="limit", price="99.00")))
    assert balance(ex, "USDT") == (D("900.901"), D("99.099"))  # 99 x 1.001 locked
    assert ex.on_candle(candle(1, 100.0, 100.8, 99.5, 100.0)) == []
    assert ex.on_candle(candle(2, 100.0, 100.3, 99.2, 99.6)) == []
    assert [o.client_order_id for o in run(ex.fetch_open_orders())] == ["l1"]
    (u,) = ex.on_candle(candle(3, 99.6, 99.9, 98.9, 99.1))
    assert u.status == S.FILLED and u.average == D("99.00")
    assert u.fills[0].is_maker and u.fee == D("0.0198")  # 99 x 0.0002
    assert balance(ex, "USDT") == (D("1000") - D("99") - D("0.0198"), D(0))
    assert run(ex.fetch_open_orders()) == []


def test_stop_limit_sell_triggers_and_fills_or_rests():
    ex = exchange(btc="2")
    run(ex.create_order(req("sl", side="sell", kind="stop_limit", price="94.50", stop="95.00")))
    assert ex.on_candle(candle(1, 100.0, 100.5, 96.0, 97.0)) == []
    (u,) = ex.on_candle(candle(2, 97.0, 97.5, 94.8, 95.5))  # low reaches the stop
    assert u.status == S.FILLED and u.average == D("95.00") and not u.fills[0].is_maker
    assert balance(ex, "USDT") == (D("1000") + D("95") - D("0.095"), D(0))
    # gap: the whole candle below the stop -> triggered at the open 94, below the limit: rests
    run(ex.create_order(req("sl2", side="sell", kind="stop_limit", price="94.50", stop="95.00")))
    assert ex.on_candle(candle(3, 94.0, 94.3, 93.0, 94.2)) == []
    (u,) = ex.on_candle(candle(4, 94.2, 95.0, 94.0, 94.9))
    assert u.average == D("94.50") and u.fills[0].is_maker and u.fee == D("0.0189")


def test_post_only_rejected_when_it_would_take():
    ex = exchange()
    with pytest.raises(InvalidOrderError, match="would take"):
        run(ex.create_order(req("p1", kind="limit", price="101.00", post_only=True)))
    with pytest.raises(InvalidOrderError, match="would take"):
        run(ex.create_order(req("p2", kind="limit", price="100.50", time_in_force=TimeInForce.PO)))
    assert run(ex.create_order(req("p3", kind="limit", price="100.00", post_only=True))).status == S.OPEN
    with pytest.raises(InvalidOrderError):
        run(ex.create_order(req("p4", post_only=True)))
    assert balance(ex, "USDT") == (D("899.9"), D("100.1"))  # only p3 is locked


def test_duplicate_client_order_id_and_not_found():
    ex = exchange(fill_mode="immediate")
    run(ex.create_order(req("x1")))
    with pytest.raises(InvalidOrderError, match="duplicate"):
        run(ex.create_order(req("x1")))
    with pytest.raises(OrderNotFoundError):
        run(ex.fetch_order("BTC/USDT", "nope"))
    with pytest.raises(OrderNotFoundError):
        run(ex.cancel_order("BTC/USDT", "nope"))
    with pytest.raises(OrderNotFoundError):
        run(ex.fetch_order("ETH/USDT", "x1"))
    assert run(ex.fetch_order("BTC/USDT", "x1")).status == S.FILLED
    assert run(ex.cancel_order("BTC/USDT", "x1")).status == S.FILLED  # raced: final view


def test_cancel_releases_locked_funds():
    ex = exchange()
    run(ex.create_order(req("c1", kind="limit", price="90.00")))
    assert balance(ex, "USDT")[1] == D("90.09")
    assert run(ex.cancel_order("BTC/USDT", "c1")).status == S.CANCELLED
    assert balance(ex, "USDT") == (D(1000), D(0))


def test_validation_errors():
    ex = exchange("100")
    with pytest.raises(InsufficientFundsError):
        run(ex.create_order(req("f1", amount="2")))
    with pytest.raises(InvalidOrderError, match="step"):
        run(ex.create_order(req("f2", amount="0.000001")))
    with pytest.raises(InvalidOrderError, match="tick"):
        run(ex.create_order(req("f3", kind="limit", price="99.001")))
    with pytest.raises(InvalidOrderError, match="minimum"):
        run(ex.create_order(req("f4", amount="0.01")))  # 1.005 USDT < min notional 5
    with pytest.raises(InvalidOrderError, match="unknown pair"):
        ex.on_candle(Candle(pair="ETH/USDT", timeframe="1h", open_time_ms=0, open=1.0, high=1.0,
                            low=1.0, close=1.0, volume=1.0))
    with pytest.raises(DataError):
        ex.on_candle(candle(0, 100.0, 101.0, 99.0, 100.5))
    fresh = PaperExchange({"BTC/USDT": MARKET}, PaperConfig(balances={"USDT": D(100)}))
    with pytest.raises(InvalidOrderError, match="no market price"):
        run(fresh.create_order(req("f5")))
    with pytest.raises(ConfigError):
        PaperConfig(max_participation=1.5)
    with pytest.raises(ConfigError):
        PaperConfig(fill_mode="later")  # type: ignore[arg-type]


def test_partial_fills_with_10pct_participation_on_real_btc_volumes():
    df = pd.read_feather(BTC_1H).iloc[:5]
    # volumes of 2024-01-01 01:00..04:00: 1196.37856, 685.21980, 794.80391, 715.41760
    rows = [Candle(pair="BTC/USDT", timeframe="1h", open_time_ms=int(r.date.value // 1_000_000),
                   open=r.open, high=r.high, low=r.low, close=r.close, volume=r.volume)
            for r in df.itertuples()]
    market = Market(pair="BTC/USDT", base="BTC", quote="USDT", price_tick=D("0.01"),
                    amount_step=D("0.00001"), maker_fee=D("0.001"), taker_fee=D("0.001"))
    ex = PaperExchange({"BTC/USDT": market},
                       PaperConfig(balances={"USDT": D(20_000_000)}, max_participation=0.1))
    ex.on_candle(rows[0])
    run(ex.create_order(req("big", amount="300")))
    statuses = []
    for c in rows[1:]:
        statuses += [u.status for u in ex.on_candle(c)]
    assert statuses == [S.PARTIALLY_FILLED] * 3 + [S.FILLED]
    got = [(f.price, f.amount) for f in run(ex.fetch_my_trades("BTC/USDT"))]
    expected = [
        (D("42475.23"), D("119.63785")),  # 10 % of 1196.37856, truncated to the step
        (D("42613.57"), D("68.52198")),   # 10 % of 685.21980
        (D("42581.09"), D("79.48039")),   # 10 % of 794.80391
        (D("42330.50"), D("32.35978")),   # the remainder (< 71.541760)
    ]
    assert got == expected
    order = run(ex.fetch_order("BTC/USDT", "big"))
    cost = sum(p * a for p, a in expected)
    assert order.filled == D(300) and order.fee == cost * D("0.001")
    assert balance(ex, "USDT") == (D(20_000_000) - cost * D("1.001"), D(0))
    assert balance(ex, "BTC") == (D(300), D(0))


def test_ioc_and_fok():
    ex = exchange(max_participation=0.1)
    run(ex.create_order(req("ioc", kind="limit", price="99.00", time_in_force=TimeInForce.IOC)))
    (u,) = ex.on_candle(candle(1, 100.0, 100.5, 99.5, 100.0))  # not crossed on arrival
    assert u.status == S.EXPIRED and u.filled == 0
    # 10 % of 5 BTC volume = 0.5 of 1 BTC: IOC keeps the part, FOK fills nothing
    run(ex.create_order(req("ioc2", amount="1", time_in_force=TimeInForce.IOC)))
    run(ex.create_order(req("fok", amount="1", time_in_force=TimeInForce.FOK)))
    ups = ex.on_candle(candle(2, 100.0, 100.5, 99.5, 100.0, v=5.0))
    assert [(u.client_order_id, u.status, u.filled) for u in ups] == [
        ("ioc2", S.PARTIALLY_FILLED, D("0.5")), ("ioc2", S.EXPIRED, D("0.5")),
        ("fok", S.EXPIRED, D(0))]
    assert balance(ex, "USDT") == (D(1000) - D(50) - D("0.05"), D(0))


def test_latency_hides_the_order_and_delays_the_fill():
    ex = exchange(latency_ms=1)
    placed = run(ex.create_order(req("lat")))
    assert placed.status == S.SUBMITTED
    with pytest.raises(OrderNotFoundError):
        run(ex.fetch_order("BTC/USDT", "lat"))
    ups = ex.on_candle(candle(1, 100.7, 102.0, 100.1, 101.0))  # active after this candle's open
    assert [u.status for u in ups] == [S.OPEN]
    assert run(ex.fetch_order("BTC/USDT", "lat")).status == S.OPEN
    (u,) = ex.on_candle(candle(2, 101.2, 102.0, 100.1, 101.0))
    assert u.status == S.FILLED and u.average == D("101.2")


def test_set_price_matches_resting_orders_not_next_open_market_orders():
    ex = exchange(btc="1")
    run(ex.create_order(req("m", amount="0.1")))
    run(ex.create_order(req("tp", side="sell", kind="limit", price="102.00", amount="0.5")))
    assert ex.set_price("BTC/USDT", 101.5, 2 * H) == []
    (u,) = ex.set_price("BTC/USDT", 102.3, 2 * H + 1000)
    assert u.client_order_id == "tp" and u.average == D("102.3")  # crossed by the tick
    assert run(ex.fetch_order("BTC/USDT", "m")).status == S.OPEN
    assert run(ex.fetch_ticker("BTC/USDT")).last == D("102.3")


def test_watch_orders_ohlcv_and_ticker():
    async def scenario():
        ex = exchange()
        watcher = asyncio.create_task(ex.watch_orders())
        ohlcv = asyncio.create_task(ex.watch_ohlcv("BTC/USDT", "1h"))
        ticker = asyncio.create_task(ex.watch_ticker("BTC/USDT"))
        await asyncio.sleep(0)
        await ex.create_order(req("w1"))
        ex.on_candle(candle(1, 100.7, 102.0, 100.1, 101.0))
        batch = await asyncio.wait_for(watcher, 5)
        pending = asyncio.create_task(ex.watch_ticker("BTC/USDT"))
        await asyncio.sleep(0)
        await ex.close()  # cancels the pending watcher
        with pytest.raises(asyncio.CancelledError):
            await pending
        return batch, await ohlcv, await ticker, await ex.fetch_ohlcv("BTC/USDT", "1h")

    updates, ohlcv, ticker, history = run(scenario())
    assert [u.status for u in updates] == [S.OPEN, S.FILLED]
    assert ohlcv == [[H, 100.7, 102.0, 100.1, 101.0, 1000.0]]
    assert ticker.last == D("101.0") and ticker.timestamp == 2 * H
    assert [r[0] for r in history] == [0, H]


def test_paper_markets_from_backtest_defaults():
    df = pd.read_feather(BTC_1H).iloc[:50]
    m = paper_markets(["BTC/USDT", "ETH/USDT"], {"ETH/USDT": MarketInfo(amount_step=1e-4, min_cost=5.0,
                                                                       price_step=0.01, fee=0.00075)},
                      frames={"BTC/USDT": df})
    assert m["BTC/USDT"].price_tick == D("0.01")  # from the data's decimals
    assert m["BTC/USDT"].amount_step == D("1e-8") and m["BTC/USDT"].taker_fee == D("0.001")
    eth = m["ETH/USDT"]
    assert (eth.base, eth.quote, eth.amount_step, eth.min_notional, eth.maker_fee) == (
        "ETH", "USDT", D("0.0001"), D("5.0"), D("0.00075"))


def test_order_book_positions_and_trades():
    ex = exchange()
    book = run(ex.fetch_order_book("BTC/USDT"))
    assert book.bids == ((D("100.5"), D("1000.0")),) and book.asks == book.bids
    assert run(ex.fetch_positions()) == [] and run(ex.fetch_trades("BTC/USDT")) == []
    assert set(run(ex.load_markets())) == {"BTC/USDT"}
