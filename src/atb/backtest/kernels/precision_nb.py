"""Price/amount rounding to a tick, bit-exact with ccxt ``decimal_to_precision`` (TICK_SIZE mode).

ccxt converts the float with ``Decimal(str(x))`` (Python's shortest round-trip repr), rounds
that decimal to a multiple of the tick and converts back with ``float()``. These kernels get the
same doubles without strings: for a tick of ``10**-d`` every candidate result ``k / 10**d`` is
produced by one correctly rounded IEEE division (``k`` and ``10**d`` are exact doubles), and the
position of ``x`` relative to a rounding boundary ``b`` is decided by comparing ``x`` with
``float(b)``, which is exact whenever ``x`` is not itself the double nearest to ``b``.
Valid for ``d <= 15`` and ``|x| * 10**d < 2**52`` (always true for market prices and amounts).
"""

from __future__ import annotations

import math

from numba import njit

__all__ = [
    "round8_nb",
    "round_tick_nb",
    "round_tick_down_nb",
    "round_tick_up_nb",
    "truncate_tick_nb",
]


@njit(cache=True)
def round_tick_nb(x: float, d: int) -> float:
    """Round ``x`` (> 0) half away from zero to ``d`` decimals, as ccxt ``ROUND`` / TICK_SIZE.

    Equals ``float(decimal_to_precision(x, ROUND, 10**-d, TICK_SIZE))``.
    """
    if not (x > 0.0) or d < 0:
        return x
    p = 10.0**d
    k = _floor_multiple(x, p)
    if x >= (2.0 * k + 1.0) / (2.0 * p):
        k += 1.0
    return k / p


@njit(cache=True)
def _floor_multiple(x: float, p: float) -> float:
    """Return ``k`` with ``k/p <= x < (k+1)/p`` compared as correctly rounded doubles."""
    k = float(math.floor(x * p))
    if (k + 1.0) / p <= x:
        k += 1.0
    elif k / p > x:
        k -= 1.0
    return k


@njit(cache=True)
def _is_multiple(x: float, p: float) -> bool:
    """True when the shortest repr of ``x`` has at most ``log10(p)`` decimals."""
    n = math.floor(x * p + 0.5)
    return n / p == x or (n - 1.0) / p == x or (n + 1.0) / p == x


@njit(cache=True)
def round_tick_up_nb(x: float, d: int) -> float:
    """Round ``x`` (> 0) up to a multiple of ``10**-d`` (freqtrade stop prices, ROUND_UP).

    A value already on the tick is returned unchanged; otherwise ``price - (price mod tick) +
    tick`` (freqtrade then applies ``round(.., 14)``, an identity for ``d <= 14``).
    """
    if not (x > 0.0) or d < 0:
        return x
    p = 10.0**d
    if _is_multiple(x, p):
        return x
    k = _floor_multiple(x, p) + 1.0
    return k / p


@njit(cache=True)
def round_tick_down_nb(x: float, d: int) -> float:
    """Round ``x`` (> 0) down to a multiple of ``10**-d`` (short stop prices, ROUND_DOWN)."""
    if not (x > 0.0) or d < 0:
        return x
    p = 10.0**d
    if _is_multiple(x, p):
        return x
    k = _floor_multiple(x, p)
    return k / p


@njit(cache=True)
def truncate_tick_nb(x: float, d: int) -> float:
    """Truncate ``x`` (>= 0) to a multiple of ``10**-d`` (amounts, ccxt TRUNCATE / TICK_SIZE)."""
    if not (x > 0.0) or d < 0:
        return x
    p = 10.0**d
    if _is_multiple(x, p):
        return x
    return _floor_multiple(x, p) / p


@njit(cache=True)
def _two_product_err(a: float, b: float) -> float:
    """Error term of ``a*b`` (Dekker/Veltkamp split): ``a*b == fl(a*b) + err`` exactly."""
    split = 134217729.0  # 2**27 + 1
    p = a * b
    ta = split * a
    ah = ta - (ta - a)
    al = a - ah
    tb = split * b
    bh = tb - (tb - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


@njit(cache=True)
def round8_nb(x: float) -> float:
    """Round to 8 decimals like ``float(f"{x:.8f}")`` (correct rounding of the binary value).

    The side of the decimal midpoint is decided exactly with an error-free product; an exact
    binary tie goes to even, as Python's float formatting does.
    """
    if not math.isfinite(x) or abs(x) >= 2.0**52 / 1e8:
        return x
    p = 1e8
    k = _floor_multiple(x, p)
    # exact sign of x*2p - (2k+1): hi + err is x*2p without rounding error
    hi = x * (2.0 * p)
    err = _two_product_err(x, 2.0 * p)
    diff = (hi - (2.0 * k + 1.0)) + err
    if diff > 0.0 or (diff == 0.0 and k % 2.0 != 0.0):
        k += 1.0
    return k / p
