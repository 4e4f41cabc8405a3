"""Student t tail probability without SciPy (continued fraction of the incomplete beta).

``P(|T_nu| > t) = I_x(nu / 2, 1 / 2)`` with ``x = nu / (nu + t^2)``, where ``I`` is the regularised
incomplete beta function (Abramowitz & Stegun 26.7.1 with 26.5.27). ``I`` is evaluated with its
continued fraction (A&S 26.5.8) by the modified Lentz method (Press et al., *Numerical Recipes*,
3rd ed., §6.4 and §5.2), using the symmetry ``I_x(a, b) = 1 - I_{1-x}(b, a)`` where the fraction
converges slowly.
"""

from __future__ import annotations

import math

__all__ = ["regularized_incomplete_beta", "student_t_two_sided_p"]

_TINY = 1e-300
_EPS = 1e-16
_MAX_ITER = 10_000


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of ``I_x(a, b)`` (A&S 26.5.8), modified Lentz evaluation."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                    -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + num / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def regularized_incomplete_beta(a: float, b: float, x: float, one_minus_x: float | None = None) -> float:
    """Regularised incomplete beta ``I_x(a, b)`` for ``a, b > 0`` and ``0 <= x <= 1``.

    Parameters
    ----------
    a, b : float
        Shape parameters, > 0.
    x : float
        Argument in [0, 1].
    one_minus_x : float, optional
        ``1 - x`` computed without cancellation by the caller (defaults to ``1 - x``).

    Returns
    -------
    float
        In [0, 1].
    """
    y = 1.0 - x if one_minus_x is None else one_minus_x
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, y) / b


def student_t_two_sided_p(t: float, dof: float) -> float:
    """Two-sided tail probability ``P(|T| >= |t|)`` of Student's t with ``dof`` degrees of freedom.

    Parameters
    ----------
    t : float
        Test statistic.
    dof : float
        Degrees of freedom, > 0.

    Returns
    -------
    float
        p-value in [0, 1]; equals ``2 * scipy.stats.t.sf(abs(t), dof)`` to ~1e-10 relative
        (the error grows slowly with ``dof`` through ``lgamma``; ~1e-12 below 10,000).
    """
    t2 = t * t
    if math.isinf(t2):
        return 0.0
    denom = dof + t2
    return min(1.0, regularized_incomplete_beta(dof / 2.0, 0.5, dof / denom, t2 / denom))
