import atb


def test_public_api_is_sorted_and_resolves():
    assert atb.__all__ == sorted(atb.__all__)
    assert atb.__all__ == [
        "AtbError", "BacktestInputs", "BacktestResult", "IStrategy", "__version__",
        "compute_metrics", "load_data", "load_freqtrade_config", "load_strategy", "run_backtest",
    ]
    for name in atb.__all__:
        assert getattr(atb, name) is not None
