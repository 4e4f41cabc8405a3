"""The Python slow path runs the same kernel code with strategy callbacks bound."""

import numpy as np
import pandas as pd
import pytest

from atb.backtest.callbacks import CallbackAdapter, callback_flags, make_python_kernel
from atb.backtest.kernels import records as rec
from atb.backtest.markets import MarketInfo
from atb.backtest.simulation import build_input, run_simulation

from ._scenario import T0, frame, settings

H = pd.Timedelta("1h")


class FakeTrade:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class CallbackStrategy:
    """Duck-typed strategy: only what the adapter touches."""

    stoploss = -0.5
    use_custom_stoploss = True
    order_types = {"entry": "limit", "exit": "limit"}

    def __init__(self, overridden):
        self._overridden = set(overridden)
        self.calls = []

    def atb_overridden(self, name):
        return name in self._overridden

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit, **kw):
        self.calls.append(("custom_stoploss", trade.open_rate, current_rate))
        return -0.05  # 5 % below the candle high

    def confirm_trade_entry(self, pair, order_type, amount, rate, time_in_force, current_time,
                            entry_tag, side, **kw):
        return pair != "B/USDT"

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kw):
        if current_time == T0 + 3 * H:
            return "time_is_up"
        return None

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kw):
        return 50.0


def _run(strategy, frames, st, market=None):
    ticks = {p: np.full(len(df), 2, dtype=np.int64) for p, df in frames.items()}
    markets = {p: market or MarketInfo() for p in frames}
    sim_in = build_input(frames, ticks, markets, st.timeframe)
    state = np.full((len(frames), rec.TS_N), np.nan)
    tags = list(sim_in.tags)
    adapter = CallbackAdapter(strategy, sim_in.pairs, sim_in.arrays["date_ns"], tags, state,
                              FakeTrade)
    kernel = make_python_kernel(adapter.bindings())
    return run_simulation(sim_in, st, kernel, callback_flags(strategy), state, tags)


ROWS = [[100, 100, 100, 100], [100, 110, 105, 108], [108, 108, 104, 105], [105, 106, 100, 101],
        [101, 101, 101, 101]]


def test_python_kernel_without_callbacks_equals_compiled():
    frames = {"A/USDT": frame(ROWS, enter_long=[0], exit_long=[3])}
    st = settings(stoploss=-0.05)
    ticks = {"A/USDT": np.full(len(ROWS), 2, dtype=np.int64)}
    sim_in = build_input(frames, ticks, None, "1h")
    compiled = run_simulation(sim_in, st).trades
    python = run_simulation(sim_in, st, make_python_kernel({})).trades
    pd.testing.assert_frame_equal(compiled, python)


def test_custom_stoploss_moves_the_stop():
    s = CallbackStrategy({"custom_stoploss"})
    out = _run(s, {"A/USDT": frame(ROWS, enter_long=[0])}, settings(use_custom_stoploss=True))
    t = out.trades.iloc[0]
    # candle 2: high 110 -> custom stop 110 * 0.95 = 104.5; candle 3 low 104 hits it
    assert (t.exit_reason, t.close_rate, t.close_date) == ("trailing_stop_loss", 104.5, T0 + 3 * H)
    assert s.calls[0] == ("custom_stoploss", 100.0, 100.0)


def test_confirm_entry_veto_and_custom_stake():
    s = CallbackStrategy({"confirm_trade_entry", "custom_stake_amount"})
    frames = {p: frame(ROWS, enter_long=[0]) for p in ("A/USDT", "B/USDT")}
    out = _run(s, frames, settings())
    assert list(out.trades.pair) == ["A/USDT"]
    assert out.trades.iloc[0].stake_amount == pytest.approx(50.0)


def test_custom_exit_reason_string():
    s = CallbackStrategy({"custom_exit"})
    out = _run(s, {"A/USDT": frame(ROWS, enter_long=[0])}, settings())
    t = out.trades.iloc[0]
    assert (t.exit_reason, t.close_date, t.close_rate) == ("time_is_up", T0 + 3 * H, 108.0)


class LeveragedShort(CallbackStrategy):
    def leverage(self, pair, current_time, current_rate, proposed_leverage, max_leverage,
                 entry_tag, side, **kw):
        return 10.0


def test_leverage_is_capped_by_market_and_scales_profit():
    rows = [[100, 100, 100, 100], [100, 100, 96, 97], [97, 97, 97, 97]]
    s = LeveragedShort({"leverage"})
    st = settings(can_short=True, is_futures=True, minimal_roi=((0, 0.1),), stoploss=-0.9)
    out = _run(s, {"A/USDT": frame(rows, enter_short=[0])}, st, MarketInfo(max_leverage=3.0))
    t = out.trades.iloc[0]
    assert t.leverage == 3.0 and t.is_short
    assert t.amount == pytest.approx(3.0)  # 100 stake * 3 / 100
    assert t.stake_amount == pytest.approx(100.0)
    # ROI 10 % of the margin = 3.33 % price move: (1 - 0.1/3) * 100 = 96.67 (within the candle)
    assert (t.exit_reason, t.close_rate) == ("roi", 96.67)
    assert t.profit_ratio == pytest.approx(0.099, abs=1e-3)


def test_stop_is_clamped_to_the_liquidation_price():
    rows = [[100, 100, 100, 100], [100, 100, 60, 70], [70, 70, 70, 70]]
    s = LeveragedShort({"leverage"})
    st = settings(is_futures=True, stoploss=-0.99)
    out = _run(s, {"A/USDT": frame(rows, enter_long=[0])}, st, MarketInfo(max_leverage=3.0))
    t = out.trades.iloc[0]
    # liquidation 100 * (1 - 1/3 + 0.01) = 67.67, buffered 5 % towards the entry = 69.283;
    # the -99 % stop (67.0) is raised to it and rounded up to the tick
    assert (t.exit_reason, t.close_rate) == ("stop_loss", 69.29)
