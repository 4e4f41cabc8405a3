"""build_features: informative timeframes, correlated pairs, shifts, time features, specs."""

import numpy as np
import pandas as pd
import pytest
import talib

from atb.errors import ConfigError, DataError, MissingDataError
from atb.features import FeatureConfig, build_features, drop_warmup, feature_names, resample_candles

N = 2500


@pytest.fixture(scope="module")
def btc(btc_1h):
    # rows 4500..7000 span the 2024-09-06 .. 2024-09-14 gap in the real data
    return btc_1h.iloc[4500:4500 + N].reset_index(drop=True)


def _frame(n=30, start="2024-01-01", step="1h"):
    dates = pd.date_range(start, periods=n, freq=step, tz="UTC")
    close = 100 + np.sin(np.arange(n) / 3.0) * 5 + np.arange(n) * 0.1
    return pd.DataFrame({"date": dates, "open": close, "high": close + 1, "low": close - 1,
                         "close": close, "volume": 10.0 + np.arange(n) % 7})


def test_resample_matches_pandas(btc):
    expected = (btc.set_index("date")
                .resample("4h", label="left", closed="left", origin="epoch")
                .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
                .dropna(subset=["open"]).reset_index())
    got = resample_candles(btc, "4h")
    np.testing.assert_array_equal(got["date"].to_numpy(), expected["date"].dt.as_unit("ns").to_numpy())
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(got[col].to_numpy(), expected[col].to_numpy())
    np.testing.assert_allclose(got["volume"].to_numpy(), expected["volume"].to_numpy(), rtol=1e-12)


def test_resample_weekly_starts_monday():
    frame = _frame(n=24 * 10, start="2024-01-03")  # a Wednesday
    weeks = resample_candles(frame, "1w")
    assert list(weeks["date"].dt.day_of_week) == [0, 0]
    assert weeks["date"].iloc[0] == pd.Timestamp("2024-01-01", tz="UTC")


def test_informative_4h_matches_hand_built_resample(btc):
    cfg = FeatureConfig(indicators=["rsi"], periods=[14], informative_timeframes=["4h"],
                        shifted_candles=0, include_time=False, include_returns=False)
    values = build_features(btc, cfg, timeframe="1h").values
    # hand-built: pandas resample, TA-Lib on the 4h closes, each 4h candle usable from its close
    h4 = (btc.set_index("date").resample("4h", label="left", closed="left", origin="epoch")
          .agg({"close": "last"}).dropna().reset_index())
    h4["rsi"] = talib.RSI(h4["close"].to_numpy(), 14)
    h4["end"] = h4["date"] + pd.Timedelta("4h")
    rows = pd.DataFrame({"close_time": btc["date"] + pd.Timedelta("1h")})
    merged = pd.merge_asof(rows, h4[["end", "rsi"]], left_on="close_time", right_on="end")
    stale = (merged["close_time"] - merged["end"]) >= pd.Timedelta("4h")  # newest complete 4h candle missing
    expected = merged["rsi"].where(~stale).to_numpy()
    np.testing.assert_array_equal(values["%rsi-period_14_4h"].to_numpy(), expected)
    assert stale.sum() > 0 and np.isfinite(expected).sum() > 500
    # spot checks: the 03:00 candle closes at 04:00 and sees the 00:00-04:00 candle; 02:00 does not
    idx = {d: i for i, d in enumerate(btc["date"])}
    day = pd.Timestamp("2024-08-01", tz="UTC")
    rsi4 = h4.set_index("date")["rsi"]
    assert values["%rsi-period_14_4h"][idx[day + pd.Timedelta("3h")]] == rsi4[day]
    assert values["%rsi-period_14_4h"][idx[day + pd.Timedelta("2h")]] == rsi4[day - pd.Timedelta("4h")]


def test_correlated_pair_alignment_with_missing_row(btc, eth_1h):
    eth = eth_1h[eth_1h["date"].between(btc["date"].iloc[0] - pd.Timedelta("10D"), btc["date"].iloc[-1])]
    missing_date = btc["date"].iloc[1000]
    eth = eth[eth["date"] != missing_date].reset_index(drop=True)
    cfg = FeatureConfig(indicators=["rsi"], periods=[14], correlated_pairs=["ETH/USDT"],
                        shifted_candles=1, include_time=False, include_returns=False)
    values = build_features(btc, cfg, timeframe="1h", informative={"ETH/USDT": eth}).values
    ref = pd.Series(talib.RSI(eth["close"].to_numpy(), 14), index=eth["date"])
    expected = ref.reindex(btc["date"]).to_numpy()
    col = values["%rsi-period_14_ETH/USDT"].to_numpy()
    np.testing.assert_array_equal(col, expected)
    assert np.isnan(col[1000]) and np.isfinite(col[999]) and np.isfinite(col[1001])
    assert col[1001] == ref[btc["date"].iloc[1001]]  # the next row is ETH's own next value, not a fill
    shifted = values["%rsi-period_14_shift-1_ETH/USDT"].to_numpy()
    assert np.isnan(shifted[1001]) and shifted[1002] == col[1001]


