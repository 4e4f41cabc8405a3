"""stoploss_from_open / stoploss_from_absolute / merge_informative_pair against hand values."""

import math

import numpy as np
import pandas as pd
import pytest

from atb.strategy.helpers import (
    merge_informative_pair,
    stoploss_from_absolute,
    stoploss_from_open,
    timeframe_to_minutes,
)


def test_stoploss_from_open_hand_values():
    # open 100, now 110 (+10 %): a stop at 105 (open +5 %) is 1 - 105/110 below the current rate
    assert stoploss_from_open(0.05, 0.10) == pytest.approx(1 - 105 / 110)
    assert stoploss_from_open(0.20, 0.10) == 0.0  # 120 is above the current rate: impossible
    assert stoploss_from_open(-0.05, -1.0) == 1.0  # a dead trade
    # short: open 100, now 90 (+10 %): stop at 95 (open -5 %) is 95/90 - 1 above the current rate
    assert stoploss_from_open(0.05, 0.10, is_short=True) == pytest.approx(95 / 90 - 1)
    assert stoploss_from_open(0.05, 1.0, is_short=True) == 1.0
    # 3x leverage: profit 0.30 is +10 % in price; stop at +5 % price (0.15 leveraged)
    assert stoploss_from_open(0.15, 0.30, leverage=3) == pytest.approx((1 - 105 / 110) * 3)


def test_stoploss_from_absolute_hand_values():
    assert stoploss_from_absolute(95, 100) == pytest.approx(0.05)
    assert stoploss_from_absolute(105, 100) == 0.0  # above the rate for a long
    assert stoploss_from_absolute(105, 100, is_short=True) == pytest.approx(0.05)
    assert stoploss_from_absolute(95, 100, leverage=3) == pytest.approx(0.15)
    assert stoploss_from_absolute(300, 100, is_short=True) == 1.0  # clipped at 1
    assert stoploss_from_absolute(1, 0) == 1.0


def test_timeframe_helpers_are_reexported():
    assert timeframe_to_minutes("4h") == 240


def _base(start="2024-01-01 00:00", n=24, freq="15min"):
    d = pd.date_range(start, periods=n, freq=freq, tz="UTC")
    return pd.DataFrame({"date": d, "x": np.arange(float(n))})


def _hourly(start="2023-12-31 22:00", closes=(10.0, 20.0, 30.0, 40.0, 50.0, 60.0)):
    d = pd.date_range(start, periods=len(closes), freq="1h", tz="UTC")
    return pd.DataFrame({"date": d, "close": list(closes)})


def test_informative_candle_visible_only_after_it_closed():
    out = merge_informative_pair(_base(), _hourly(), "15m", "1h", ffill=True)
    assert list(out.columns) == ["date", "x", "date_1h", "close_1h"]
    by_time = dict(zip(out["date"].dt.strftime("%H:%M"), out["close_1h"], strict=True))
    # the 23:00 candle (close 20) closed at 00:00: rows 00:00-00:30 see it (leading fill)
    assert by_time["00:00"] == 20.0 and by_time["00:30"] == 20.0
    # the 00:00 candle (30) is merged at 00:45, the last 15m candle inside it
    assert by_time["00:45"] == 30.0 and by_time["01:30"] == 30.0
    assert by_time["01:45"] == 40.0
    assert out.loc[3, "date_1h"] == pd.Timestamp("2024-01-01 00:00", tz="UTC")


def test_merge_without_ffill_fills_exact_rows_only():
    out = merge_informative_pair(_base(), _hourly(), "15m", "1h", ffill=False)
    assert out["close_1h"].notna().sum() == 4  # 00:45, 01:45, 02:45, 03:45
    assert out.loc[3, "close_1h"] == 30.0 and math.isnan(out.loc[4, "close_1h"])


def test_ffill_copies_whole_rows_and_skips_unmapped_candles():
    inf = _hourly(closes=(10.0, 20.0, np.nan, 40.0, 50.0, 60.0))
    base = _base().drop(index=[7]).reset_index(drop=True)  # 01:45 missing: the 01:00 candle is lost
    out = merge_informative_pair(base, inf, "15m", "1h")
    t = dict(zip(out["date"].dt.strftime("%H:%M"), out["close_1h"], strict=True))
    assert math.isnan(t["00:45"]) and math.isnan(t["01:30"])  # candle 00:00 had NaN: stays NaN
    assert math.isnan(t["02:00"])  # 01:00 candle (40) never mapped: the previous row carries on
    assert t["02:45"] == 50.0
    assert out["x"].tolist() == base["x"].tolist()  # base columns untouched


def test_suffix_append_and_same_timeframe():
    out = merge_informative_pair(_base(), _hourly(), "15m", "1h", append_timeframe=False,
                                 suffix="btc")
    assert "close_btc" in out.columns and "date_btc" in out.columns
    with pytest.raises(ValueError):
        merge_informative_pair(_base(), _hourly(), "15m", "1h", suffix="btc")
    with pytest.raises(ValueError, match="longer"):
        merge_informative_pair(_hourly(), _base(), "1h", "15m")
    h = _hourly("2024-01-01 00:00")
    same = merge_informative_pair(h.rename(columns={"close": "c"}), h, "1h", "1h")
    assert same["close_1h"].tolist() == h["close"].tolist()  # same timeframe: same row


def test_monthly_candle_closes_at_next_month():
    base = pd.DataFrame({"date": pd.date_range("2024-01-30", "2024-02-02", freq="1D", tz="UTC")})
    monthly = pd.DataFrame({"date": pd.to_datetime(["2023-12-01", "2024-01-01"], utc=True),
                            "close": [1.0, 2.0]})
    out = merge_informative_pair(base, monthly, "1d", "1M")
    assert out["close_1M"].tolist() == [1.0, 2.0, 2.0, 2.0]  # January visible from Jan 31
