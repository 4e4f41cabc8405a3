"""IStrategy: defaults, config overrides, validation, atb_analyze, atb_overridden, informative."""

import math

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, StrategyError
from atb.strategy.dataprovider import DataProvider
from atb.strategy.informative import informative
from atb.strategy.interface import IStrategy


def candles(n=48, start="2024-01-01", freq="1h"):
    d = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    close = 100 + np.sin(np.arange(n) / 3) * 5
    return pd.DataFrame({"date": d, "open": close - 0.5, "high": close + 1, "low": close - 1,
                         "close": close, "volume": np.full(n, 10.0)})


class Basic(IStrategy):
    timeframe = "1h"
    stoploss = -0.2
    minimal_roi = {"60": 0.01, "0": 0.05}

    def populate_indicators(self, df, md):
        df["up"] = df["close"] > df["open"]
        return df

    def populate_entry_trend(self, df, md):
        df.loc[df["close"] > 104, ["enter_long", "enter_tag"]] = (1, "high")
        return df

    def populate_exit_trend(self, df, md):
        df.loc[df["close"] < 96, "exit_long"] = 1
        return df


def test_freqtrade_defaults_and_normalisation():
    s = Basic({})
    assert s.minimal_roi == {0: 0.05, 60: 0.01}
    assert list(s.minimal_roi) == [0, 60]
    assert (s.trailing_stop, s.trailing_stop_positive, s.trailing_stop_positive_offset) == (False, None, 0.0)
    assert (s.use_exit_signal, s.exit_profit_only, s.exit_profit_offset) == (True, False, 0.0)
    assert (s.ignore_roi_if_entry_signal, s.can_short, s.process_only_new_candles) == (False, False, True)
    assert s.order_types["stoploss_on_exchange"] is False and s.order_time_in_force["entry"] == "GTC"
    assert s.INTERFACE_VERSION == 3 and s.dp is None and s.wallets is None


def test_config_overrides_and_write_back():
    cfg = {"stoploss": -0.05, "minimal_roi": {"10": 0.01}, "trailing_stop": True,
           "trailing_stop_positive": 0.02, "use_exit_signal": False, "custom_key": 1}
    s = Basic(cfg)
    assert (s.stoploss, s.minimal_roi, s.trailing_stop, s.trailing_stop_positive) == (
        -0.05, {10: 0.01}, True, 0.02)
    assert s.use_exit_signal is False and s.config is cfg
    assert cfg["timeframe"] == "1h" and cfg["exit_profit_only"] is False  # copied like freqtrade
    mot = Basic({"max_open_trades": -1})
    assert mot.max_open_trades == math.inf


@pytest.mark.parametrize("cfg, field", [
    ({"stoploss": 0.5}, "stoploss"),
    ({"stoploss": "x"}, "stoploss"),
    ({"minimal_roi": {"x": "y"}}, "minimal_roi"),
    ({"minimal_roi": [0.1]}, "minimal_roi"),
    ({"trailing_stop_positive": 2.0}, "trailing_stop_positive"),
    ({"trailing_stop_positive_offset": -0.1}, "trailing_stop_positive_offset"),
    ({"order_types": {"entry": "limit"}}, "order_types"),
    ({"order_time_in_force": {"entry": "GTC"}}, "order_time_in_force"),
])
def test_invalid_values_name_the_field(cfg, field):
    with pytest.raises(StrategyError, match=field):
        Basic(cfg)


def test_missing_required_and_bad_timeframe():
    class NoStop(IStrategy):
        timeframe = "1h"

        def populate_indicators(self, df, md):
            return df

    with pytest.raises(StrategyError, match="stoploss is required"):
        NoStop({})
    assert NoStop({"stoploss": -0.1}).stoploss == -0.1
    with pytest.raises(ConfigError, match="timeframe"):
        Basic({"timeframe": "7x"})


def test_short_strategy_needs_margin_or_futures():
    class Shorty(Basic):
        can_short = True

    with pytest.raises(StrategyError, match="can_short"):
        Shorty({})
    assert Shorty({"trading_mode": "futures"}).can_short


def test_atb_analyze_columns_tags_and_input_untouched():
    df = candles()
    before = df.copy()
    out = Basic({}).atb_analyze(df, {"pair": "A/USDT"})
    pd.testing.assert_frame_equal(df, before)
    for col in ("enter_long", "exit_long", "enter_short", "exit_short", "enter_tag", "exit_tag"):
        assert col in out.columns
    hi = out["close"] > 104
    assert (out.loc[hi, "enter_long"] == 1).all() and out.loc[~hi, "enter_long"].isna().all()
    assert set(out.loc[hi, "enter_tag"]) == {"high"} and out.loc[~hi, "enter_tag"].isna().all()
    assert out["exit_tag"].isna().all() and out["exit_tag"].dtype == object
    assert (out["enter_short"] == 0).all()


def test_tags_start_empty_so_strategies_can_append():
    class Appender(Basic):
        def populate_entry_trend(self, df, md):
            df.loc[df["close"] > 104, "enter_tag"] += "a_"
            df.loc[df["close"] > 103, "enter_tag"] += "b_"
            df.loc[df["close"] > 103, "enter_long"] = 1
            return df

    out = Appender({}).atb_analyze(candles(), {"pair": "A/USDT"})
    assert set(out["enter_tag"].dropna()) == {"a_b_", "b_"}


