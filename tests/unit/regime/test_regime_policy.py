"""StrategyModeManager and mode_column."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError
from atb.regime import Regime, StrategyModeManager, VolRegime, mode_column
from atb.strategy.params import DecimalParameter, IntParameter


class Strat:
    buy_rsi = IntParameter(10, 50, default=30, space="buy")
    sell_mult = DecimalParameter(1.0, 3.0, default=2.0, decimals=1, space="sell")
    stoploss = -0.10
    since = pd.Timestamp("2024-01-01", tz="UTC")


def _manager():
    return StrategyModeManager(
        {"bull": {"buy_rsi": 40, "stoploss": -0.20},
         Regime.BEAR: {"buy_rsi": 20, "sell_mult": 1.5}},
        default={"buy_rsi": 30, "stoploss": -0.10, "sell_mult": 2.0},
    )


def test_params_for_merges_over_default():
    m = _manager()
    assert dict(m.params_for("bull")) == {"buy_rsi": 40, "stoploss": -0.20, "sell_mult": 2.0}
    assert dict(m.params_for(Regime.BEAR)) == {"buy_rsi": 20, "stoploss": -0.10, "sell_mult": 1.5}
    for missing in ("range", "unknown", None, np.nan, "sideways"):
        assert dict(m.params_for(missing)) == {"buy_rsi": 30, "stoploss": -0.10, "sell_mult": 2.0}
    assert dict(StrategyModeManager({"low": {"x": 1}}).params_for("high")) == {}
    assert dict(StrategyModeManager({VolRegime.HIGH: {"x": 1}}).params_for("high")) == {"x": 1}


def test_apply_sets_parameter_values_on_instance_copies():
    m, s = _manager(), Strat()
    applied = m.apply(s, "bull")
    assert dict(applied) == {"buy_rsi": 40, "stoploss": -0.20, "sell_mult": 2.0}
    assert isinstance(s.buy_rsi, IntParameter) and s.buy_rsi.value == 40
    assert s.stoploss == -0.20 and s.sell_mult.value == 2.0
    assert Strat.buy_rsi.value == 30 and Strat.stoploss == -0.10         # class untouched
    assert s.buy_rsi is not Strat.buy_rsi
    copy_made = s.buy_rsi
    m.apply(s, "bear")
    assert s.buy_rsi is copy_made and s.buy_rsi.value == 20 and s.sell_mult.value == 1.5
    assert s.stoploss == -0.10
    m.apply(s, None)
    assert (s.buy_rsi.value, s.sell_mult.value, s.stoploss) == (30, 2.0, -0.10)
    other = Strat()
    assert other.buy_rsi.value == 30


def test_apply_plain_values_and_strict():
    target = SimpleNamespace(since=pd.Timestamp("2024-01-01", tz="UTC"))
    later = pd.Timestamp("2025-01-01", tz="UTC")
    m = StrategyModeManager({"range": {"since": later, "new_attr": 5}})
    m.apply(target, "range")
    assert target.since == later and target.new_attr == 5        # Timestamp.value is not a parameter
    with pytest.raises(ConfigError, match="'new_attr'"):
        m.apply(SimpleNamespace(since=None), "range", strict=True)


def test_validation_names_the_key():
    with pytest.raises(ConfigError, match="'sideways'"):
        StrategyModeManager({"bull": {}, "sideways": {"x": 1}})
    with pytest.raises(ConfigError, match=r"param_sets\['bull'\]"):
        StrategyModeManager({"bull": [("x", 1)]})
    with pytest.raises(ConfigError, match="'not a name'"):
        StrategyModeManager({"bear": {"not a name": 1}})
    with pytest.raises(ConfigError, match="default"):
        StrategyModeManager({}, default=5)
    with pytest.raises(ConfigError, match="param_sets"):
        StrategyModeManager([("bull", {})])


def test_manager_is_immutable():
    m = _manager()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.default = {}
    with pytest.raises(TypeError):
        m.param_sets["bull"] = {}
    with pytest.raises(TypeError):
        m.param_sets["bull"]["buy_rsi"] = 1


def test_mode_column_and_per_row_parameter():
    labels = pd.Series(["bull", None, "bear", "range", np.nan, Regime.BULL], index=[5, 6, 7, 8, 9, 10],
                       dtype=object, name="regime")
    col = mode_column(labels, {"bull": 40.0, Regime.BEAR: 25.0})
    assert col.index.tolist() == [5, 6, 7, 8, 9, 10] and col.dtype == np.float64
    np.testing.assert_array_equal(col.to_numpy(), [40.0, np.nan, 25.0, np.nan, np.nan, 40.0])
    assert mode_column(labels, {"bull": 1}, default=0).tolist() == [1, 0, 0, 0, 0, 1]
    rsi = _manager().column(labels, "buy_rsi")
    assert rsi.name == "buy_rsi" and rsi.tolist() == [40, 30, 20, 30, 30, 40]
    assert _manager().column(labels, "absent", default=-1).tolist() == [-1] * 6
