"""The tick-rounding kernels equal ccxt's decimal_to_precision on Decimal(str(x))."""

import random
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

import pytest

from atb.backtest.kernels.precision_nb import (
    round8_nb,
    round_tick_down_nb,
    round_tick_nb,
    round_tick_up_nb,
    truncate_tick_nb,
)


def ref_round(x, d):
    return float(Decimal(str(x)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP))


def ref_trunc(x, d):
    return float(Decimal(str(x)).quantize(Decimal(1).scaleb(-d), rounding=ROUND_FLOOR))


def ref_up(x, d):
    tick = Decimal(1).scaleb(-d)
    dx = Decimal(str(x))
    r = dx % tick
    return x if r == 0 else round(float(dx - r + tick), 14)


def ref_down(x, d):
    tick = Decimal(1).scaleb(-d)
    dx = Decimal(str(x))
    r = dx % tick
    return x if r == 0 else round(float(dx - r), 14)


def _samples(n=20000, seed=7):
    rng = random.Random(seed)
    for _ in range(n):
        d = rng.randint(0, 9)
        kind = rng.random()
        if kind < 0.35:  # decimal ties at digit d+1
            x = round(rng.uniform(1e-4, 9e4), d) + 5 * 10.0 ** -(d + 1)
        elif kind < 0.7:  # values already on the tick with float noise
            x = round(rng.uniform(1e-4, 100), d) * (1 + rng.choice([0, 1e-16, -1e-16, 2e-16]))
        else:
            x = rng.uniform(1e-6, 1e3)
        if x > 0 and abs(x) * 10**d < 2**50 and len(repr(x).replace(".", "").lstrip("0")) < 16:
            yield x, d


@pytest.mark.parametrize(
    ("x", "d", "expected"),
    [
        (0.046340000000000006, 5, 0.04634),  # freqtrade's unfilled-exit example (SPEC pitfalls)
        (0.0878610802, 8, 0.08786108),  # SPEC section 7 ROI example
        (2.5, 0, 3.0),  # half away from zero
        (1.005, 2, 1.01),  # Decimal('1.005') is an exact tie in decimal
        (5.2130000000000004e-05, 8, 5.213e-05),
    ],
)
def test_round_known_values(x, d, expected):
    assert round_tick_nb(x, d) == expected


def test_round_matches_decimal_reference():
    bad = [(x, d) for x, d in _samples() if round_tick_nb(x, d) != ref_round(x, d)]
    assert bad == []


def test_truncate_matches_decimal_reference():
    bad = [(x, d) for x, d in _samples() if truncate_tick_nb(x, d) != ref_trunc(x, d)]
    assert bad == []
    assert truncate_tick_nb(0.05 / 0.08681736, 8) == 0.57592168  # SPEC section 7 amount


def test_round_up_and_down_match_reference():
    samples = list(_samples(8000, seed=11))
    assert [(x, d) for x, d in samples if round_tick_up_nb(x, d) != ref_up(x, d)] == []
    assert [(x, d) for x, d in samples if round_tick_down_nb(x, d) != ref_down(x, d)] == []


def test_negative_decimals_mean_no_rounding():
    assert round_tick_nb(1.23456789, -1) == 1.23456789
    assert round_tick_up_nb(1.23456789, -1) == 1.23456789


def test_round8_matches_python_formatting():
    rng = random.Random(3)
    for _ in range(20000):
        x = rng.uniform(-50, 50) * rng.choice([1, 1e-3, 1e-6])
        assert round8_nb(x) == float(f"{x:.8f}"), x
    # decimal-looking midpoints decided on the exact binary value
    for x in (21185.754651085, 0.000000015, 2.675e-8, 1.000000005):
        assert round8_nb(x) == float(f"{x:.8f}")
