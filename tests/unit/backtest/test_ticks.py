import numpy as np
import pandas as pd

from atb.backtest.ticks import decimals_14sig, monthly_tick_decimals


def _exact(v):
    s = np.format_float_positional(v, precision=14, unique=False, fractional=False, trim="-")
    return len(s.split(".", 1)[1].rstrip("0")) if "." in s else 0


def test_decimals_match_numpy_formatting_on_real_prices(shared_dir):
    df = pd.read_feather(shared_dir / "data/bittrex/ETH_BTC-5m.feather")
    df2 = pd.read_feather(shared_dir / "data/binance/DOGE_USDT-1h.feather")
    values = np.unique(np.concatenate([
        df[["open", "high", "low", "close"]].to_numpy().ravel(),
        df2[["open", "high", "low", "close"]].to_numpy().ravel(),
    ]))
    fast = decimals_14sig(values)
    exact = np.array([_exact(v) for v in values])
    np.testing.assert_array_equal(fast, exact)


def test_decimals_edge_values():
    vals = np.array([0.046340000000000006, 60000.12, 1e-8, 123456789.0, 0.1, 5.0, 0.0])
    np.testing.assert_array_equal(decimals_14sig(vals), [5, 2, 8, 0, 1, 0, 0])


def test_monthly_max_decimals():
    dates = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"], utc=True)
    df = pd.DataFrame({
        "date": dates,
        "open": [1.5, 1.25, 2.0, 2.0],
        "high": [1.5, 1.255, 2.0, 2.0],
        "low": [1.5, 1.25, 2.0, 2.0],
        "close": [1.5, 1.25, 2.0, 2.1],
    })
    np.testing.assert_array_equal(monthly_tick_decimals(df), [3, 3, 1, 1])
