"""Trade / Order compatibility objects: profit maths (SPEC section 7), orders, class queries."""

from datetime import UTC, datetime

import pytest

from atb.strategy.trade import Order, Trade, atb_trades_context


def test_spec_example_profit():
    # ../shared/parity/SPEC.md section 7: ETH/BTC first SampleStrategy trade
    t = Trade(pair="ETH/BTC", open_rate=0.08681736, amount=0.57592168, fee_open=0.001,
              fee_close=0.001)
    assert t.calc_profit(0.08786108) == 0.0005005
    assert t.calc_profit_ratio(0.08786108) == 0.01
    assert t.open_trade_value == pytest.approx(0.57592168 * 0.08681736 * 1.001, rel=1e-15)


def test_long_short_leverage_and_futures_funding():
    long_ = Trade(open_rate=100.0, amount=2.0, fee_open=0.01, fee_close=0.01)
    # open 200 * 1.01 = 202; close at 110: 220 * 0.99 = 217.8
    assert long_.calc_profit(110.0) == pytest.approx(15.8)
    assert long_.calc_profit_ratio(110.0) == round(217.8 / 202 - 1, 8)
    short = Trade(open_rate=100.0, amount=2.0, fee_open=0.01, fee_close=0.01, is_short=True,
                  leverage=3.0)
    # open 200 * 0.99 = 198; close at 90: 180 * 1.01 = 181.8
    assert short.calc_profit(90.0) == pytest.approx(16.2)
    assert short.calc_profit_ratio(90.0) == round((1 - 181.8 / 198) * 3, 8)
    fut = Trade(open_rate=100.0, amount=1.0, trading_mode="futures", funding_fees=-0.5)
    assert fut.calc_profit(100.0) == -0.5
    assert Trade().calc_profit_ratio(1.0) == 0.0


def test_trade_views_and_orders():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    t = Trade(pair="BTC/USDT", open_rate=100.0, amount=1.0, open_date=t0, is_short=False)
    assert t.open_date_utc == t0 and t.max_rate == 100.0 and t.min_rate == 100.0
    assert (t.entry_side, t.exit_side, t.trade_direction) == ("buy", "sell", "long")
    assert t.nr_of_successful_entries == 1 and t.nr_of_successful_exits == 0
    assert not t.has_open_orders
    t.orders = [Order(ft_order_side="buy", amount=0.5, price=100.0),
                Order(ft_order_side="buy", amount=0.5, price=101.0),
                Order(ft_order_side="sell", amount=0.3, price=105.0, status="open")]
    assert t.nr_of_successful_entries == 2 and t.nr_of_successful_exits == 0
    assert t.has_open_orders and t.open_orders[0].price == 105.0
    assert t.select_order("sell", is_open=True).safe_price == 105.0
    assert t.select_filled_orders("buy")[1].cost == pytest.approx(50.5)
    t.set_custom_data("k", 3)
    assert t.get_custom_data("k") == 3 and t.get_custom_data("x", 0) == 0
    assert Trade(is_short=True, stop_loss=110.0, liquidation_price=105.0).stoploss_or_liquidation == 105.0


def test_class_queries_answer_from_the_installed_provider():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    a = Trade(pair="A/USDT", open_date=t0)
    b = Trade(pair="B/USDT", open_date=datetime(2024, 2, 1, tzinfo=UTC), is_open=False,
              close_date=datetime(2024, 2, 2, tzinfo=UTC), close_profit_abs=2.5)
    assert Trade.get_open_trade_count() == 0
    with atb_trades_context(lambda: [a, b]):
        assert Trade.get_open_trades() == [a]
        assert Trade.get_trades_proxy(pair="B/USDT") == [b]
        assert Trade.get_trades_proxy(open_date=t0) == [b]
        assert Trade.get_total_closed_profit() == 2.5
        with Trade.atb_trades_context(lambda: []):
            assert Trade.get_open_trade_count() == 0
        assert Trade.get_open_trade_count() == 1
    assert Trade.get_trades_proxy() == []
