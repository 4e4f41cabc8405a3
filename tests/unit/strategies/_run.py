"""Run a built-in strategy through the real backtest engine on the shared Binance candles."""

from __future__ import annotations

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade


def backtest(shared_dir, name, pairs, timerange, extra=None, workers=1):
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": 100, "max_open_trades": len(pairs),
        "dry_run_wallet": 1000, "fee": 0.001,
        "exchange": {"name": "binance", "pair_whitelist": list(pairs)}, **(extra or {})})
    strategy = load_strategy(name, cfg, None)
    res = run_backtest(cfg, strategy, BacktestInputs(
        datadir=shared_dir / "data" / "binance", pairs=tuple(pairs), timeframe="1h",
        timerange=TimeRange.parse(timerange), keep_candles=False, workers=workers),
        load_data=load_data, trade_cls=Trade)
    return res, strategy
