"""Risk config: defaults, the parameter vector, and bad input rejected naming the field."""

import json
import math

import pytest

from atb.errors import ConfigError
from atb.risk import layout as L
from atb.risk.config import RiskConfig, load_risk_config


def test_defaults_are_the_documented_ones():
    c = load_risk_config({})
    assert (c.max_position_risk, c.max_portfolio_exposure, c.max_sector_exposure) == (0.01, 0.2, 0.4)
    assert (c.daily_loss_limit, c.max_drawdown, c.max_correlation) == (0.05, 0.2, 0.95)
    v = c.to_vector(max_open_trades=3)
    assert v[L.R_ENABLED] == 1 and v[L.R_MAX_OPEN_POSITIONS] == 3
    assert math.isinf(v[L.R_VOLATILITY_THRESHOLD]) and math.isinf(v[L.R_MAX_ORDERS])


def test_rules_list_switches_the_others_off():
    v = load_risk_config({"rules": ["max_drawdown"]}).to_vector()
    assert v[L.R_MAX_DRAWDOWN] == 0.2
    assert math.isnan(v[L.R_MAX_POSITION_RISK]) and math.isinf(v[L.R_MAX_ASSET_EXPOSURE])
    assert math.isinf(v[L.R_DAILY_LOSS_LIMIT]) and math.isinf(v[L.R_MAX_CORRELATION])


@pytest.mark.parametrize("raw, field", [
    ({"max_drawdown": -0.1}, "max_drawdown"),
    ({"max_position_risk": 0}, "max_position_risk"),
    ({"max_portfolio_exposure": -1}, "max_portfolio_exposure"),
    ({"rules": ["max_drawdown", "moon_guard"]}, "rules"),
    ({"max_drawdwn": 0.1}, "max_drawdwn"),
    ({"sizing": {"method": "martingale"}}, "sizing.method"),
    ({"sizing": {"kelly_cap": 2}}, "sizing.kelly_cap"),
    ({"halt_cooldown": "7x"}, "halt_cooldown"),
    ({"reduce_at_drawdown": 0.3, "max_drawdown": 0.2}, "risk"),
    ({"stops": {"take_profit": [{"atr": 1, "fraction": 0.7}, {"atr": 2, "fraction": 0.7}]}}, "stops"),
    ({"regime": {"stake_scale": {"bull": -1}}}, "regime.stake_scale"),
])
def test_bad_values_name_the_field(raw, field):
    with pytest.raises(ConfigError) as exc:
        load_risk_config(raw)
    assert f"'{field}" in str(exc.value)


def test_sector_map_with_unknown_pair_is_rejected():
    c = load_risk_config({"sectors": {"l1": ["BTC/USDT", "FOO/USDT"]}})
    with pytest.raises(ConfigError, match=r"'sectors.l1'.*FOO/USDT"):
        c.check_pairs(["BTC/USDT", "ETH/USDT"])
    with pytest.raises(ConfigError, match="both"):
        load_risk_config({"sectors": {"a": ["BTC/USDT"], "b": ["BTC/USDT"]}})


def test_file_with_a_risk_key_and_bad_files(tmp_path):
    f = tmp_path / "cfg.json"
    f.write_text(json.dumps({"risk": {"max_drawdown": 0.15}, "stake_currency": "USDT"}))
    assert load_risk_config(f).max_drawdown == 0.15
    with pytest.raises(ConfigError, match="not found"):
        load_risk_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(ConfigError, match="JSON"):
        load_risk_config(tmp_path / "bad.json")


def test_brackets_and_sizing_in_the_vector():
    c = RiskConfig(stops={"stop_atr": 2.0, "take_profit": [{"atr": 1.5, "fraction": 0.5},
                                                           {"atr": 3.0, "fraction": 0.5}]},
                   sizing={"method": "kelly"})
    v = c.to_vector()
    assert v[L.R_STOP_ATR] == 2.0 and v[L.R_TP_COUNT] == 2
    assert (v[L.R_TP_ATR_0], v[L.R_TP_ATR_0 + 1]) == (1.5, 3.0)
    assert (v[L.R_TP_FRACTION_0], v[L.R_TP_FRACTION_0 + 1]) == (0.5, 0.5)
    assert v[L.R_SIZING_METHOD] == L.SIZING_KELLY
