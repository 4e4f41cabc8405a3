"""DataProvider: loader calls and cache, analysed frames limited to closed candles."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from atb.core.enums import RunMode
from atb.errors import StrategyError
from atb.strategy.dataprovider import DataProvider


def frame(n=5):
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
                         "close": [float(i) for i in range(n)]})


def test_loader_cache_and_copies():
    calls = []

    def loader(pair, tf, ctype):
        calls.append((pair, tf, ctype))
        return frame()

    dp = DataProvider(loader, ["A/USDT", "B/USDT"], "backtest", "1h")
    a = dp.get_pair_dataframe("A/USDT")
    a.loc[0, "close"] = 99.0  # a copy: the cache is not changed
    assert dp.historic_ohlcv("A/USDT", "1h")["close"].iloc[0] == 0.0
    dp.ohlcv("A/USDT", "4h", candle_type="futures")
    assert calls == [("A/USDT", "1h", ""), ("A/USDT", "4h", "futures")]
    assert dp.current_whitelist() == ["A/USDT", "B/USDT"]
    assert dp.runmode is RunMode.BACKTEST and dp.runmode.value == "backtest"
    assert dp.market("BTC/USDT:USDT")["settle"] == "USDT" and dp.ticker("A/USDT") == {}
    with pytest.raises(StrategyError):
        dp.orderbook("A/USDT", 1)
    with pytest.raises(StrategyError, match="runmode"):
        DataProvider(loader, [], "sideways")


def test_analyzed_dataframe_up_to_the_last_closed_candle():
    dp = DataProvider(lambda *a: frame(), ["A/USDT"], "backtest", "1h")
    assert dp.get_analyzed_dataframe("A/USDT")[0].empty
    dp.atb_set_analyzed("A/USDT", "1h", frame())
    df, last = dp.get_analyzed_dataframe("A/USDT")
    assert len(df) == 5
    dp.atb_set_current_time(datetime(2024, 1, 1, 3, tzinfo=UTC))  # candles 00-02 closed
    df, last = dp.get_analyzed_dataframe("A/USDT", "1h")
    assert df["close"].tolist() == [0.0, 1.0, 2.0] and last == datetime(2024, 1, 1, 2, tzinfo=UTC)
