import sys

import numpy as np
import pandas as pd
import pytest
import talib

from atb.compat import freqtrade_compat
from atb.errors import StrategyError
from atb.strategy.dataprovider import DataProvider
from atb.strategy.helpers import merge_informative_pair, stoploss_from_absolute, stoploss_from_open
from atb.strategy.interface import IStrategy
from atb.strategy.loader import load_strategy
from atb.strategy.params import CategoricalParameter, DecimalParameter, IntParameter
from atb.strategy.trade import Trade


@pytest.fixture(scope="module")
def btc(shared_dir):
    return pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather").iloc[:3000]


def test_stoploss_helpers_hand_values():
    # open 100, current 110 (+10 %): a stop at open +5 % (105) is 1 - 105/110 below the current rate
    assert stoploss_from_open(0.05, 0.10) == pytest.approx(1 - 1.05 / 1.10)
    assert stoploss_from_open(0.20, 0.10) == 0.0  # would be above the current rate
    assert stoploss_from_open(0.05, 0.10, is_short=True) == pytest.approx(-1 + 0.95 / 0.90)
    assert stoploss_from_absolute(95, 100) == pytest.approx(0.05)
    assert stoploss_from_absolute(105, 100, is_short=True) == pytest.approx(0.05)
    assert stoploss_from_absolute(95, 100, leverage=3) == pytest.approx(0.15)


def test_merge_informative_pair_has_no_lookahead():
    d5 = pd.date_range("2024-01-01", periods=24, freq="5min", tz="UTC")
    base = pd.DataFrame({"date": d5, "close": np.arange(24.0)})
    d1 = pd.date_range("2024-01-01", periods=2, freq="1h", tz="UTC")
    inf = pd.DataFrame({"date": d1, "close": [100.0, 200.0]})
    out = merge_informative_pair(base, inf, "5m", "1h", ffill=True)
    # the 00:00 1h candle closes at 01:00: visible from the 00:55 5m row (its close) on
    assert out["close_1h"].iloc[10] != out["close_1h"].iloc[10]  # NaN before
    assert out["close_1h"].iloc[11] == 100.0
    assert out["close_1h"].iloc[22] == 100.0
    assert out["close_1h"].iloc[23] == 200.0  # the 01:00 candle, visible at its close
    assert "date_1h" in out.columns


def test_parameters_and_loaded_values():
    class S(IStrategy):
        buy_rsi = IntParameter(10, 40, default=30, space="buy")
        x = DecimalParameter(0.1, 0.5, default=0.2, decimals=1, space="sell")
        c = CategoricalParameter(["a", "b"], default="b", space="buy")
        buy_params = {"buy_rsi": 22}

        def populate_indicators(self, df, md):
            return df

    s = S({})
    assert (s.buy_rsi.value, s.x.value, s.c.value) == (22, 0.2, "b")
    with pytest.raises(StrategyError):
        IntParameter(5, 1, default=3)


def test_config_overrides_and_validation():
    class S(IStrategy):
        minimal_roi = {"0": 0.1, "30": 0.05}
        stoploss = -0.2

        def populate_indicators(self, df, md):
            return df

    s = S({"stoploss": -0.05, "minimal_roi": {"10": 0.01}, "trailing_stop": True})
    assert (s.stoploss, s.minimal_roi, s.trailing_stop) == (-0.05, {10: 0.01}, True)
    with pytest.raises(StrategyError, match="stoploss"):
        S({"stoploss": 0.5})
    with pytest.raises(StrategyError, match="minimal_roi"):
        S({"minimal_roi": {"x": "y"}})


def test_parity_strategies_load_unmodified_and_analyze(shared_dir, btc):
    path = shared_dir / "parity" / "strategies"
    assert "freqtrade" not in sys.modules or not hasattr(sys.modules["freqtrade"], "__version__")
    s = load_strategy("SampleStrategy", {}, path)
    df = s.atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    for col in ("enter_long", "exit_long", "enter_short", "exit_short", "enter_tag", "exit_tag"):
        assert col in df.columns
    assert df["enter_long"].sum() > 0 and df["enter_short"].sum() > 0
    np.testing.assert_allclose(df["rsi"], talib.RSI(btc["close"].to_numpy()), equal_nan=True)
    e = load_strategy("EmaCrossTrailing", {}, path).atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    assert set(e.loc[e["enter_long"] == 1, "enter_tag"]) == {"ema_cross_up"}
    assert load_strategy("RsiBbMeanReversion", {"stoploss": -0.2}, path).stoploss == -0.2


