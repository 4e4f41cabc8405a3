from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError, DataError
from atb.sentiment import NewsItem, ScoredItem, VaderScorer, score_items, sentiment_series

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _scored(minutes, score, assets=(), title=None):
    at = T0 + timedelta(minutes=minutes)
    item = NewsItem.create(source="s", title=title or f"item {minutes}", text="", url="",
                           published_at=at - timedelta(minutes=5), available_at=at, assets=assets)
    return ScoredItem(item=item, score=score, label="neutral")


def _dates(n, start=T0, freq="1h"):
    return pd.Series(pd.date_range(start, periods=n, freq=freq, tz="UTC"))


HAND = [_scored(30, 0.6, ("BTC",)), _scored(60, -0.2), _scored(90, 1.0, ("ETH",)),
        _scored(179, 0.4, ("BTC",)), _scored(241, -1.0, ("BTC",))]


def test_hand_computed_case():
    df = sentiment_series(HAND, _dates(4), "1h", asset="BTC", half_life=timedelta(hours=1),
                          window=timedelta(hours=2))
    # closes 01:00, 02:00, 03:00, 04:00; windows (close - 2h, close]
    assert df["sentiment_count"].tolist() == [2, 2, 1, 1]
    np.testing.assert_allclose(df["sentiment_mean"], [0.2, 0.2, 0.4, 0.4], rtol=0, atol=1e-15)
    w_a, w_b = 0.5 ** 0.5, 1.0  # row 0: A is 30 min old, B 0 min
    row0 = (w_a * 0.6 + w_b * -0.2) / (w_a + w_b)
    w_a, w_b = 0.5 ** 1.5, 0.5  # row 1: 90 and 60 min old
    row1 = (w_a * 0.6 + w_b * -0.2) / (w_a + w_b)
    np.testing.assert_allclose(df["sentiment_decayed"], [row0, row1, 0.4, 0.4], rtol=0, atol=1e-15)
    assert df["sentiment_last_at"].tolist() == [pd.Timestamp(T0 + timedelta(minutes=m))
                                                for m in (60, 60, 179, 179)]
    assert str(df["sentiment_last_at"].dtype) == "datetime64[ns, UTC]"
    # the item available at 04:01 is seen by no row; B (at 01:00) leaves the window of the 03:00 close
    everything = sentiment_series(HAND, _dates(4), "1h", asset=None, window=timedelta(hours=2))
    assert everything["sentiment_count"].tolist() == [2, 3, 2, 1]
    no_market = sentiment_series(HAND, _dates(4), "1h", asset="BTC", include_market_wide=False,
                                 window=timedelta(hours=2))
    assert no_market["sentiment_count"].tolist() == [1, 1, 1, 1]
    assert no_market["sentiment_mean"].tolist() == [0.6, 0.6, 0.4, 0.4]


def test_empty_rows_are_zero_and_nat():
    df = sentiment_series(HAND, _dates(3, start=T0 + timedelta(days=2)), "1h", asset="SOL",
                          include_market_wide=False)
    assert df["sentiment_count"].tolist() == [0, 0, 0] and df["sentiment_mean"].tolist() == [0.0] * 3
    assert df["sentiment_decayed"].tolist() == [0.0] * 3 and df["sentiment_last_at"].isna().all()
    idx = pd.Index([10, 11, 12])
    df = sentiment_series(HAND, pd.Series(_dates(3).to_numpy(), index=idx), "1h", asset="BTC")
    assert df.index.equals(idx)


def test_input_validation():
    naive = pd.Series(pd.date_range("2024-01-01", periods=2, freq="1h"))
    with pytest.raises(DataError, match="candle_dates"):
        sentiment_series(HAND, naive, "1h", asset="BTC")
    with pytest.raises(ConfigError, match="half_life"):
        sentiment_series(HAND, _dates(2), "1h", asset="BTC", half_life=timedelta(0))
    with pytest.raises(ConfigError, match="timeframe"):
        sentiment_series(HAND, _dates(2), "1x", asset="BTC")


@pytest.fixture(scope="module")
def vader_scored(news_items):
    return score_items(news_items, VaderScorer())


def test_no_lookahead_on_real_news(vader_scored):
    # BTC/USDT 1h candle open times for 2023-12-11 .. 2023-12-20 (the shared candles start in 2024; the
    # aggregation only reads the open-time grid, which is the exchange's fixed hourly grid)
    dates = _dates(240, start=datetime(2023, 12, 11, tzinfo=UTC))
    full = sentiment_series(vader_scored, dates, "1h", asset="BTC")
    assert full["sentiment_count"].max() > 10 and (full["sentiment_count"] == 0).sum() > 20
    rng = np.random.default_rng(42)
    start, end = datetime(2023, 12, 12, tzinfo=UTC), datetime(2023, 12, 19, 12, tzinfo=UTC)
    span_min = int((end - start).total_seconds() // 60)
    cuts = [start + timedelta(minutes=int(m)) for m in rng.integers(0, span_min, 22)]
    cuts += [s.item.available_at for s in vader_scored[100:103]]  # cuts exactly on an item's availability
    for cut in cuts:
        items = [s for s in vader_scored if s.item.available_at <= cut]
        closes = dates + pd.Timedelta(hours=1)
        kept = dates[closes <= pd.Timestamp(cut)]
        part = sentiment_series(items, kept, "1h", asset="BTC")
        pd.testing.assert_frame_equal(part, full.loc[kept.index], check_exact=True)
    # and the items of a row really are those available by its close
    row = full.index[(dates == pd.Timestamp("2023-12-14 12:00", tz="UTC"))][0]
    close = datetime(2023, 12, 14, 13, tzinfo=UTC)
    expect = [s.score for s in vader_scored if close - timedelta(hours=24) < s.item.available_at <= close
              and ("BTC" in s.item.assets or not s.item.assets)]
    assert full.loc[row, "sentiment_count"] == len(expect)
    assert full.loc[row, "sentiment_mean"] == pytest.approx(np.mean(expect), abs=1e-12)
