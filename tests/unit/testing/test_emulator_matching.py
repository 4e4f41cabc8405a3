"""Emulator matching engine: hand-computed fills, fees and balances (no network)."""

from __future__ import annotations

import doctest
from decimal import Decimal as D

import pytest

import atb.testing.emulator as emulator_pkg
from atb.testing.emulator import matching as matching_mod
from atb.testing.emulator.market import derive_rules
from atb.testing.emulator.matching import MatchingEngine
from atb.testing.emulator.models import Candle, OrderRequest, Quote, Reject, SymbolRules

RULES = SymbolRules(pair="BTC/USDT", symbol="BTCUSDT", base="BTC", quote="USDT", tick=D("0.01"),
                    step=D("0.001"), min_qty=D("0.001"), min_notional=D(5))
Q = Quote(D("100.00"), D("100.01"))
FEE = D("0.001")


def engine(usdt="1000", btc="0") -> MatchingEngine:
    return MatchingEngine({"BTCUSDT": RULES}, {"USDT": D(usdt), "BTC": D(btc)}, FEE, FEE)


def req(side="BUY", type="LIMIT", qty="0.1", price=None, cid="c1", tif="GTC", stop=None, **kw):
    return OrderRequest(symbol="BTCUSDT", side=side, type=type, client_order_id=cid,
                        quantity=D(qty) if qty is not None else None,
                        price=D(price) if price else None, stop_price=D(stop) if stop else None,
                        time_in_force=tif if type != "MARKET" else None, **kw)


def test_module_doctest_and_public_api():
    assert doctest.testmod(matching_mod).failed == 0
    assert emulator_pkg.__all__ == sorted(emulator_pkg.__all__)
    assert emulator_pkg.__all__ == ["BinanceEmulator", "EmulatorConfig", "FAULT_KINDS", "FaultConfig"]


def test_market_buy_and_sell_take_the_spread_and_pay_taker_fee():
    eng = engine()
    o = eng.place(req(type="MARKET"), Q, 1)
    assert (o.status, o.executed_qty, o.cumm_quote) == ("FILLED", D("0.1"), D("10.001"))
    assert o.fills[0].commission == D("0.010001") and not o.fills[0].is_maker
    assert eng.balance("USDT") == (D("989.988999"), 0)  # 1000 - 10.001 - 0.010001
    assert eng.balance("BTC") == (D("0.1"), 0)
    s = eng.place(req(side="SELL", type="MARKET", cid="c2"), Q, 2)
    assert s.fills[0].price == D("100.00")
    assert eng.balance("USDT")[0] == D("989.988999") + D("10.000") - D("0.010000")
    assert eng.balance("BTC") == (0, 0)


def test_quote_order_qty_market_buy_rounds_down_to_step():
    eng = engine()
    o = eng.place(req(type="MARKET", qty=None, quote_order_qty=D("50")), Q, 1)
    assert o.executed_qty == D("0.499")  # 50 / 100.01 = 0.49995 -> 0.499


def test_resting_limit_buy_locks_then_fills_at_limit_with_maker_fee():
    eng = engine()
    o = eng.place(req(price="95.00"), Q, 1)
    lock = D("95.00") * D("0.1") * D("1.001")
    assert o.status == "NEW" and eng.balance("USDT") == (D(1000) - lock, lock)
    assert eng.on_candle("BTCUSDT", Candle(D(99), D(101), D("95.01"), D(100)), 2) == []
    filled = eng.on_candle("BTCUSDT", Candle(D(99), D(100), D("94.50"), D(96)), 3)
    assert filled == [o] and o.status == "FILLED" and o.fills[0].is_maker
    assert o.fills[0].price == D("95.00") and o.fills[0].commission == D("0.0095")
    assert eng.balance("USDT") == (D(1000) - D("9.5") - D("0.0095"), 0)
    assert [e.execution_type for e in eng.drain_events()] == ["NEW", "TRADE"]


def test_marketable_limit_fills_at_the_touch_and_ioc_fok_expire():
    eng = engine()
    o = eng.place(req(price="105.00"), Q, 1)
    assert o.status == "FILLED" and o.fills[0].price == D("100.01")
    for tif in ("IOC", "FOK"):
        e = eng.place(req(price="90.00", tif=tif, cid=tif), Q, 2)
        assert e.status == "EXPIRED" and not e.fills
    assert eng.balance("USDT")[1] == 0


