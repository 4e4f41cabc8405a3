import numpy as np
import pandas as pd
import pytest

from atb.data.converter import clean_ohlcv_dataframe, fill_missing_candles, resample_ohlcv
from atb.data.history import load_data, load_pair_history
from atb.data.storage import FORMATS, FileCandleStore, detect_format, list_available
from atb.data.timerange import TimeRange
from atb.data.validate import validate_ohlcv
from atb.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def eth(shared_dir):
    return pd.read_feather(shared_dir / "data/bittrex/ETH_BTC-5m.feather").iloc[:500]


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize(("pair", "ctype", "name"), [
    ("ETH/BTC", "spot", "ETH_BTC-5m.{ext}"),
    ("ETH/USDT:USDT", "futures", "futures/ETH_USDT_USDT-5m-futures.{ext}"),
])
def test_round_trip_every_format(tmp_path, eth, fmt, pair, ctype, name):
    store = FileCandleStore(tmp_path, fmt)
    store.store(pair, "5m", eth, ctype)
    assert (tmp_path / name.format(ext=FORMATS[fmt])).is_file()
    back = store.load(pair, "5m", ctype)
    pd.testing.assert_frame_equal(back, eth.reset_index(drop=True), check_dtype=False)
    assert detect_format(tmp_path, pair, "5m", ctype) == fmt
    assert (pair, "5m", ctype) in [x[:3] for x in list_available(tmp_path)]


def test_append_merges_and_dedupes(tmp_path, eth):
    store = FileCandleStore(tmp_path)
    store.store("ETH/BTC", "5m", eth.iloc[:300])
    store.append("ETH/BTC", "5m", eth.iloc[250:])
    pd.testing.assert_frame_equal(store.load("ETH/BTC", "5m"), eth.reset_index(drop=True),
                                  check_dtype=False)


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    (tmp_path / "ETH_BTC-5m.feather").write_bytes(b"garbage")
    with pytest.raises(DataError, match="ETH_BTC-5m.feather"):
        FileCandleStore(tmp_path).load("ETH/BTC", "5m")
    with pytest.raises(DataError, match="LTC/BTC"):
        load_pair_history(tmp_path, "LTC/BTC", "5m")


def test_missing_candles_filled_like_freqtrade(shared_dir):
    raw = pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather")
    assert len(raw) == 18536
    df = load_pair_history(shared_dir / "data/binance", "BTC/USDT", "1h")
    assert len(df) == 18536 + 188
    assert (df["date"].diff().dropna() == pd.Timedelta("1h")).all()
    filled = df[~df["date"].isin(raw["date"])]
    assert len(filled) == 188
    prev_close = df["close"].shift(1)[filled.index]
    for col in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(filled[col].to_numpy(), prev_close.to_numpy())
    assert (filled["volume"] == 0).all()


def test_timerange_and_startup(shared_dir):
    tr = TimeRange.parse("20250101-20250201")
    df = load_pair_history(shared_dir / "data/binance", "ETH/USDT", "5m", timerange=tr,
                           startup_candles=10)
    assert df["date"].iloc[0] == pd.Timestamp("2025-01-01", tz="UTC") - pd.Timedelta("50min")
    assert df["date"].iloc[-1] == pd.Timestamp("2025-02-01", tz="UTC")  # end inclusive
    with pytest.raises(DataError, match="20100101"):
        load_data(shared_dir / "data/binance", ["ETH/USDT"], "5m",
                  timerange=TimeRange.parse("20100101-20100201"))


def test_duplicates_merged_freqtrade_way():
    d = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:05", "2024-01-01 00:05"], utc=True)
    df = pd.DataFrame({"date": d, "open": [1.0, 2.0, 3.0], "high": [1.5, 2.5, 4.0],
                       "low": [0.5, 1.5, 1.0], "close": [1.2, 2.2, 3.3], "volume": [1.0, 2.0, 3.0]})
    out = clean_ohlcv_dataframe(df, "5m", "X/Y")
    assert out.iloc[1].tolist()[1:] == [2.0, 4.0, 1.0, 3.3, 5.0]


def test_resample_matches_independent_computation(shared_dir):
    df = pd.read_feather(shared_dir / "data/bittrex/LTC_BTC-5m.feather").iloc[:1000]
    out = resample_ohlcv(df, "1h")
    for _, row in out.iloc[:30].iterrows():
        chunk = df[(df["date"] >= row["date"]) & (df["date"] < row["date"] + pd.Timedelta("1h"))]
        assert row["open"] == chunk["open"].iloc[0] and row["close"] == chunk["close"].iloc[-1]
        assert row["high"] == chunk["high"].max() and row["low"] == chunk["low"].min()
        assert row["volume"] == pytest.approx(chunk["volume"].sum())
    assert out["date"].iloc[0].minute == 0


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: d.loc.__setitem__((5, "close"), np.nan), "row 5"),
    (lambda d: d.loc.__setitem__((7, "high"), 0.0001), "row 7"),
    (lambda d: d.loc.__setitem__((9, "low"), 999.0), "row 9"),
    (lambda d: d.loc.__setitem__((11, "volume"), -1.0), "row 11"),
    (lambda d: d.loc.__setitem__((3, "open"), -5.0), "row 3"),
])
def test_validation_names_pair_timeframe_row(eth, mutate, needle):
    bad = eth.copy()
    mutate(bad)
    with pytest.raises(DataError, match=needle) as err:
        validate_ohlcv(bad, "ETH/BTC", "5m")
    assert "ETH/BTC 5m" in str(err.value)


def test_validation_reports_gaps(shared_dir):
    raw = pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather")
    rep = validate_ohlcv(raw, "BTC/USDT", "1h")
    assert (rep.gaps, rep.missing_candles, rep.duplicates) == (1, 188, 0)
    unsorted = raw.iloc[[1, 0, 2]]
    with pytest.raises(DataError, match="sorted"):
        validate_ohlcv(unsorted, "BTC/USDT", "1h")


def test_fill_keeps_contiguous_frame_unchanged(eth):
    pd.testing.assert_frame_equal(fill_missing_candles(eth, "5m"), eth.reset_index(drop=True))


@pytest.mark.parametrize("text", ["2024-01-01", "x-y", "20241301-", "20250102-20250101", ""])
def test_bad_timerange(text):
    with pytest.raises(ConfigError, match="timerange"):
        TimeRange.parse(text)


def test_timerange_forms():
    assert TimeRange.parse("20240101-").stopdt is None
    assert TimeRange.parse("-20240101").startdt is None
    assert TimeRange.parse("1704067200-1704153600").startdt == pd.Timestamp("2024-01-01", tz="UTC")
