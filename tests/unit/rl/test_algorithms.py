"""A2C and SAC build, train a few hundred steps, save, load and act (fast)."""

from __future__ import annotations

import numpy as np
import pytest

from atb.rl import RLConfig, actions_to_signals, load_policy, train_policy


@pytest.mark.parametrize(("algorithm", "extra"), [
    ("a2c", {"n_steps": 16}),
    ("sac", {"batch_size": 32}),
])
def test_algorithm_trains_and_acts(algorithm, extra, btc, tmp_path):
    candles = btc.iloc[:600].reset_index(drop=True)
    cfg = RLConfig(algorithm=algorithm, window=8, norm_window=24, total_timesteps=300, episode_length=128,
                   net_arch=(32, 32), seed=1, **extra)
    record = train_policy(candles, cfg, out_dir=tmp_path / algorithm, pair="BTC/USDT", timeframe="1h")
    assert record.algorithm == algorithm and record.policy_file.is_file()
    policy = load_policy(tmp_path / algorithm)
    actions = policy.actions(candles)
    warm = policy.warmup
    if algorithm == "sac":
        assert actions.dtype == np.float64 and np.isnan(actions[:warm]).all()
        assert np.isfinite(actions[warm:]).all() and (np.abs(actions[warm:]) <= 1.0).all()
    else:
        assert actions.dtype == np.int64 and (actions[:warm] == -1).all()
        assert set(np.unique(actions[warm:])) <= set(range(5))
    signals = actions_to_signals(actions, policy.config)
    assert len(signals) == len(candles) and signals.iloc[:warm, :4].to_numpy().sum() == 0
