"""SentimentFusion: news sentiment and CRITICAL events through the fusion engine.

The real headlines in ``shared/data/news`` are from 2023-12 and the Binance candles start in
2024-01, so the tests re-date the headlines into the candle range (a fixture for wiring and
causality, not a claim about how markets reacted) or add one clearly synthetic hack headline.
"""

from __future__ import annotations

import pandas as pd
import pytest

from atb.data.history import load_data
from atb.errors import ConfigError
from atb.strategy.dataprovider import DataProvider
from atb.strategy.loader import load_strategy

from ._run import backtest

SHIFT = pd.Timestamp("2024-06-12", tz="UTC") - pd.Timestamp("2023-12-12", tz="UTC")


def _redated_news(shared_dir, path, cut=None):
    df = pd.read_csv(shared_dir / "data" / "news" / "crypto_news_2023-12.csv")
    df["date"] = (pd.to_datetime(df["date"]).dt.tz_localize("UTC") + SHIFT).dt.strftime(
        "%Y-%m-%d %H:%M:%S")
    if cut is not None:
        df = df[pd.to_datetime(df["date"]).dt.tz_localize("UTC") <= cut]
    df.to_csv(path, index=False)
    return path


def _analyze(shared_dir, news, pair="BTC/USDT", cut=None):
    frames = load_data(shared_dir / "data" / "binance", ["BTC/USDT", "ETH/USDT"], "1h")
    frames = {p: df[(df["date"] >= "2024-04-01") & (df["date"] <= "2024-07-01")]
              .reset_index(drop=True) for p, df in frames.items()}
    if cut is not None:
        frames = {p: df[df["date"] + pd.Timedelta("1h") <= cut].reset_index(drop=True)
                  for p, df in frames.items()}
    strategy = load_strategy("SentimentFusion", {"stake_currency": "USDT",
                                                 "sentiment": {"news_file": str(news)}}, None)
    strategy.atb_set_dataprovider(DataProvider(lambda p, tf, ct: frames[p], [pair], "backtest",
                                               "1h"))
    return strategy.atb_analyze(frames[pair], {"pair": pair}).set_index("date")


def test_sentiment_and_events_enter_the_fusion(shared_dir, tmp_path):
    news = _redated_news(shared_dir, tmp_path / "news.csv")
    out = _analyze(shared_dir, news)
    window = out.loc["2024-06-12":"2024-06-20"]
    assert window["sentiment"].notna().mean() > 0.9  # news every few hours in that week
    assert out.loc[:"2024-06-11 22:00", "sentiment"].isna().all()  # nothing before the first item
    # CRITICAL hacks (re-dated 2024-06-13 23:11 etc.) veto entries and ask for emergency exits
    vetoed = out["event_veto"]
    assert vetoed.any()
    assert (out.loc[vetoed, "enter_long"].fillna(0) == 0).all()
    assert (out.loc[vetoed, "emergency_exit"] == 1).all()
    first = out.index[vetoed.to_numpy()][0]
    assert first == pd.Timestamp("2024-06-13 23:00", tz="UTC")  # closes 00:00, after 23:11


def test_no_lookahead_when_news_and_candles_after_t_are_removed(shared_dir, tmp_path):
    full = _analyze(shared_dir, _redated_news(shared_dir, tmp_path / "all.csv"))
    cols = ["sentiment", "event_veto", "fusion_score", "fusion_direction", "emergency_exit"]
    cuts = pd.date_range("2024-06-12 03:00", "2024-06-19 12:00", freq="7h", tz="UTC")
    for i, cut in enumerate(cuts):
        news = _redated_news(shared_dir, tmp_path / f"cut{i}.csv", cut)
        part = _analyze(shared_dir, news, cut=cut)
        assert part.index[-1] + pd.Timedelta("1h") <= cut
        pd.testing.assert_frame_equal(part[cols], full.loc[part.index, cols])


def test_emergency_exit_closes_an_open_trade(shared_dir, tmp_path):
    pairs = ["BTC/USDT"]
    base, _ = backtest(shared_dir, "SentimentFusion", pairs, "20240501-20240801")
    long_trades = base.trades[base.trades["trade_duration"] >= 240]
    assert len(long_trades)
    t = long_trades.iloc[0]
    hack_at = t["open_date"] + pd.Timedelta("2h10min")  # while the trade is open
    news = tmp_path / "hack.csv"
    pd.DataFrame([{"date": hack_at.strftime("%Y-%m-%d %H:%M:%S"), "source": "synthetic-test",
                   "subject": "bitcoin", "url": "http://127.0.0.1/hack",
                   "title": "Exchange hacked: $300 million in Bitcoin stolen",
                   "text": "Attackers drained hot wallets of the exchange."}]).to_csv(news, index=False)
    res, _ = backtest(shared_dir, "SentimentFusion", pairs, "20240501-20240801",
                      extra={"sentiment": {"news_file": str(news)}})
    hit = res.trades[res.trades["open_date"] == t["open_date"]].iloc[0]
    assert hit["exit_reason"] == "emergency_exit"
    # the event is known at 2h10 after the entry candle opens: the candle open at +2h sees it at
    # its close (+3h), so the trade exits at the next candle's open, +3h
    assert hit["close_date"] == t["open_date"] + pd.Timedelta("3h")
    report = res.strategy_report["fusion contributions"].iloc[0]
    assert report["emergency_rows"] == 24 and report["veto_event"] >= 0


def test_unknown_sentiment_key_is_rejected(shared_dir):
    with pytest.raises(ConfigError, match="sentiment.news_fil"):
        backtest(shared_dir, "SentimentFusion", ["BTC/USDT"], "20240501-20240601",
                 extra={"sentiment": {"news_fil": "x.csv"}})
