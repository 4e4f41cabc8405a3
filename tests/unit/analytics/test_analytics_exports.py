import atb.analytics


def test_all_is_sorted_and_resolves():
    names = atb.analytics.__all__
    assert names == sorted(names)
    assert all(hasattr(atb.analytics, n) for n in names)
    assert {"sharpe", "sortino", "calmar", "cagr", "max_drawdown", "underwater"} <= set(names)
