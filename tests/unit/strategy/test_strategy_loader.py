"""load_strategy: the parity strategy files unmodified, built-ins, errors, params files, hashes."""

import hashlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
import talib

from atb.errors import StrategyError
from atb.strategy.loader import load_strategy, strategy_source_hash


@pytest.fixture(scope="module")
def btc(shared_dir):
    return pd.read_feather(shared_dir / "data/binance/BTC_USDT-1h.feather").iloc[:3000]


@pytest.fixture(scope="module")
def parity_dir(shared_dir):
    return shared_dir / "parity" / "strategies"


def test_sample_strategy_signals_and_indicators(parity_dir, btc):
    assert "freqtrade" not in sys.modules
    s = load_strategy("SampleStrategy", {"timeframe": "1h"}, parity_dir)
    assert "freqtrade" not in sys.modules  # the compatibility modules are gone again
    assert (s.timeframe, s.stoploss, s.minimal_roi) == ("1h", -0.1, {0: 0.04, 30: 0.02, 60: 0.01})
    assert (s.buy_rsi.value, s.sell_rsi.value, s.exit_short_rsi.space) == (30, 70, "exit")
    df = s.atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    for col in ("enter_long", "exit_long", "enter_short", "exit_short", "enter_tag", "exit_tag"):
        assert col in df.columns
    assert df["enter_long"].sum() > 0 and df["enter_short"].sum() > 0
    close = btc["close"].to_numpy()
    rsi = talib.RSI(close, 14)
    for i in (13, 14, 500, 2999):
        assert (np.isnan(df["rsi"][i]) and np.isnan(rsi[i])) or df["rsi"][i] == rsi[i]
    tp = ((btc["high"] + btc["low"] + btc["close"]) / 3).to_numpy()
    for i in (1, 19, 1000):
        w = tp[max(0, i - 19): i + 1]
        assert df["bb_lowerband"][i] == pytest.approx(w.mean() - 2 * np.std(w, ddof=1), rel=1e-12)
    # the entry rule of SampleStrategy, recomputed from talib values
    tema = talib.TEMA(close, 9)
    mid = df["bb_middleband"].to_numpy()
    crossed = (rsi[1:] > 30) & (rsi[:-1] <= 30)
    expect = crossed & (tema[1:] <= mid[1:]) & (tema[1:] > tema[:-1]) & (btc["volume"].to_numpy()[1:] > 0)
    assert np.array_equal(df["enter_long"].to_numpy()[1:] == 1, expect)


def test_other_parity_strategies(parity_dir, btc):
    e = load_strategy("EmaCrossTrailing", {}, parity_dir)
    assert (e.trailing_stop, e.trailing_stop_positive, e.trailing_stop_positive_offset) == (True, 0.01, 0.02)
    out = e.atb_analyze(btc.copy(), {"pair": "BTC/USDT"})
    assert set(out.loc[out["enter_long"] == 1, "enter_tag"]) == {"ema_cross_up"}
    fast, slow = talib.EMA(btc["close"].to_numpy(), 12), talib.EMA(btc["close"].to_numpy(), 26)
    up = (fast[1:] > slow[1:]) & (fast[:-1] <= slow[:-1])
    assert int(out["enter_long"].fillna(0).sum()) == int(up.sum())
    r = load_strategy("RsiBbMeanReversion", {"stoploss": -0.2}, parity_dir)
    assert r.stoploss == -0.2
    assert r.atb_analyze(btc.copy(), {"pair": "BTC/USDT"})["enter_long"].sum() > 0


def test_unknown_name_lists_where_it_looked(tmp_path):
    with pytest.raises(StrategyError, match=r"'NoSuch' not found .*" + tmp_path.name + ".*built-in"):
        load_strategy("NoSuch", {}, tmp_path)
    with pytest.raises(StrategyError, match="does not exist"):
        load_strategy("X", {}, tmp_path / "missing")


def test_syntax_and_import_errors_are_one_line(tmp_path):
    (tmp_path / "bad.py").write_text("class Bad(IStrategy:\n  pass\n")
    with pytest.raises(StrategyError, match=r"bad.py line 1: SyntaxError") as e:
        load_strategy("Bad", {}, tmp_path)
    assert "\n" not in str(e.value)
    (tmp_path / "boom.py").write_text("from freqtrade.strategy import IStrategy\n"
                                      "raise RuntimeError('kaboom\\nsecond line')\n"
                                      "class Boom(IStrategy): pass\n")
    with pytest.raises(StrategyError, match=r"boom.py line 2: RuntimeError: kaboom second line"):
        load_strategy("Boom", {}, tmp_path)
    (tmp_path / "missing.py").write_text("import freqtrade.nope\nclass Missing: pass\n")
    with pytest.raises(StrategyError, match=r"missing.py line 1: ModuleNotFoundError"):
        load_strategy("Missing", {}, tmp_path)
    (tmp_path / "plain.py").write_text("class Plain:\n    pass\n")
    with pytest.raises(StrategyError, match="does not subclass IStrategy"):
        load_strategy("Plain", {}, tmp_path)


STRAT = '''
from freqtrade.strategy import IStrategy, IntParameter
from helper_mod import FACTOR


class FileStrat(IStrategy):
    timeframe = "1h"
    stoploss = -0.1
    minimal_roi = {"0": 0.1}
    buy_x = IntParameter(1, 50, default=5)

    def populate_indicators(self, dataframe, metadata):
        dataframe["f"] = FACTOR
        return dataframe
'''


def test_params_file_sibling_imports_and_hash(tmp_path):
    (tmp_path / "helper_mod.py").write_text("FACTOR = 3\n")
    path = tmp_path / "file_strat.py"
    path.write_text(STRAT)
    params = {"buy": {"buy_x": 42}, "roi": {"0": 0.3, "20": 0.1}, "stoploss": {"stoploss": -0.05},
              "trailing": {"trailing_stop": True, "trailing_stop_positive": 0.01}}
    (tmp_path / "file_strat.json").write_text(json.dumps({"strategy_name": "FileStrat", "params": params}))
    s = load_strategy("FileStrat", {}, tmp_path)
    assert (s.buy_x.value, s.minimal_roi, s.stoploss) == (42, {0: 0.3, 20: 0.1}, -0.05)
    assert (s.trailing_stop, s.trailing_stop_positive) == (True, 0.01)
    assert load_strategy("FileStrat", {"stoploss": -0.3}, tmp_path).stoploss == -0.3  # config wins
    assert strategy_source_hash(s) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(tmp_path) not in sys.path


def test_builtin_strategy_and_init_failure(tmp_path):
    s = load_strategy("AtbEmaRsiTrend", {})
    assert type(s).__module__ == "atb.strategies.ema_rsi_trend" and len(strategy_source_hash(s)) == 64
    (tmp_path / "fails.py").write_text(
        "from freqtrade.strategy import IStrategy\n"
        "class Fails(IStrategy):\n"
        "    timeframe = '1h'\n    stoploss = -0.1\n"
        "    def __init__(self, config):\n        super().__init__(config)\n        1 / 0\n"
        "    def populate_indicators(self, df, md):\n        return df\n")
    with pytest.raises(StrategyError, match="Fails .* failed to start: ZeroDivisionError"):
        load_strategy("Fails", {}, tmp_path)
