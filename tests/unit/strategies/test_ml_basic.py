"""MLBasic: walk-forward training inside the backtest, out-of-sample report, no lookahead."""

from __future__ import annotations

import pandas as pd
import pytest

from atb.data.history import load_data
from atb.errors import ConfigError
from atb.strategy.dataprovider import DataProvider
from atb.strategy.loader import load_strategy

from ._run import backtest

SMALL = {"walk_forward": {"train_candles": 24 * 45, "retrain_every": 24 * 10},
         "model": {"params": {"n_estimators": 30}}}


def test_walk_forward_backtest_reports_out_of_sample_metrics(shared_dir):
    res, strategy = backtest(shared_dir, "MLBasic", ["BTC/USDT", "ETH/USDT"], "20250301-20250501",
                             extra={"ml": SMALL})
    assert strategy.startup_candle_count == 24 * 45 + 100
    ml = res.strategy_report["ml out-of-sample"].set_index("pair")
    assert list(ml.index) == ["BTC/USDT", "ETH/USDT"]
    # predictions start after the first training window: every candle from there is scored
    assert (ml["n"] > 1400).all() and (ml["windows"] >= 6).all()
    assert ((ml["auc"] > 0.3) & (ml["auc"] < 0.7)).all()  # honest: no edge is assumed
    assert ((ml["brier"] > 0.15) & (ml["brier"] < 0.35)).all()
    assert len(res.trades) > 0
    assert set(res.trades["enter_tag"]) == {"ml_long"}


def _analyze(shared_dir, cut=None):
    frames = load_data(shared_dir / "data" / "binance", ["ETH/USDT", "BTC/USDT"], "1h")
    frames = {p: df[df["date"] >= "2025-01-01"].iloc[:3000].reset_index(drop=True)
              for p, df in frames.items()}
    if cut is not None:
        frames = {p: df[df["date"] <= cut].reset_index(drop=True) for p, df in frames.items()}
    strategy = load_strategy("MLBasic", {"stake_currency": "USDT", "ml": SMALL}, None)
    strategy.atb_set_dataprovider(DataProvider(lambda p, tf, ct: frames[p], ["ETH/USDT"],
                                               "backtest", "1h"))
    out = strategy.atb_analyze(frames["ETH/USDT"], {"pair": "ETH/USDT"})
    return out.set_index("date")


def test_predictions_do_not_change_when_later_data_is_removed(shared_dir):
    full = _analyze(shared_dir)
    cols = ["proba_up", "fusion_score", "enter_long", "exit_long"]
    assert full["proba_up"].notna().sum() > 1500
    for cut in full.index[1200::350]:
        part = _analyze(shared_dir, cut)
        assert part.index[-1] == cut
        pd.testing.assert_frame_equal(part[cols], full.loc[part.index, cols])


def test_bad_ml_section_names_the_field(shared_dir):
    with pytest.raises(ConfigError, match=r"ml\.walk_forward\.train_candles"):
        load_strategy("MLBasic", {"ml": {"walk_forward": {"train_candles": -1}}}, None)
    with pytest.raises(ConfigError, match=r"ml\.model"):
        load_strategy("MLBasic", {"ml": {"model": {"kind": "gpt"}}}, None)
