"""Fill/fee/slippage model: hand values and exact agreement with the backtest kernels."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from atb.backtest.kernels.precision_nb import (
    round_tick_down_nb,
    round_tick_nb,
    round_tick_up_nb,
    truncate_tick_nb,
)
from atb.backtest.markets import MarketInfo
from atb.backtest.prepare import shift_signals
from atb.backtest.settings import SimulationSettings
from atb.backtest.simulation import build_input, run_simulation
from atb.backtest.ticks import tick_decimals_for
from atb.core.enums import OrderSide
from atb.errors import ConfigError
from atb.execution import fills
from atb.execution.fills import (
    SlippageModel,
    amount_for_stake,
    amount_to_step,
    fee_amount,
    fee_of,
    fill_value,
    limit_fill_price,
    market_fill_price,
    participation_cap,
    price_to_tick,
    round_price,
    round_stop_price,
    step_decimals,
    stop_trigger_price,
    to_decimal,
)

D = Decimal
BTC_1H = "/work/shared/data/binance/BTC_USDT-1h.feather"


def _random_prices(rng: np.random.Generator, n: int) -> np.ndarray:
    """Prices across magnitudes, some exactly on short decimal grids."""
    raw = 10.0 ** rng.uniform(-6, 5, n)
    scale = 10.0 ** rng.integers(0, 9, n)
    grid = np.round(raw * scale) / scale
    return np.where((rng.random(n) < 0.3) & (grid > 0), grid, raw)


def test_spec_example_amount_and_fee():
    # SPEC.md section 7: ETH/BTC first trade, stake 0.05 at 0.08681736, step 1e-8
    assert amount_for_stake(0.05, 0.08681736, 8) == 0.57592168
    assert fee_amount(D("42283.58"), D("0.002"), D("0.001")) == D("0.08456716")
    assert fee_of(2.0, 100.0, 0.001) == 0.2


def test_to_decimal_uses_the_shortest_repr():
    assert to_decimal(0.1) == D("0.1")
    assert to_decimal(np.float64(42475.23)) == D("42475.23")
    assert to_decimal(5) == D(5) and to_decimal("1e-8") == D("1e-8")


def test_step_decimals():
    assert step_decimals(D("0.001")) == 3
    assert step_decimals(0.01) == 2
    assert step_decimals(D("1")) == 0
    assert step_decimals(D("10")) == -1
    assert step_decimals(D("0.5")) is None
    assert step_decimals(D("0.00025")) is None
    with pytest.raises(ConfigError):
        step_decimals(D(0))


def test_decimal_fallbacks_equal_kernels_on_random_inputs():
    rng = np.random.default_rng(7)
    xs = _random_prices(rng, 4000)
    ds = rng.integers(0, 9, xs.size)
    for x, d in zip(xs.tolist(), ds.tolist(), strict=True):
        step = D(1).scaleb(-d)
        dx = to_decimal(x)
        assert fills._truncate_decimal(dx, step) == to_decimal(float(truncate_tick_nb(x, d)))
        assert fills._price_to_tick_decimal(dx, step, "round") == to_decimal(float(round_tick_nb(x, d)))
        assert fills._price_to_tick_decimal(dx, step, "up") == to_decimal(float(round_tick_up_nb(x, d)))
        assert fills._price_to_tick_decimal(dx, step, "down") == to_decimal(float(round_tick_down_nb(x, d)))


def test_float_twins_call_the_kernels():
    rng = np.random.default_rng(11)
    xs = _random_prices(rng, 2000)
    for x in xs.tolist():
        d = 4
        assert round_price(x, d) == round_tick_nb(x, d)
        assert round_stop_price(x, d, False) == round_tick_up_nb(x, d)
        assert round_stop_price(x, d, True) == round_tick_down_nb(x, d)
        assert price_to_tick(to_decimal(x), D("0.0001")) == to_decimal(float(round_tick_nb(x, d)))
        assert amount_to_step(to_decimal(x), D("0.0001")) == to_decimal(float(truncate_tick_nb(x, d)))


def test_fill_value_equals_kernel_value_expressions():
    rng = np.random.default_rng(3)
    amounts = 10.0 ** rng.uniform(-5, 3, 3000)
    prices = _random_prices(rng, 3000)
    fees = rng.choice([0.0, 0.00075, 0.001, 0.0025, 0.01], 3000)
    for a, p, f in zip(amounts.tolist(), prices.tolist(), fees.tolist(), strict=True):
        v = a * p
        # entry kernel: open_value = v + v * fee (long); close_value_nb: v - v * fee (long exit)
        assert fill_value(a, p, f, OrderSide.BUY) == v + v * f
        assert fill_value(a, p, f, OrderSide.SELL) == v - v * f
        assert fee_of(a, p, f) == v * f


def test_amount_for_stake_equals_backtest_trade_amounts():
    df = pd.read_feather(BTC_1H).iloc[:400].reset_index(drop=True)
    rng = np.random.default_rng(5)
    df["enter_long"] = (rng.random(len(df)) < 0.08).astype(float)
    for c in ("exit_long", "enter_short", "exit_short"):
        df[c] = 0.0
    df["enter_tag"] = None
    df["exit_tag"] = None
    df = shift_signals(df)
    sim_in = build_input({"BTC/USDT": df}, {"BTC/USDT": tick_decimals_for(df, None)},
                         {"BTC/USDT": MarketInfo(amount_step=1e-5)}, "1h")
    settings = SimulationSettings(timeframe="1h", minimal_roi=((0, 0.01),), stoploss=-0.02,
                                  stake_amount=1234.5, starting_balance=100_000.0, max_open_trades=1)
    trades = run_simulation(sim_in, settings).trades
    assert len(trades) >= 5
    opens = dict(zip(df["date"], df["open"], strict=True))
    for t in trades.itertuples():
        assert t.open_rate == opens[t.open_date]  # market entries fill at the candle open
        assert t.amount == amount_for_stake(1234.5, t.open_rate, 5)


def test_slippage_fixed_and_impact():
    buy, sell = OrderSide.BUY, OrderSide.SELL
    tick = D("0.01")
    none = SlippageModel()
    assert market_fill_price(D("100.003"), buy, D(1), D(10), none, tick) == D("100.003")
    five = SlippageModel(fixed_bps=5.0)
    assert market_fill_price(D("100"), buy, D(1), None, five, tick) == D("100.05")
    assert market_fill_price(D("100"), sell, D(1), None, five, tick) == D("99.95")
    # 33.33 * 1.0005 = 33.346665 -> rounded up (buy) 33.35; * 0.9995 = 33.313335 -> down 33.31
    assert market_fill_price(D("33.33"), buy, D(1), None, five, tick) == D("33.35")
    assert market_fill_price(D("33.33"), sell, D(1), None, five, tick) == D("33.31")
    # square-root impact: 100 bps * sqrt(1 / 100) = 10 bps
    impact = SlippageModel(impact_bps=100.0)
    assert impact.slip_bps(D(1), D(100)) == D("10.0")
    assert market_fill_price(D("100"), buy, D(1), D(100), impact, tick) == D("100.10")
    assert market_fill_price(D("100"), buy, D(1), None, impact, tick) == D("100")  # no volume
    both = SlippageModel(fixed_bps=2.0, impact_bps=40.0, impact_exponent=1.0)
    assert both.slip_bps(D(5), D(100)) == D("4.0")  # 2 + 40 * 0.05
    with pytest.raises(ConfigError):
        SlippageModel(fixed_bps=-1.0)
    with pytest.raises(ConfigError):
        SlippageModel(impact_exponent=0.0)


def test_limit_fill_rules():
    buy, sell = OrderSide.BUY, OrderSide.SELL
    o, h, lo = D(100), D(105), D(95)
    assert limit_fill_price(buy, D(96), o, h, lo) == D(96)
    assert limit_fill_price(buy, D(94), o, h, lo) is None
    assert limit_fill_price(buy, D(95), o, h, lo) == D(95)  # touching the low fills
    assert limit_fill_price(buy, D(106), o, h, lo) == o  # the whole candle traded below it
    assert limit_fill_price(sell, D(104), o, h, lo) == D(104)
    assert limit_fill_price(sell, D(106), o, h, lo) is None
    assert limit_fill_price(sell, D(90), o, h, lo) == o


def test_stop_trigger_rules():
    buy, sell = OrderSide.BUY, OrderSide.SELL
    o, h, lo = D(100), D(105), D(95)
    assert stop_trigger_price(sell, D(96), o, h, lo) == D(96)
    assert stop_trigger_price(sell, D(94), o, h, lo) is None
    assert stop_trigger_price(sell, D(110), o, h, lo) == o  # gap below the stop: the open
    assert stop_trigger_price(buy, D(104), o, h, lo) == D(104)
    assert stop_trigger_price(buy, D(106), o, h, lo) is None
    assert stop_trigger_price(buy, D(90), o, h, lo) == o


def test_participation_cap():
    step = D("0.00001")
    # 10 % of BTC 2024-01-01 01:00 volume 1196.37856 = 119.637856 -> 119.63785
    assert participation_cap(D(300), D("1196.37856"), 0.1, step) == D("119.63785")
    assert participation_cap(D(50), D("1196.37856"), 0.1, step) == D(50)
    assert participation_cap(D(50), None, 0.1, step) == D(50)
    assert participation_cap(D(50), D(1000), None, step) == D(50)
    assert participation_cap(D(50), D(0), 0.1, step) == D(0)
