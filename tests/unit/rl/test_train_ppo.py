"""PPO on real BTC/USDT 1h candles: training time, saved files, no lookahead, backtest with RLAgent."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.rl import implied_entries, load_policy
from atb.rl.agent import rollout
from atb.rl.artifact import file_sha256
from atb.rl.env import env_inputs
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

from .conftest import PPO_CONFIG, TRAIN_ROWS


def test_ppo_trains_in_seconds_and_saves_policy_with_metadata(ppo_policy, btc):
    record, seconds = ppo_policy
    print(f"PPO training ({PPO_CONFIG.total_timesteps} steps, {TRAIN_ROWS} candles): {seconds:.1f} s")
    assert seconds < 120  # ~8 s alone on 2 CPUs; the margin absorbs cores shared with other jobs
    assert sorted(p.name for p in record.directory.iterdir()) == ["policy.json", "policy.zip"]
    assert not list(record.directory.parent.glob(".*tmp*"))
    meta = json.loads(record.metadata_file.read_text())
    assert meta["algorithm"] == "ppo" and meta["pair"] == "BTC/USDT" and meta["timeframe"] == "1h"
    assert meta["sha256"] == file_sha256(record.policy_file)
    assert meta["config"]["total_timesteps"] == 4096 and meta["observation"]["size"] == 32 * 3 + 3
    assert meta["train_start"] == "2024-01-01T00:00:00+00:00"
    assert pd.Timestamp(meta["train_end"]) == btc["date"].iloc[TRAIN_ROWS - 1]
    assert meta["atb_version"] and set(meta["metrics"]) >= {"train_return", "train_trades", "train_seconds"}
    loaded = load_policy(record.directory)
    assert loaded.record == record


def test_actions_use_only_data_up_to_their_row(ppo_policy, btc):
    policy = load_policy(ppo_policy[0].directory / "policy.json")
    candles = btc.iloc[TRAIN_ROWS:TRAIN_ROWS + 1200].reset_index(drop=True)
    full = policy.actions(candles)
    assert full.dtype == np.int64
    assert (full[:policy.warmup] == -1).all() and (full[policy.warmup:] >= 0).all()
    assert len(np.unique(full[policy.warmup:])) > 1  # the policy acts, not a constant
    cuts = np.linspace(policy.warmup, len(candles) - 2, 12).astype(int)
    for cut in cuts:
        part = policy.actions(candles.iloc[:cut + 1])
        np.testing.assert_array_equal(part, full[:cut + 1], err_msg=f"cut at row {cut}")


def test_saved_policy_backtests_through_the_real_engine(ppo_policy, shared_dir):
    record = ppo_policy[0]
    datadir = shared_dir / "data" / "binance"
    timerange = TimeRange.parse("20240510-20240610")  # after the training candles
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 1,
        "tradable_balance_ratio": 1.0, "dry_run_wallet": 10_000, "fee": PPO_CONFIG.fee,
        "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]},
        "rl_policy_path": str(record.directory)})
    strategy = load_strategy("RLAgent", cfg)
    assert strategy.startup_candle_count == 96 + 32 - 1 and not strategy.can_short
    res = run_backtest(cfg, strategy, BacktestInputs(
        datadir=datadir, pairs=("BTC/USDT",), timeframe="1h", timerange=timerange, workers=1),
        load_data=load_data, trade_cls=Trade)

    # the actions the strategy saw: loaded with the same startup candles, cut like the engine
    loaded = load_data(datadir, ["BTC/USDT"], "1h", timerange=timerange,
                       startup_candles=strategy.startup_candle_count)["BTC/USDT"]
    actions = strategy.policy.actions(loaded)
    start = strategy.startup_candle_count
    bt_candles = res.candles["BTC/USDT"]
    assert loaded["date"].iloc[start:].reset_index(drop=True).equals(bt_candles["date"])
    traded = actions[start:]
    entries = implied_entries(traded, strategy.policy.config)
    trades = res.trades.sort_values("open_date").reset_index(drop=True)
    assert len(entries) > 3
    assert len(trades) == len(entries)
    dates = bt_candles["date"]
    assert list(trades["open_date"]) == [dates[row] for row, _, _ in entries]
    assert list(trades["open_rate"]) == [bt_candles["open"][row] for row, _, _ in entries]
    # sizes: the stake is the action's fraction of the wallet (custom_stake_amount)
    wallet = 10_000 + np.r_[0.0, np.cumsum(trades["profit_abs"].to_numpy())[:-1]]
    np.testing.assert_allclose(trades["stake_amount"] / wallet, [s for _, _, s in entries], rtol=1e-6)

    # the env's own trades over the same candles have the backtest's profit ratios
    env = rollout(strategy.policy.model, env_inputs(loaded, strategy.policy.config), strategy.policy.config)
    env_trades = {(loaded["date"][t.open_index], loaded["date"][t.close_index]): t.profit_ratio
                  for t in env.trades}
    matched = [(env_trades[k], r) for k, r in zip(zip(trades.open_date, trades.close_date, strict=True),
                                                   trades.profit_ratio, strict=True) if k in env_trades]
    assert len(matched) >= len(trades) - 2  # all but a trade open at the start/end of the range
    np.testing.assert_allclose([m[0] for m in matched], [m[1] for m in matched], rtol=0, atol=1e-9)


def test_policy_actions_are_deterministic(ppo_policy, btc):
    a = load_policy(ppo_policy[0].directory).actions(btc.iloc[:400])
    b = load_policy(ppo_policy[0].directory).actions(btc.iloc[:400])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("key", ["rl_policy_path"])
def test_rl_agent_without_a_policy_names_the_key(key):
    from atb.errors import StrategyError

    cfg = validate_freqtrade_config({"stake_currency": "USDT", "stake_amount": 100, "max_open_trades": 1,
                                     "dry_run_wallet": 1000, "fee": 0.001,
                                     "exchange": {"name": "binance", "pair_whitelist": ["BTC/USDT"]}})
    with pytest.raises(StrategyError, match=key):
        load_strategy("RLAgent", cfg)
