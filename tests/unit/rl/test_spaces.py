import numpy as np
import pytest

from atb.errors import DataError
from atb.rl import RLConfig, actions_to_signals, implied_entries, make_env
from atb.rl.actions import (
    action_to_target,
    actions_to_targets,
    n_discrete_actions,
    next_position,
    size_from_tag,
)
from atb.rl.features import default_features

from ._data import synthetic


def test_discrete_action_space_layout():
    cfg = RLConfig(window=4, norm_window=8)
    env = make_env(synthetic(60), cfg)
    assert env.action_space.n == 5 == n_discrete_actions(cfg)
    assert [action_to_target(a, cfg) for a in range(5)] == [0.0, 0.5, 1.0, -0.5, -1.0]
    long_only = RLConfig(window=4, norm_window=8, allow_short=False, position_sizes=(0.25, 0.5, 1.0))
    assert make_env(synthetic(60), long_only).action_space.n == 4
    assert action_to_target(-1, cfg) != action_to_target(-1, cfg)  # NaN: warm-up marker


def test_continuous_action_space_for_sac():
    cfg = RLConfig(algorithm="sac", window=4, norm_window=8, flat_band=0.1)
    env = make_env(synthetic(60), cfg)
    assert env.action_space.shape == (1,)
    assert (env.action_space.low[0], env.action_space.high[0]) == (-1.0, 1.0)
    assert action_to_target(np.array([0.05]), cfg) == 0.0
    assert action_to_target(np.array([-0.7]), cfg) == pytest.approx(-0.7)
    assert action_to_target(np.array([3.0]), cfg) == 1.0
    no_short = cfg.model_copy(update={"allow_short": False})
    assert action_to_target(np.array([-0.7]), no_short) == 0.0
    np.testing.assert_allclose(actions_to_targets(np.array([np.nan, 0.05, -0.7, 0.9]), cfg),
                               [np.nan, 0.0, -0.7, 0.9])


def test_observation_space_and_content():
    cfg = RLConfig(window=4, norm_window=8)
    candles = synthetic(60)
    env = make_env(candles, cfg)
    obs, info = env.reset(seed=0, options={"start": 20})
    assert env.observation_space.shape == (4 * 3 + 3,) == obs.shape
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    feats = default_features(candles, 8)
    np.testing.assert_allclose(obs[:12], feats[17:21].ravel().astype(np.float32))
    assert obs[-3:].tolist() == [0.0, 0.0, 0.0] and info["row"] == 20
    obs, _, _, _, info = env.step(2)  # long 1.0 fills at the open of row 21
    assert obs[-3] == 1.0 and obs[-1] == pytest.approx(1 / 4)
    expected = info["equity"] - 1.0
    assert obs[-2] == pytest.approx(expected, rel=1e-5)


def test_features_are_causal():
    candles = synthetic(300, seed=3)
    full = default_features(candles, 24)
    for cut in (30, 100, 299):
        np.testing.assert_array_equal(default_features(candles.iloc[:cut], 24), full[:cut])
    assert np.isnan(full[:24]).all() and np.isfinite(full[24:]).all()
    assert np.abs(full[24:]).max() <= 5.0


def test_custom_features_and_errors():
    candles = synthetic(60)
    feats = np.column_stack([np.arange(60.0), np.ones(60)])
    env = make_env(candles, RLConfig(window=5), features=feats)
    obs, _ = env.reset(seed=0, options={"start": 4})
    assert obs.shape == (5 * 2 + 3,)
    np.testing.assert_array_equal(obs[:10:2], [0, 1, 2, 3, 4])
    with pytest.raises(DataError, match="does not match the 60 candles"):
        make_env(candles, RLConfig(), features=np.ones((10, 2)))
    with pytest.raises(DataError, match="no step after"):
        make_env(candles, RLConfig())  # 96 + 32 - 1 warm-up rows > 60 candles
    bad = candles.copy()
    bad.loc[5, "close"] = -1.0
    with pytest.raises(DataError, match="row 5"):
        make_env(bad, RLConfig(window=4, norm_window=8))


def test_position_rule_is_one_trade_per_pair():
    assert next_position(0.0, 0.5) == 0.5
    assert next_position(0.5, 1.0) == 0.5  # size fixed at entry
    assert next_position(0.5, -1.0) == -1.0  # a reversal
    assert next_position(-0.5, 0.0) == 0.0
    assert next_position(-0.5, float("nan")) == -0.5


def test_actions_to_signals_and_implied_entries():
    cfg = RLConfig()
    actions = np.array([-1, -1, 0, 1, 2, 2, 4, 4, 4, 0, 3, 3])
    sig = actions_to_signals(actions, cfg)
    assert sig["enter_long"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    assert sig["exit_long"].tolist() == [0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert sig["enter_short"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1]
    assert sig["exit_short"].tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0]
    assert sig["enter_tag"][3] == "rl_long_0.5" and sig["enter_tag"][6] == "rl_short_1.0"
    assert sig["enter_tag"][2] is None
    assert size_from_tag("rl_long_0.5") == 0.5 and size_from_tag("other") == 1.0
    # long 0.5 fills at row 4; the reversal of row 6 exits and opens the short at 7; flat at 9
    # exits at 10; the short of row 10 fills at 11; row 11's action has no fill row
    assert implied_entries(actions, cfg) == [(4, False, 0.5), (7, True, 1.0), (11, True, 0.5)]