def test_legacy_buy_sell_columns():
    class Legacy(IStrategy):
        timeframe = "1h"
        stoploss = -0.1

        def populate_indicators(self, df, md):
            return df

        def populate_buy_trend(self, df, md):
            df.loc[df["close"] > df["open"], ["buy", "buy_tag"]] = (1, "legacy")
            return df

        def populate_sell_trend(self, df, md):
            df.loc[df["close"] < 100, "sell"] = 1
            return df

    df = candles()
    out = Legacy({}).atb_analyze(df, {"pair": "A/USDT"})
    assert (out["enter_long"].fillna(0) == (df["close"] > df["open"]).astype(float)).all()
    assert (out["exit_long"].fillna(0) == (df["close"] < 100).astype(float)).all()
    assert set(out["enter_tag"].dropna()) == {"legacy"}
    assert list(out.columns).count("enter_tag") == 1


@pytest.mark.parametrize("bad, msg", [
    (lambda df: df.iloc[5:], "number of rows"),
    (lambda df: None, "NoneType"),
    (lambda df: df.assign(date=df["date"] + pd.Timedelta("1h")), "dates"),
])
def test_populate_must_keep_rows_and_dates(bad, msg):
    class Bad(Basic):
        def populate_indicators(self, df, md):
            return bad(df)

    with pytest.raises(StrategyError, match=msg):
        Bad({}).atb_analyze(candles(), {"pair": "A/USDT"})


def test_abstract_populate_indicators():
    class Nothing(IStrategy):
        timeframe = "1h"
        stoploss = -0.1

    with pytest.raises(TypeError):
        Nothing({})


def test_atb_overridden():
    class CB(Basic):
        def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit,
                            after_fill, **kwargs):
            return -0.01

    s = CB({})
    assert s.atb_overridden("custom_stoploss") and not s.atb_overridden("custom_exit")
    assert not Basic({}).atb_overridden("custom_stoploss")
    assert Basic({}).custom_stoploss("A/USDT", None, None, 1.0, 0.0, False) == -0.2  # freqtrade default
    with pytest.raises(StrategyError, match="not a strategy callback"):
        s.atb_overridden("populate_indicators")


def test_lazy_freqtrade_imports_work_inside_analyze():
    class Lazy(Basic):
        def populate_indicators(self, df, md):
            from freqtrade.vendor.qtpylib.indicators import crossed_above

            df["x"] = crossed_above(df["close"], 100)
            return df

    out = Lazy({}).atb_analyze(candles(), {"pair": "A/USDT"})
    assert out["x"].sum() > 0


def _dp(frames):
    return DataProvider(lambda pair, tf, ctype: frames[(pair, tf)], ["ETH/USDT"], "backtest", "1h")


def test_informative_decorators_stack_and_name_columns():
    h1 = candles(48)
    h4 = h1.set_index("date").resample("4h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).reset_index()
    btc4 = h4.assign(close=h4["close"] * 10)

    class Inf(Basic):
        @informative("4h")
        @informative("4h", "BTC/{stake}")
        def populate_indicators_4h(self, df, md):
            df["pair_seen"] = md["pair"]
            df["sma2"] = df["close"].rolling(2).mean()
            return df

        @informative("4h", "BTC/USDT", fmt="{BASE}_{column}")
        def populate_fmt(self, df, md):
            return df[["date", "close"]].copy()

    s = Inf({"stake_currency": "USDT"})
    s.atb_set_dataprovider(_dp({("ETH/USDT", "4h"): h4, ("BTC/USDT", "4h"): btc4}))
    out = s.atb_analyze(h1, {"pair": "ETH/USDT"})
    for col in ("sma2_4h", "close_4h", "date_4h", "btc_usdt_close_4h", "btc_usdt_sma2_4h", "BTC_close"):
        assert col in out.columns, col
    at = out.set_index("date")
    t3 = pd.Timestamp("2024-01-01 03:00", tz="UTC")  # the 00:00 4h candle closes at 04:00
    assert at.loc[t3, "close_4h"] == h4["close"].iloc[0]
    assert at.loc[t3, "btc_usdt_close_4h"] == btc4["close"].iloc[0]
    assert at.loc[t3, "pair_seen_4h"] == "ETH/USDT" and at.loc[t3, "btc_usdt_pair_seen_4h"] == "BTC/USDT"
    assert math.isnan(at.loc[pd.Timestamp("2024-01-01 02:00", tz="UTC"), "close_4h"])
    t7 = pd.Timestamp("2024-01-01 07:00", tz="UTC")
    assert at.loc[t7, "sma2_4h"] == pytest.approx(h4["close"].iloc[:2].mean())


def test_informative_errors():
    class Faster(Basic):
        @informative("15m")
        def populate_15m(self, df, md):
            return df

    class Slower(Basic):
        @informative("4h")
        def populate_4h(self, df, md):
            return df

    with pytest.raises(StrategyError, match="data provider"):
        Slower({}).atb_analyze(candles(), {"pair": "A/USDT"})
    s = Slower({})
    s.atb_set_dataprovider(_dp({("A/USDT", "4h"): candles(0)}))
    with pytest.raises(StrategyError, match="no 4h candles for A/USDT"):
        s.atb_analyze(candles(), {"pair": "A/USDT"})
    f = Faster({})
    f.atb_set_dataprovider(_dp({}))
    with pytest.raises(StrategyError, match="equal to or longer"):
        f.atb_analyze(candles(), {"pair": "A/USDT"})
