"""RegimeAdaptive: regime-switched setups through the fusion engine, causal end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb.data.history import load_data
from atb.strategy.dataprovider import DataProvider
from atb.strategy.loader import load_strategy

from ._run import backtest


def test_backtest_reports_regime_and_fusion_sections(shared_dir):
    res, _ = backtest(shared_dir, "RegimeAdaptive", ["BTC/USDT", "ETH/USDT"], "20240101-20250101",
                      workers=2)
    assert len(res.trades) > 10
    regime = res.strategy_report["regime"].set_index("pair")
    fusion = res.strategy_report["fusion contributions"].set_index("pair")
    assert set(regime.index) == {"BTC/USDT", "ETH/USDT"}
    shares = regime[["time_bull", "time_range", "time_bear"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    # every fused entry is a bull or range setup: technical .7 (+ regime .3 in bull)
    assert (fusion["entries"] == regime["entries_bull"] + regime["entries_range"]).all()
    assert (fusion["share_model"] == 0).all() and (fusion["share_sentiment"] == 0).all()


def _analyze(shared_dir, cut=None):
    datadir = shared_dir / "data" / "binance"
    frames = load_data(datadir, ["ETH/USDT", "BTC/USDT"], "1h")
    if cut is not None:
        frames = {p: df[df["date"] <= cut].reset_index(drop=True) for p, df in frames.items()}
    strategy = load_strategy("RegimeAdaptive", {"stake_currency": "USDT"}, None)
    strategy.atb_set_dataprovider(DataProvider(lambda p, tf, ct: frames[p], ["ETH/USDT"],
                                               "backtest", "1h"))
    out = strategy.atb_analyze(frames["ETH/USDT"].iloc[-6000:].reset_index(drop=True),
                               {"pair": "ETH/USDT"})
    return out.set_index("date")


def test_signals_do_not_change_when_later_data_is_removed(shared_dir):
    full = _analyze(shared_dir)
    cols = ["regime", "fusion_score", "fusion_direction", "enter_long", "exit_long"]
    dates = full.index
    for cut in dates[1500::700]:
        part = _analyze(shared_dir, cut)
        common = part.index[part.index.isin(dates)]
        # the analysis window starts 6000 rows before the end of each input: compare the overlap
        left = full.loc[common, cols]
        right = part.loc[common, cols]
        pd.testing.assert_frame_equal(left.iloc[-300:], right.iloc[-300:], check_dtype=False)
