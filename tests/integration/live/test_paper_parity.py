"""Backtest/paper parity: replaying real candles through the paper engine gives the backtest's trades.

The whole order path runs: strategy analysed per closed candle -> the shared loop -> risk engine
(config with every rule off, as a backtest without a risk section) -> order manager (write-ahead
order store) -> PaperExchange in ``bar`` mode -> fills -> trades in the store. The trades in the
store must be the backtest's (same strategy file, config, candles, market rules), and the paper
venue's balances must equal the wallet plus the trades' profit.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
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
from atb.execution.feeds import ReplayFeed
from atb.execution.order_manager import OrderManager
from atb.execution.paper import PaperConfig, PaperExchange, paper_markets
from atb.live.bot import BotPortfolio, TradingBot
from atb.live.engine import TradingEngine
from atb.live.runner import StrategyRunner
from atb.orders.memory import InMemoryOrderStore
from atb.risk.config import load_risk_config
from atb.risk.engine import RiskEngine
from atb.strategy.loader import load_strategy

_REPO = Path(__file__).resolve().parents[3]
_SHARED = Path(os.environ.get("ATB_SHARED_DIR", _REPO.parent / "shared"))
CASE = _SHARED / "parity" / "cases" / "rsi_bb_meanrev__binance_1h"
PAIRS = ("BTC/USDT", "ETH/USDT", "DOGE/USDT")


def _inputs(strategy_name: str, timerange: str):
    case = json.loads((CASE / "case.json").read_text())
    config = load_freqtrade_config(CASE / "config.json")
    config["exchange"]["pair_whitelist"] = list(PAIRS)
    spath = _SHARED / "parity" / Path(case["strategy_file"]).parent
    return config, spath, load_markets(CASE / "markets.json"), TimeRange.parse(timerange)


def build_paper_engine(strategy_name: str, timerange: str, store, *, wallet: float = 100_000.0):
    """Everything a paper replay needs, wired as the composition root does."""
    config, spath, infos, tr = _inputs(strategy_name, timerange)
    strategy = load_strategy(strategy_name, config, spath)
    startup = strategy.startup_candle_count
    data = load_data(_SHARED / "data" / "binance", list(PAIRS), "1h", timerange=tr,
                     startup_candles=startup)
    ticks = {p: dict(zip(df["date"].map(lambda d: d.value), tick_decimals_for(
        df, infos[p].price_step), strict=True)) for p, df in data.items()}
    markets = paper_markets(PAIRS, infos, fee=config["fee"])
    finest = {p: int(max(ticks[p].values())) for p in PAIRS}
    markets = {p: replace(m, price_tick=Decimal(1).scaleb(-finest[p])) for p, m in markets.items()}
    paper = PaperExchange(markets, PaperConfig(fill_mode="bar", balances={"USDT": Decimal(str(wallet))}))
    runner = StrategyRunner(strategy, config, {p: df.iloc[: startup + 1] for p, df in data.items()},
                            markets=infos, tick_decimals=lambda p, t: ticks[p][t])
    portfolio = BotPortfolio(runner, wallet)
    clock = {"now": datetime(2020, 1, 1, tzinfo=UTC)}
    risk = RiskEngine(load_risk_config({"rules": []}), portfolio, max_open_trades=config["max_open_trades"],
                      stoploss=strategy.stoploss, clock=lambda: clock["now"])
    manager = OrderManager(store, paper, lambda: clock["now"], venue="paper", strategy_id="s1")
    bot = TradingBot("s1", runner, risk, portfolio, manager, store, markets, order_style="limit")
    engine = TradingEngine([bot], timeframe_ms=3_600_000)
    feed = ReplayFeed({p: df.iloc[startup + 1:] for p, df in data.items()}, "1h")

    def before(t_ms, group):
        clock["now"] = datetime.fromtimestamp((t_ms + 3_600_000) / 1000, tz=UTC)
        for c in group:
            paper.on_candle(c)

    return engine, feed, before, paper, (config, strategy_name, spath, infos, tr)


def backtest_trades(setup) -> pd.DataFrame:
    config, name, spath, infos, tr = setup
    strategy = load_strategy(name, config, spath)
    res = run_backtest(config, strategy, BacktestInputs(
        datadir=_SHARED / "data" / "binance", pairs=PAIRS, timeframe="1h", timerange=tr,
        markets=infos, keep_candles=False), load_data=load_data)
    return res.trades


@pytest.mark.parametrize("strategy_name", ["RsiBbMeanReversion", "SampleStrategy", "EmaCrossTrailing"])
def test_paper_replay_matches_backtest(strategy_name: str) -> None:
    store = InMemoryOrderStore()
    engine, feed, before, paper, setup = build_paper_engine(strategy_name, "20250101-20250125", store)

    async def main():
        await engine.start()
        return await engine.run(feed, before_group=before)

    stats = asyncio.run(main())
    assert stats.groups > 500
    assert engine.bots[0].errors == []
    full = backtest_trades(setup)
    expected = full[full["exit_reason"] != "force_exit"].reset_index(drop=True)
    closed = sorted(store.closed_trades("s1"), key=lambda t: (t.close_time, t.pair))
    assert len(expected) >= 5
    assert len(closed) == len(expected)
    exp = expected.sort_values(["close_date", "pair"], kind="mergesort").reset_index(drop=True)
    for t, row in zip(closed, exp.itertuples(), strict=True):
        assert (t.pair, t.open_time, t.close_time, t.exit_reason) == (
            row.pair, row.open_date.to_pydatetime(), row.close_date.to_pydatetime(), row.exit_reason)
        assert float(t.open_rate) == row.open_rate
        assert float(t.close_rate) == row.close_rate
        assert float(t.amount) == row.amount
        assert float(t.profit_abs) == pytest.approx(row.profit_abs, rel=1e-6, abs=1e-8)
    # the venue's money is the wallet plus the closed trades' profit, minus what open trades hold
    open_trades = store.open_trades("s1")
    bal = asyncio.run(paper.fetch_balance())
    held_cost = sum((t.open_rate * t.amount * Decimal("1.001") for t in open_trades), Decimal(0))
    profit = sum((t.profit_abs for t in closed), Decimal(0))
    assert float(bal["USDT"].total) == pytest.approx(100_000 + float(profit) - float(held_cost), abs=1e-6)
    for t in open_trades:
        base = t.pair.split("/")[0]
        assert bal[base].total == t.amount
    # every order went through the store first and no client id repeats
    orders = store.orders("s1")
    ids = [o.client_order_id for o in orders]
    assert len(ids) == len(set(ids)) == 2 * len(closed) + len(open_trades)
    assert np.all([o.status.value == "filled" for o in orders])
