"""StrategyRunner: real strategies analysed candle by candle give the backtest's trades.

The runner sees each candle only after it closed and analyses the history up to it; the trades it
decides must be the backtest's (same strategy file, config, candles and market rules), closed
trades equal value for value. Also: a denied entry is undone for the wallet and the open-trade
count, a reduced one keeps the approved amount, informative candles never reach past the clock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.backtest.markets import load_markets
from atb.backtest.ticks import tick_decimals_for
from atb.config.freqtrade import load_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.errors import DataError
from atb.live.runner import StrategyRunner
from atb.strategy.loader import load_strategy

_REPO = Path(__file__).resolve().parents[3]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "rsi_bb_meanrev__binance_1h"
PAIRS = ("BTC/USDT", "ETH/USDT", "DOGE/USDT")


def _setup(strategy_name: str, timerange: str):
    case = json.loads((CASE / "case.json").read_text())
    config = load_freqtrade_config(CASE / "config.json")
    config["exchange"]["pair_whitelist"] = list(PAIRS)
    spath = _SHARED / "parity" / Path(case["strategy_file"]).parent
    markets = load_markets(CASE / "markets.json")
    tr = TimeRange.parse(timerange)
    datadir = _SHARED / "data" / "binance"
    return config, spath, markets, tr, datadir


def _replay(strategy_name: str, timerange: str, gate=None):
    config, spath, markets, tr, datadir = _setup(strategy_name, timerange)
    strategy = load_strategy(strategy_name, config, spath)
    startup = strategy.startup_candle_count
    data = load_data(datadir, list(PAIRS), "1h", timerange=tr, startup_candles=startup)
    ticks = {p: dict(zip(df["date"].map(lambda d: d.value), tick_decimals_for(
        df, markets[p].price_step), strict=True)) for p, df in data.items()}
    runner = StrategyRunner(strategy, config, {p: df.iloc[: startup + 1] for p, df in data.items()},
                            markets=markets, tick_decimals=lambda p, t: ticks[p][t], gate=gate)
    n = min(len(df) for df in data.values())
    results = []
    for i in range(startup + 1, n):
        at = int(data[PAIRS[0]]["date"].iloc[i].value)
        candles = {p: tuple(df.iloc[i][["open", "high", "low", "close", "volume"]]) for p, df in data.items()}
        results.append(runner.on_candles(at, candles))
    return runner, results, (config, spath, markets, tr, datadir)


def _backtest(strategy_name: str, setup) -> pd.DataFrame:
    config, spath, markets, tr, datadir = setup
    strategy = load_strategy(strategy_name, config, spath)
    res = run_backtest(config, strategy, BacktestInputs(datadir=datadir, pairs=PAIRS, timeframe="1h",
                                                        timerange=tr, markets=markets,
                                                        keep_candles=False),
                       load_data=load_data)
    return res.trades


@pytest.mark.parametrize("strategy_name", ["RsiBbMeanReversion", "SampleStrategy"])
def test_runner_replay_equals_backtest(strategy_name: str) -> None:
    runner, results, setup = _replay(strategy_name, "20250101-20250125")
    full = _backtest(strategy_name, setup)
    closed = runner.stepper.closed_trades()
    expected = full[full["exit_reason"] != "force_exit"].reset_index(drop=True)
    assert len(expected) >= 5
    pd.testing.assert_frame_equal(closed, expected)
    n_entries = sum(len(r.entries) for r in results)
    assert n_entries == len(closed) + len(runner.stepper.open_trade_pairs())


def test_denied_entries_are_undone_and_reduced_ones_keep_the_approved_amount() -> None:
    denied: list[str] = []

    def gate(entry):
        if entry.pair == "BTC/USDT":
            denied.append(entry.pair)
            return 0.0
        return entry.amount / 2

    runner, results, _ = _replay("RsiBbMeanReversion", "20250101-20250125", gate=gate)
    closed = runner.stepper.closed_trades()
    assert denied, "the strategy never tried BTC in this period"
    assert "BTC/USDT" not in set(closed["pair"]) | set(runner.stepper.open_trade_pairs())
    assert all(e.pair != "BTC/USDT" for r in results for e in r.entries)
    by_open = {(e.pair, e.at_ns): e for r in results for e in r.entries}
    # (a trade opened and closed within one candle keeps the loop's amount: the reduction can
    # only be written into a trade that is still open after the step)
    later = closed[closed["close_date"] > closed["open_date"]]
    assert len(later) >= 3
    for row in later.itertuples():
        e = by_open[(row.pair, row.open_date.value)]
        assert row.amount == pytest.approx(e.amount, rel=1e-12)
        assert row.stake_amount == pytest.approx(50.0, rel=1e-3)  # half of the 100 USDT stake


def test_strategy_sees_no_candle_after_the_clock() -> None:
    runner, results, _ = _replay("RsiBbMeanReversion", "20250101-20250110")
    for frame in runner.analyzed.values():
        assert int(frame["date"].iloc[-1].value) == runner.last_ns
    four_h = runner._loader("BTC/USDT", "4h", "")
    # only complete 4h periods: the last one ends at or before the last closed 1h candle's close
    last_close = runner.last_ns + runner.tf_ns
    assert int(four_h["date"].iloc[-1].value) + 4 * 3_600_000_000_000 <= last_close
    with pytest.raises(DataError, match="not the next"):
        runner.on_candles(runner.last_ns + 2 * runner.tf_ns, {})
    assert np.isfinite(runner.wallet()["closed_profit"])
