"""Student t tail probability against SciPy (installed in the test environment)."""

import math

import pytest

from atb.analytics._stats import regularized_incomplete_beta, student_t_two_sided_p

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("t", [0.0, 0.1, 0.61, 1.0, 2.5, 7.0, 47.8, -3.0])
@pytest.mark.parametrize("dof", [1, 2, 5, 54, 675, 3000])
def test_matches_scipy(t, dof):
    ref = 2 * stats.t.sf(abs(t), dof)
    assert student_t_two_sided_p(t, dof) == pytest.approx(ref, rel=1e-11, abs=1e-300)


def test_closed_forms():
    # Cauchy (1 dof): p = 1 - 2 atan(t) / pi
    assert student_t_two_sided_p(1e-8, 1) == pytest.approx(1 - 2 * math.atan(1e-8) / math.pi,
                                                           rel=1e-15)
    assert student_t_two_sided_p(math.inf, 3) == 0.0
    assert regularized_incomplete_beta(2.0, 3.0, 0.0) == 0.0
    assert regularized_incomplete_beta(2.0, 3.0, 1.0) == 1.0
    # I_x(1, 1) = x
    assert regularized_incomplete_beta(1.0, 1.0, 0.3) == pytest.approx(0.3, rel=1e-14)
