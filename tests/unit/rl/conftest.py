"""Fixtures of the RL tests: real BTC/USDT 1h candles and one PPO policy trained per session."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from atb.rl import RLConfig, train_policy

#: Training slice: the first 3,000 BTC/USDT 1h candles (2024-01-01 .. 2024-05-05).
TRAIN_ROWS = 3000
PPO_CONFIG = RLConfig(algorithm="ppo", allow_short=False, total_timesteps=4096, n_steps=1024,
                      episode_length=512, seed=7)


@pytest.fixture(scope="session")
def btc(shared_dir) -> pd.DataFrame:
    return pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather")


@pytest.fixture(scope="session")
def ppo_policy(btc, tmp_path_factory):
    """(PolicyRecord, training wall seconds) of a PPO policy on the training slice."""
    out = tmp_path_factory.mktemp("ppo") / "policy"
    t0 = time.perf_counter()
    record = train_policy(btc.iloc[:TRAIN_ROWS].reset_index(drop=True), PPO_CONFIG, out_dir=out,
                          pair="BTC/USDT", timeframe="1h")
    return record, time.perf_counter() - t0
