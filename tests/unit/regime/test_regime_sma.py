"""SmaTrendDetector: SMA, band, hysteresis and the day-to-row convention against hand values."""

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, DataError
from atb.regime import Regime, RegimeDetector, SmaTrendDetector

from ._helpers import frame

# sma_days=3, band=0.05: hand-computed SMA and raw zones
CLOSES = [100, 100, 100, 120, 120, 120, 90, 90, 90, 130, 90, 130]
SMA = [np.nan, np.nan, 100, 320 / 3, 340 / 3, 120, 110, 100, 90, 310 / 3, 310 / 3, 350 / 3]
ZONES = [None, None, "range", "bull", "bull", "range", "bear", "bear", "range", "bull", "bear", "bull"]
STATES = {
    1: ZONES,
    2: [None, None, "range", "range", "bull", "bull", "bull", "bear", "bear", "bear", "bear", "bear"],
    3: [None, None] + ["range"] * 10,
}


def test_daily_sma_zones_and_hysteresis():
    daily = frame(CLOSES, freq="1D")
    for confirm, states in STATES.items():
        table = SmaTrendDetector(sma_days=3, band=0.05, confirm=confirm).daily_states(daily)
        np.testing.assert_allclose(table["sma"].to_numpy(), SMA, rtol=1e-12)
        assert table["zone"].tolist() == ZONES
        assert table["state"].tolist() == states, confirm
        assert list(table.index) == list(daily["date"])


def test_daily_input_labels_use_the_same_day():
    daily = frame(CLOSES, freq="1D")
    det = SmaTrendDetector(sma_days=3, band=0.05, confirm=2)
    labels = det.detect(daily)
    assert labels.tolist() == STATES[2]
    assert labels.dtype == object and isinstance(labels.index, pd.RangeIndex)
    assert isinstance(det, RegimeDetector)
    # explicit timeframe gives the same answer
    assert SmaTrendDetector(sma_days=3, band=0.05, confirm=2, timeframe="1d").detect(daily).equals(labels)


def test_band_edges_belong_to_range():
    # sma_days=2, band=0: SMA 100, 101, 100 -> close == SMA is range, above bull, below bear
    det = SmaTrendDetector(sma_days=2, band=0.0, confirm=1)
    assert det.daily_states(frame([100, 100, 102, 98], freq="1D"))["zone"].tolist() == [
        None, "range", "bull", "bear"]
    # band=0.5: SMA 100 on days 1 and 2, closes exactly on the upper (150) and lower (50) edge
    table = SmaTrendDetector(sma_days=2, band=0.5, confirm=1).daily_states(frame([50, 150, 50], freq="1D"))
    assert table["sma"].tolist()[1:] == [100.0, 100.0]
    assert table["zone"].tolist() == [None, "range", "range"]
    assert SmaTrendDetector(sma_days=2, band=0.5, confirm=1).daily_states(
        frame([50, 150.001, 49.999], freq="1D"))["zone"].tolist() == [None, "bull", "bear"]


def _hourly(day_closes):
    """24 1h candles per day; intraday closes wander, the 23:00 candle closes at the day close."""
    closes = []
    for i, c in enumerate(day_closes):
        closes += [c * (1.5 if (h + i) % 2 else 0.5) for h in range(23)] + [c]
    return frame(closes, freq="1h")


def test_intraday_rows_use_the_previous_complete_day():
    hourly = _hourly(CLOSES)
    det = SmaTrendDetector(sma_days=3, band=0.05, confirm=2)
    table = det.daily_states(hourly)
    np.testing.assert_allclose(table["close"].to_numpy(), CLOSES)
    assert table["state"].tolist() == STATES[2]
    labels = det.detect(hourly).to_numpy(dtype=object)
    for day in range(len(CLOSES)):
        rows = labels[day * 24:(day + 1) * 24]
        prev = STATES[2][day - 1] if day else None
        assert list(rows[:23]) == [prev] * 23, day      # 00:00 .. 22:00 see day D-1
        assert rows[23] == STATES[2][day], day          # 23:00 closes at D+1 00:00: sees day D


def test_four_hour_candles_and_missing_days():
    closes = [100.0] * 6 + [50.0] * 6 + [120.0] * 6 + [80.0] * 6      # 4 days of 4h candles
    df = frame(closes, freq="4h")
    df = df[df["date"].dt.day != 2].reset_index(drop=True)           # day 2 missing entirely
    for timeframe in ("4h", None):                                   # None: inferred 4h despite the gap
        det = SmaTrendDetector(sma_days=2, band=0.0, confirm=1, timeframe=timeframe)
        table = det.daily_states(df)
        assert table["close"].tolist() == [100.0, 120.0, 80.0]
        assert table["sma"].tolist()[1:] == [110.0, 100.0]
        # day 3 rows see day 1 (no SMA yet) until its 20:00 candle; day 4 rows see day 3 (bull)
        assert det.detect(df).tolist() == [None] * 11 + ["bull"] * 6 + ["bear"]


def test_enum_values_and_real_data_sanity(shared_dir):
    df = pd.read_feather(shared_dir / "data" / "binance" / "BTC_USDT-1h.feather")
    labels = SmaTrendDetector().detect(df)
    assert len(labels) == len(df)
    assert set(labels.dropna()) == {r.value for r in Regime}
    first = labels.first_valid_index()
    # 200 complete days: the first label is on the 23:00 candle of the 200th day (2024-07-18)
    assert df["date"].iloc[first] == pd.Timestamp("2024-07-18 23:00", tz="UTC")
    daily = df.set_index("date")["close"].resample("1D").last().dropna()
    sma = daily.rolling(200).mean()
    day = pd.Timestamp("2025-01-15", tz="UTC")
    expected = "bull" if daily[day] > sma[day] * 1.02 else "bear" if daily[day] < sma[day] * 0.98 else "range"
    assert expected == SmaTrendDetector(confirm=1).daily_states(df).loc[day, "zone"]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"sma_days": 0}, "sma_days"), ({"sma_days": 2.5}, "sma_days"), ({"band": -0.01}, "band"),
    ({"band": 1.0}, "band"), ({"confirm": 0}, "confirm"), ({"timeframe": "1x"}, "timeframe"),
])
def test_bad_parameters(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        SmaTrendDetector(**kwargs)


def test_bad_input():
    det = SmaTrendDetector(sma_days=2)
    df = frame([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="strictly increasing"):
        det.detect(df.iloc[::-1])
    with pytest.raises(DataError, match="row 1"):
        det.detect(df.assign(close=[1.0, 0.0, 3.0]))
    with pytest.raises(DataError, match="'date'"):
        det.detect(df.drop(columns="date"))
    assert det.detect(df.iloc[:0]).tolist() == []