def test_shifted_features_and_names(btc):
    cfg = FeatureConfig(indicators=["rsi", "roc"], periods=[14], informative_timeframes=["4h"],
                        shifted_candles=2, include_time=False, include_returns=True)
    ff = build_features(btc, cfg, timeframe="1h")
    v = ff.values
    pairs = [("%rsi-period_14", "%rsi-period_14_shift-{k}"),
             ("%roc-period_14_4h", "%roc-period_14_shift-{k}_4h"),
             ("%return-period_1", "%return-period_1_shift-{k}")]
    for base, pattern in pairs:
        for k in (1, 2):
            name = pattern.format(k=k)
            np.testing.assert_array_equal(v[name].to_numpy()[k:], v[base].to_numpy()[:-k])
            assert np.isnan(v[name].to_numpy()[:k]).all()
    assert feature_names(ff)[:3] == ["%rsi-period_14", "%roc-period_14", "%return-period_1"]
    assert len(set(feature_names(ff))) == len(ff.specs) == 3 * 2 * 3
    spec = {s.name: s for s in ff.specs}
    assert spec["%roc-period_14_shift-2_4h"].timeframe == "4h"
    assert spec["%roc-period_14_shift-2_4h"].shift == 2
    assert spec["%roc-period_14_shift-2_4h"].available_after == pd.Timedelta("-1h")
    assert spec["%rsi-period_14"].available_after == pd.Timedelta("1h")
    assert (v.dtypes == np.float64).all()
    assert v.index.equals(btc.index)
    np.testing.assert_array_equal(ff.available_at().to_numpy(), (btc["date"] + pd.Timedelta("1h")).to_numpy())


def test_time_features_use_candle_close():
    frame = _frame(n=3, start="2024-01-01")  # Monday 00:00 UTC
    cfg = FeatureConfig(indicators=["rsi"], periods=[2], shifted_candles=0, include_returns=False)
    v = build_features(frame, cfg, timeframe="1h").values
    hour = np.array([1.0, 2.0, 3.0]) / 24  # close times 01:00, 02:00, 03:00
    np.testing.assert_allclose(v["%hour_sin"], np.sin(2 * np.pi * hour), atol=1e-15)
    np.testing.assert_allclose(v["%hour_cos"], np.cos(2 * np.pi * hour), atol=1e-15)
    np.testing.assert_allclose(v["%dow_sin"], np.sin(2 * np.pi * (0 + hour) / 7), atol=1e-15)
    np.testing.assert_allclose(v["%dow_cos"], np.cos(2 * np.pi * (0 + hour) / 7), atol=1e-15)


def test_drop_warmup():
    frame = _frame(n=40)
    cfg = FeatureConfig(indicators=["rsi"], periods=[14], shifted_candles=2, include_time=True)
    ff = build_features(frame, cfg, timeframe="1h")
    values, first = drop_warmup(ff)
    assert first == 16  # RSI(14) first at row 14, shifted twice
    assert values.index[0] == 16 and values.notna().all().all()
    assert ff.values.iloc[:16].isna().any(axis=1).all()
    empty, first_none = drop_warmup(build_features(frame.iloc[:10], cfg, timeframe="1h"))
    assert first_none == 10 and empty.empty


def test_bad_inputs_name_the_problem():
    cfg = FeatureConfig(indicators=["rsi"], periods=[3])
    frame = _frame()
    with pytest.raises(DataError, match="candles: missing column 'volume'"):
        build_features(frame.drop(columns="volume"), cfg, timeframe="1h")
    naive = frame.assign(date=frame["date"].dt.tz_localize(None))
    with pytest.raises(DataError, match="candles: column 'date' must be tz-aware UTC"):
        build_features(naive, cfg, timeframe="1h")
    swapped = frame.copy()
    swapped.loc[5, "date"] = swapped.loc[3, "date"]
    with pytest.raises(DataError, match="not strictly increasing at row 5"):
        build_features(swapped, cfg, timeframe="1h")
    with pytest.raises(MissingDataError, match="'ETH/USDT'"):
        build_features(frame, FeatureConfig(correlated_pairs=["ETH/USDT"]), timeframe="1h")
    with pytest.raises(ConfigError, match=r"features\.informative_timeframes"):
        build_features(frame, FeatureConfig(informative_timeframes=["3h"]), timeframe="2h")
