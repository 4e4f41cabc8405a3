"""Hyperoptable parameters: constructors, ranges, loading precedence, parameter files."""

import json

import pytest

from atb.errors import StrategyError
from atb.strategy.interface import IStrategy
from atb.strategy.params import (
    BooleanParameter,
    CategoricalParameter,
    DecimalParameter,
    IntParameter,
    RealParameter,
    read_params_file,
)


def test_constructors_and_ranges():
    p = IntParameter(10, 40, default=30, space="buy")
    assert (p.low, p.high, p.value, p.space, p.optimize, p.load) == (10, 40, 30, "buy", True, True)
    assert list(p.range) == [30]  # not optimising: the value only
    p.in_space = True
    assert list(p.range) == list(range(10, 41))
    assert IntParameter([1, 5], default=2).high == 5
    d = DecimalParameter(0.1, 0.3, default=0.12345, decimals=2)
    assert d.value == 0.12 and d.range == [0.12]
    d.in_space = True
    assert d.range == [0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19, 0.2, 0.21,
                       0.22, 0.23, 0.24, 0.25, 0.26, 0.27, 0.28, 0.29, 0.3]
    r = RealParameter(0.0, 1.0, default=0.5, optimize=False)
    r.in_space = True
    assert r.range == [0.5] and not r.can_optimize()
    c = CategoricalParameter(["a", "b", "c"], space="sell")
    assert c.value == "a" and c.range == ["a"]
    b = BooleanParameter(default=False)
    assert b.value is False and b.opt_range == [True, False]
    assert repr(p) == "IntParameter(30)"


@pytest.mark.parametrize("make", [
    lambda: IntParameter(5, 1, default=3),
    lambda: IntParameter([1, 2, 3], default=2),
    lambda: IntParameter([1, 2], 3, default=2),
    lambda: IntParameter(1, default=1),
    lambda: CategoricalParameter(["only"]),
    lambda: IntParameter(1, 5, default=2, name="x"),
])
def test_bad_declarations(make):
    with pytest.raises(StrategyError):
        make()


class ParamStrategy(IStrategy):
    timeframe = "1h"
    stoploss = -0.1
    buy_rsi = IntParameter(10, 40, default=30)  # space from the name prefix
    sell_rsi = IntParameter(60, 90, default=70)
    bb = DecimalParameter(1.0, 3.0, default=2.0, decimals=1, space="buy")
    frozen = IntParameter(1, 9, default=5, space="buy", load=False)
    mode = CategoricalParameter(["a", "b"], default="b", space="sell")
    buy_params = {"buy_rsi": 22, "bb": 2.5, "frozen": 7}
    sell_params = {"mode": "a"}

    def populate_indicators(self, df, md):
        return df


def test_values_load_from_space_dicts_and_instances_are_isolated():
    s = ParamStrategy({})
    assert (s.buy_rsi.value, s.sell_rsi.value, s.bb.value, s.mode.value) == (22, 70, 2.5, "a")
    assert s.frozen.value == 5  # load=False keeps the default
    assert s.buy_rsi.name == "buy_rsi" and s.buy_rsi.space == "buy" and s.sell_rsi.space == "sell"
    assert ParamStrategy.buy_rsi.value == 30  # the class's object is untouched
    s.buy_rsi.value = 11
    assert ParamStrategy({}).buy_rsi.value == 22
    assert sorted(s.atb_parameters) == ["bb", "buy_rsi", "frozen", "mode", "sell_rsi"]


def test_inconclusive_space_is_an_error():
    class Bad(IStrategy):
        timeframe = "1h"
        stoploss = -0.1
        buy_x = IntParameter(1, 3, default=2, space="sell")

        def populate_indicators(self, df, md):
            return df

    with pytest.raises(StrategyError, match="buy_x"):
        Bad({})


def test_params_file_reading(tmp_path):
    f = tmp_path / "mystrat.py"
    f.write_text("# strategy\n")
    assert read_params_file(f, "MyStrat") == {}
    params = {"buy": {"buy_rsi": 17}, "roi": {"0": 0.2}, "stoploss": {"stoploss": -0.07}}
    (tmp_path / "mystrat.json").write_text(json.dumps({"strategy_name": "MyStrat", "params": params}))
    assert read_params_file(f, "MyStrat") == params
    with pytest.raises(StrategyError, match="not for strategy Other"):
        read_params_file(f, "Other")
    (tmp_path / "mystrat.json").write_text("{broken")
    with pytest.raises(StrategyError, match="mystrat.json"):
        read_params_file(f, "MyStrat")
