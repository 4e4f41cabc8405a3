"""Exit and entry rules of the simulation kernel on hand-computed scenarios (SPEC.md 3-7)."""

import pandas as pd
import pytest

from atb.backtest.markets import MarketInfo

from ._scenario import T0, frame, run, settings

H = pd.Timedelta("1h")


def test_entry_at_open_and_roi_exit_price_formula():
    fee = 0.001
    f = frame([[100, 101, 99, 100], [100, 107, 99, 106], [106, 106, 106, 106]], enter_long=[0])
    out = run({"AAA/USDT": f}, settings(minimal_roi=((0, 0.05),), fee=fee))
    t = out.trades.iloc[0]
    assert t.open_date == T0 + H and t.open_rate == 100.0
    amount = 1.0  # 100 stake / 100
    open_value = amount * 100 * (1 + fee)
    expected = round((1 + 0.05) * open_value / (amount * (1 - fee)), 2)  # SPEC 6: ROI price
    assert t.exit_reason == "roi" and t.close_rate == expected == 105.21
    assert t.close_date == T0 + 2 * H  # entry candle high 101 is only +1 %
    assert t.profit_ratio == pytest.approx(0.05, abs=1e-4)


def test_stoploss_at_stop_price_and_gap_at_open():
    f = frame([[100, 100, 100, 100], [95, 96, 89, 90], [90, 90, 90, 90]], enter_long=[0])
    t = run({"A/USDT": f}, settings(stoploss=-0.1)).trades.iloc[0]
    assert (t.exit_reason, t.close_rate, t.close_date) == ("stop_loss", 90.0, T0 + 2 * H)
    gap = frame([[100, 100, 100, 100], [84, 85, 80, 82], [82, 82, 82, 82]], enter_long=[0])
    t = run({"A/USDT": gap}, settings(stoploss=-0.1)).trades.iloc[0]
    assert (t.exit_reason, t.close_rate) == ("stop_loss", 84.0)  # whole candle below the stop


def test_initial_stop_rounds_up_to_tick():
    f = frame([[33.33, 33.33, 33.33, 33.33], [31, 31, 29.9, 30]], enter_long=[0])
    t = run({"A/USDT": f}, settings(stoploss=-0.1)).trades.iloc[0]
    assert t.close_rate == 30.0  # 33.33 * 0.9 = 29.997 -> rounded up to 30.00


def test_trailing_stop_with_offset():
    f = frame(
        [[100, 100, 100, 100], [101, 110, 108, 109], [109, 109, 107, 108], [108, 108, 108, 108]],
        enter_long=[0],
    )
    st = settings(stoploss=-0.1, trailing_stop=True, trailing_stop_positive=0.02,
                  trailing_stop_positive_offset=0.05, trailing_only_offset_is_reached=True)
    t = run({"A/USDT": f}, st).trades.iloc[0]
    assert t.exit_reason == "trailing_stop_loss"
    assert t.close_rate == 107.8  # 110 * (1 - 0.02)
    assert t.close_date == T0 + 3 * H and t.max_rate == 110.0
    # within one candle the high comes first: arming and hitting on the same candle
    f2 = frame([[100, 100, 100, 100], [101, 110, 101, 109], [109, 109, 109, 109]], enter_long=[0])
    t = run({"A/USDT": f2}, st).trades.iloc[0]
    assert (t.exit_reason, t.close_rate, t.close_date) == ("trailing_stop_loss", 107.8, T0 + 2 * H)


def test_exit_signal_at_open_and_exit_profit_only():
    rows = [[100, 100, 100, 100], [99, 100, 98, 99], [97, 98, 96, 97], [102, 103, 101, 102]]
    f = frame(rows, enter_long=[0], exit_long=[1, 3])
    t = run({"A/USDT": f}, settings()).trades.iloc[0]
    assert (t.exit_reason, t.close_rate, t.close_date) == ("exit_signal", 99.0, T0 + 2 * H)
    t = run({"A/USDT": f}, settings(exit_profit_only=True)).trades.iloc[0]
    assert (t.exit_reason, t.close_rate, t.close_date) == ("exit_signal", 102.0, T0 + 4 * H)


