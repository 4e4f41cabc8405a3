"""The environment's fills, fees and equity equal the real backtest's trades."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.backtest.markets import MarketInfo
from atb.backtest.prepare import shift_signals
from atb.backtest.profit import exact_profit
from atb.backtest.settings import SimulationSettings
from atb.backtest.simulation import build_input, run_simulation
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.rl import RLConfig, actions_to_signals, implied_entries, make_env
from atb.strategy.interface import IStrategy

from ._data import synthetic

FEE = 0.001
N = 384  # candles 2024-01-01 00:00 .. 2024-01-16 23:00
#: (decision row of the entry, candles held): enter at t, exit decided at t + k
TRADES = ((140, 5), (150, 12), (170, 1), (172, 30), (260, 3), (300, 60))
LONG, FLAT = 2, 0  # discrete actions with position_sizes (0.5, 1.0): 2 = long 1.0


class _SignalStrategy(IStrategy):
    """enter_long / exit_long on the candle dates given in the config (test only)."""

    timeframe = "1h"
    minimal_roi = {"0": 100}
    stoploss = -0.99

    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        dataframe["enter_long"] = dataframe["date"].isin(self.config["test_entries"]).astype(int)
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        dataframe["exit_long"] = dataframe["date"].isin(self.config["test_exits"]).astype(int)
        return dataframe


def _action_sequence(first: int) -> np.ndarray:
    actions = np.full(N, FLAT, dtype=np.int64)
    actions[:first] = -1
    for t, k in TRADES:
        actions[t:t + k] = LONG
    return actions


def _run_env(candles: pd.DataFrame, actions: np.ndarray, cfg: RLConfig):
    env = make_env(candles, cfg)
    _, info = env.reset(seed=0, options={"start": env.unwrapped.inputs.first_row})
    equity = {info["row"]: info["equity"]}
    trades = []
    while True:
        _, _, term, trunc, info = env.step(actions[info["row"]])
        equity[info["row"]] = info["equity"]
        if info["trade"] is not None:
            trades.append(info["trade"])
        if term or trunc:
            return trades, equity, env


def test_env_trades_equal_backtest_trades(shared_dir):
    wallet = 1e9  # large: the backtest truncates amounts to 1e-8 and profit_abs to 8 decimals
    datadir = shared_dir / "data" / "binance"
    candles = load_data(datadir, ["BTC/USDT"], "1h", timerange=TimeRange.parse("20240101-20240117"),
                        startup_candles=0)["BTC/USDT"].iloc[:N].reset_index(drop=True)
    cfg = RLConfig(fee=FEE, episode_length=10_000, allow_short=False)
    env_probe = make_env(candles, cfg)
    first = env_probe.unwrapped.inputs.first_row
    assert first < TRADES[0][0]
    actions = _action_sequence(first)
    env_trades, env_equity, _ = _run_env(candles, actions, cfg)
    assert len(env_trades) == len(TRADES) == len(implied_entries(actions, cfg))

    dates = candles["date"]
    signals = actions_to_signals(actions, cfg)
    config = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 1,
        "tradable_balance_ratio": 1.0, "dry_run_wallet": wallet, "fee": FEE,
        "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]},
        "test_entries": list(dates[signals["enter_long"] == 1]),
        "test_exits": list(dates[signals["exit_long"] == 1]),
    })
    res = run_backtest(config, _SignalStrategy(config), BacktestInputs(
        datadir=datadir, pairs=("BTC/USDT",), timeframe="1h",
        timerange=TimeRange.parse("20240101-20240117"),
        keep_candles=False, workers=1), load_data=load_data)
    bt = res.trades.sort_values("open_date").reset_index(drop=True)
    assert len(bt) == len(env_trades)
    balance = wallet
    for trade, row in zip(env_trades, bt.itertuples(), strict=True):
        # the fills: entry at the open after the enter decision, exit at the open after the exit one
        assert row.open_date == dates[trade.open_index] and row.close_date == dates[trade.close_index]
        assert row.open_rate == trade.open_rate and row.close_rate == trade.close_rate
        assert row.exit_reason == "exit_signal"
        # the fee/profit: equal to the backtest's ratio and to atb.backtest.profit.exact_profit
        assert trade.profit_ratio == pytest.approx(row.profit_ratio, abs=1e-9)
        # (exact_profit rounds profit_abs to 8 decimals: value the wallet-sized amount)
        amount = trade.amount * balance / env_equity[trade.open_index - 1]
        _, exact_ratio = exact_profit(amount, trade.open_rate, trade.close_rate, FEE, FEE, False)
        assert trade.profit_ratio == pytest.approx(exact_ratio, abs=1e-12)
        # the equity: the env's change over the round trip, scaled to the wallet, is profit_abs
        env_before = env_equity[trade.open_index - 1]
        env_after = env_equity[trade.close_index]
        assert (env_after - env_before) * balance / env_before == pytest.approx(row.profit_abs, rel=1e-9)
        assert row.stake_amount == pytest.approx(balance, rel=1e-12)
        balance += row.profit_abs
    assert env_equity[max(env_equity)] * wallet == pytest.approx(balance, rel=1e-9)


def test_direction_flip_matches_the_backtest_kernel():
    """Long -> short -> long: the env reverses on the next open, like the kernel (futures mode)."""
    candles = synthetic(120, seed=5)
    cfg = RLConfig(fee=FEE, window=4, norm_window=8, episode_length=10_000)
    first = make_env(candles, cfg).unwrapped.inputs.first_row
    actions = np.full(len(candles), FLAT, dtype=np.int64)
    actions[:first] = -1
    actions[30:40] = LONG
    actions[40:55] = 4  # short 1.0 straight after the long: a reversal
    actions[55:58] = 1  # long 0.5 straight after the short
    actions[70:80] = 3  # short 0.5
    env_trades, _, _ = _run_env(candles, actions, cfg)

    sig = actions_to_signals(actions, cfg)
    frame = pd.concat([candles[["date", "open", "high", "low", "close"]], sig], axis=1)
    frame["exit_tag"] = None
    prepared = shift_signals(frame)
    settings = SimulationSettings(timeframe="1h", minimal_roi=((0, 100.0),), stoploss=-0.99, fee=FEE,
                                  stake_amount=None, starting_balance=1e9, tradable_balance_ratio=1.0,
                                  max_open_trades=1.0, can_short=True, is_futures=True)
    ticks = {"BTC/USDT:USDT": np.full(len(prepared), 2, dtype=np.int64)}
    sim_in = build_input({"BTC/USDT:USDT": prepared}, ticks, {"BTC/USDT:USDT": MarketInfo()}, "1h")
    bt = run_simulation(sim_in, settings).trades.sort_values("open_date").reset_index(drop=True)
    dates = candles["date"]
    got = [(dates[t.open_index], dates[t.close_index], t.is_short) for t in env_trades]
    want = list(zip(bt.open_date, bt.close_date, bt.is_short, strict=True))
    assert got == want
    assert [e[0] for e in implied_entries(actions, cfg)] == [t.open_index for t in env_trades]
    np.testing.assert_allclose([t.profit_ratio for t in env_trades], bt.profit_ratio, rtol=0, atol=1e-9)
