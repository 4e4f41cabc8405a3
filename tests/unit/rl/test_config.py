import subprocess
import sys

import pytest

from atb.errors import ConfigError
from atb.rl import RLConfig, load_rl_config


def test_defaults_are_documented_values():
    cfg = RLConfig()
    assert (cfg.algorithm, cfg.window, cfg.position_sizes, cfg.allow_short, cfg.fee) == (
        "ppo", 32, (0.5, 1.0), True, 0.001)
    assert (cfg.reward, cfg.drawdown_penalty, cfg.turnover_penalty, cfg.risk_adjust, cfg.vol_window) == (
        "log_return", 0.5, 0.0, "none", 48)
    assert cfg.discrete and not RLConfig(algorithm="sac").discrete


@pytest.mark.parametrize(("data", "field"), [
    ({"algorithm": "dqn"}, "rl.algorithm"),
    ({"window": 0}, "rl.window"),
    ({"position_sizes": [0.5, 1.5]}, "rl.position_sizes"),
    ({"position_sizes": [1.0, 0.5]}, "rl.position_sizes"),
    ({"position_sizes": []}, "rl.position_sizes"),
    ({"fee": -0.1}, "rl.fee"),
    ({"risk_adjust": "sharpe"}, "rl.risk_adjust"),
    ({"drawdown_penalty": -1}, "rl.drawdown_penalty"),
    ({"net_arch": [64, 0]}, "rl.net_arch"),
    ({"learning_rate": 0}, "rl.learning_rate"),
    ({"windwo": 16}, "rl.windwo"),
])
def test_config_errors_name_the_field(data, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_rl_config(data)


def test_load_rl_config_accepts_none_config_and_mapping():
    assert load_rl_config(None) == RLConfig()
    cfg = RLConfig(window=8)
    assert load_rl_config(cfg) is cfg
    assert load_rl_config({"window": 8, "position_sizes": [1]}).position_sizes == (1.0,)
    with pytest.raises(ConfigError, match="rl: must be a mapping"):
        load_rl_config([1, 2])  # type: ignore[arg-type]


def test_config_is_frozen():
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        RLConfig().window = 3  # type: ignore[misc]


def test_import_atb_rl_needs_no_optional_package():
    code = ("import sys, atb.rl, atb.strategies.rl_agent; "
            "print(sorted(m for m in ('gymnasium', 'torch', 'stable_baselines3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