def test_max_open_trades_rejects_later_pairs_in_whitelist_order():
    rows = [[10, 10, 10, 10]] * 4
    frames = {
        "A/USDT": frame(rows, enter_long=[1]),
        "B/USDT": frame(rows, enter_long=[1]),
    }
    out = run(frames, settings(max_open_trades=1.0))
    assert list(out.trades.pair) == ["A/USDT"]
    assert out.rejected_signals == 1
    assert out.trades.iloc[0].exit_reason == "force_exit"


def test_wallet_exhaustion_blocks_fixed_stake():
    rows = [[10, 10, 10, 10]] * 3
    frames = {p: frame(rows, enter_long=[0]) for p in ("A/USDT", "B/USDT")}
    out = run(frames, settings(starting_balance=150.0))
    assert list(out.trades.pair) == ["A/USDT"]  # 150 - 100 tied up < 100
    assert out.rejected_signals == 0  # not a slot problem


def test_unlimited_stake_splits_wallet():
    rows = [[10, 10, 10, 10]] * 3
    frames = {p: frame(rows, enter_long=[0]) for p in ("A/USDT", "B/USDT")}
    out = run(frames, settings(stake_amount=None, max_open_trades=2.0, tradable_balance_ratio=0.99))
    stakes = out.trades.sort_values("pair").stake_amount.tolist()
    assert stakes[0] == pytest.approx(1000 * 0.99 / 2)
    assert stakes[1] == pytest.approx(1000 * 0.99 / 2)


def test_exit_order_left_unfilled_by_rounding_fills_later():
    # open == low carries float noise; rounded to the tick it falls below the low (SPEC pitfall)
    noisy = 0.046340000000000006
    rows = [[0.05, 0.05, 0.05, 0.05], [noisy, 0.0465, noisy, 0.0464],
            [0.0465, 0.0466, 0.04645, 0.0466], [0.0463, 0.0466, 0.0462, 0.0464]]
    f = frame(rows, enter_long=[0], exit_long=[1])
    t = run({"A/USDT": f}, settings(), decimals=5).trades.iloc[0]
    assert t.close_rate == 0.04634
    assert t.close_date == T0 + 4 * H  # the first later candle whose range contains 0.04634


def test_force_exit_at_last_open_and_min_stake():
    rows = [[10, 10, 10, 10], [11, 11, 11, 11], [12, 12, 12, 12]]
    f = frame(rows, enter_long=[0])
    out = run({"A/USDT": f}, settings(stake_amount=5.0),
              markets={"A/USDT": MarketInfo(min_cost=5.5)})
    t = out.trades.iloc[0]
    assert (t.exit_reason, t.close_rate, t.close_date) == ("force_exit", 12.0, T0 + 3 * H)
    # min stake 5.5 * 1.05 / 0.95 = 6.079 (> 30 % above 5 would reject; here it is raised)
    assert t.stake_amount == pytest.approx(6.08, abs=0.01)
    out = run({"A/USDT": f}, settings(stake_amount=4.0),
              markets={"A/USDT": MarketInfo(min_cost=5.5)})
    assert out.trades.empty  # 4 * 1.3 < 6.08: rejected


def test_no_entry_on_last_candle_and_no_same_candle_reentry():
    rows = [[10, 10, 10, 10], [10, 12, 10, 12], [10, 10, 10, 10]]
    f = frame(rows, enter_long=[0, 1, 2])
    out = run({"A/USDT": f}, settings(minimal_roi=((0, 0.1),)))
    assert len(out.trades) == 1  # ROI exit on row 1; row 1 re-entry not allowed; row 2 last
    assert out.trades.iloc[0].exit_reason == "roi"


def test_short_trade_in_futures_mode():
    rows = [[100, 100, 100, 100], [100, 101, 94, 95], [95, 95, 95, 95]]
    f = frame(rows, enter_short=[0])
    st = settings(can_short=True, is_futures=True, minimal_roi=((0, 0.05),))
    t = run({"A/USDT": f}, st).trades.iloc[0]
    assert t.is_short and t.exit_reason == "roi"
    assert t.close_rate == 95.0  # (1 - 0.05) * 100 with zero fee
    assert t.profit_abs == pytest.approx(5.0)
    spot = run({"A/USDT": f}, settings(minimal_roi=((0, 0.05),)))
    assert spot.trades.empty  # shorts need margin/futures and can_short