def test_cancel_releases_lock_and_unknown_orders_are_rejected():
    eng = engine(btc="1")
    o = eng.place(req(side="SELL", price="110.00"), Q, 1)
    assert eng.balance("BTC") == (D("0.9"), D("0.1"))
    eng.cancel("BTCUSDT", 2, client_order_id="c1")
    assert o.status == "CANCELED" and eng.balance("BTC") == (D(1), 0)
    with pytest.raises(Reject) as exc:
        eng.cancel("BTCUSDT", 3, order_id=o.order_id)
    assert exc.value.code == -2011
    with pytest.raises(Reject) as exc:
        eng.find("BTCUSDT", order_id=999)
    assert (exc.value.code, exc.value.msg) == (-2013, "Order does not exist.")


def test_rejections_use_binance_codes():
    eng = engine()
    cases = [
        (req(price="95.001"), -1013, "Filter failure: PRICE_FILTER"),
        (req(qty="0.0105", price="95.00"), -1013, "Filter failure: LOT_SIZE"),
        (req(qty="0.01", price="95.00"), -1013, "Filter failure: NOTIONAL"),
        (req(qty="20", price="95.00"), -2010, "Account has insufficient balance for requested action."),
        (req(type="LIMIT_MAKER", price="100.01", tif=None), -2010,
         "Order would immediately match and take."),
        (req(side="SELL", type="STOP_LOSS_LIMIT", price="99.00", stop="101.00"), -2010,
         "Stop price would trigger immediately."),
    ]
    for request, code, msg in cases:
        with pytest.raises(Reject) as exc:
            eng.place(request, Q, 1)
        assert (exc.value.code, exc.value.msg) == (code, msg)
    assert eng.orders == [] and eng.balance("USDT") == (D(1000), 0)


def test_duplicate_client_id_rejected_only_while_open():
    eng = engine()
    eng.place(req(price="95.00", cid="dup"), Q, 1)
    with pytest.raises(Reject) as exc:
        eng.place(req(price="94.00", cid="dup"), Q, 2)
    assert (exc.value.code, exc.value.msg) == (-2010, "Duplicate order sent.")
    eng.cancel("BTCUSDT", 3, client_order_id="dup")
    again = eng.place(req(price="94.00", cid="dup"), Q, 4)
    assert eng.find("BTCUSDT", client_order_id="dup") is again


def test_stop_loss_limit_triggers_on_low_and_fills_at_trigger_or_rests():
    eng = engine(btc="1")
    o = eng.place(req(side="SELL", type="STOP_LOSS_LIMIT", price="94.00", stop="95.00"), Q, 1)
    assert o.status == "NEW" and eng.balance("BTC") == (D("0.9"), D("0.1"))
    assert eng.on_candle("BTCUSDT", Candle(D(100), D(101), D("95.01"), D(99)), 2) == []
    eng.on_candle("BTCUSDT", Candle(D(99), D(99), D(93), D(94)), 3)
    assert o.status == "FILLED" and o.fills[0].price == D("95.00") and not o.fills[0].is_maker
    # a gap below the limit: triggered at the open (92), the sell at 94 rests, fills on a rebound
    g = eng.place(req(side="SELL", type="STOP_LOSS_LIMIT", price="94.00", stop="95.00", cid="g"),
                  Q, 4)
    eng.on_candle("BTCUSDT", Candle(D(92), D("93.5"), D(91), D(93)), 5)
    assert g.triggered and g.status == "NEW"
    eng.on_candle("BTCUSDT", Candle(D(93), D(95), D(93), D(94)), 6)
    assert g.status == "FILLED" and g.fills[0].price == D("94.00") and g.fills[0].is_maker


def test_derive_rules_match_binance_magnitudes():
    btc, eth, doge = (derive_rules(p, px) for p, px in
                      (("BTC/USDT", 60000), ("ETH/USDT", 2500), ("DOGE/USDT", 0.12)))
    assert (btc.tick, btc.step) == (D("0.01"), D("0.00001"))
    assert (eth.tick, eth.step) == (D("0.01"), D("0.0001"))
    assert (doge.tick, doge.step) == (D("0.00001"), D(1))