def test_loader_errors(tmp_path):
    with pytest.raises(StrategyError, match="NoSuch"):
        load_strategy("NoSuch", {}, tmp_path)
    (tmp_path / "bad.py").write_text("class Bad(IStrategy:\n  pass\n")
    with pytest.raises(StrategyError, match="bad.py.*line 1"):
        load_strategy("Bad", {}, tmp_path)
    (tmp_path / "boom.py").write_text("from freqtrade.strategy import IStrategy\n"
                                      "raise RuntimeError('kaboom')\nclass Boom(IStrategy): pass\n")
    with pytest.raises(StrategyError, match="boom.py line 2.*kaboom"):
        load_strategy("Boom", {}, tmp_path)


def test_compat_imports_resolve_and_are_removed():
    with freqtrade_compat():
        import freqtrade.vendor.qtpylib.indicators as q
        from freqtrade.persistence import Trade as T
        from freqtrade.strategy import IStrategy as I  # noqa: E741
        from technical import qtpylib as tq
    assert I is IStrategy and T is Trade and q is tq
    assert "freqtrade.strategy" not in sys.modules


def test_legacy_buy_sell_columns(btc):
    class Legacy(IStrategy):
        def populate_indicators(self, df, md):
            return df

        def populate_buy_trend(self, df, md):
            df.loc[df["close"] > df["open"], "buy"] = 1
            return df

        def populate_sell_trend(self, df, md):
            df.loc[df["close"] < df["open"], "sell"] = 1
            return df

    out = Legacy({}).atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    assert (out["enter_long"] == (btc["close"] > btc["open"]).astype(int)).all()
    assert (out["exit_long"] == (btc["close"] < btc["open"]).astype(int)).all()


def test_populate_must_keep_rows(btc):
    class Bad(IStrategy):
        def populate_indicators(self, df, md):
            return df.iloc[5:]

    with pytest.raises(StrategyError, match="number of rows"):
        Bad({}).atb_analyze(btc.copy(), {"pair": "BTC/USDT"})


def test_informative_decorator(btc):
    from atb.strategy.informative import informative

    class Inf(IStrategy):
        timeframe = "1h"

        @informative("4h")
        def populate_indicators_4h(self, df, md):
            df["sma"] = df["close"].rolling(3).mean()
            return df

        def populate_indicators(self, df, md):
            return df

    s = Inf({})
    four_h = btc.set_index("date").resample("4h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    ).reset_index()
    s.atb_set_dataprovider(DataProvider(lambda p, tf, ct: four_h, ["BTC/USDT"]))
    out = s.atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    assert "sma_4h" in out.columns and "close_4h" in out.columns
    # the 4h candle opened at 00:00 is visible from the 03:00 1h row (its close)
    row = out[out["date"] == pd.Timestamp("2024-01-01 03:00", tz="UTC")].iloc[0]
    assert row["close_4h"] == four_h["close"].iloc[0]
    row = out[out["date"] == pd.Timestamp("2024-01-01 02:00", tz="UTC")].iloc[0]
    assert row["close_4h"] != row["close_4h"]


@pytest.mark.parametrize("name", ["AtbEmaRsiTrend", "AtbBollingerReversion", "AtbDonchianBreakout"])
def test_builtin_strategies_signal(name, shared_dir):
    df = pd.read_feather(shared_dir / "data/binance/ETH_USDT-1h.feather")
    s = load_strategy(name, {})
    out = s.atb_analyze(df, {"pair": "ETH/USDT"})
    n = int(out["enter_long"].sum())
    assert 20 < n < len(df) / 10, n
    assert out["exit_long"].sum() > 0


def test_trade_profit_maths():
    t = Trade(pair="ETH/BTC", open_rate=0.08681736, amount=0.57592168, fee_open=0.001,
              fee_close=0.001)
    assert t.calc_profit(0.08786108) == 0.0005005  # SPEC section 7 example
    assert t.calc_profit_ratio(0.08786108) == pytest.approx(0.01, abs=1e-8)
    with Trade.atb_trades_context(lambda: [t]):
        assert Trade.get_open_trade_count() == 1
        assert Trade.get_trades_proxy(pair="ETH/BTC") == [t]
    assert Trade.get_open_trade_count() == 0
