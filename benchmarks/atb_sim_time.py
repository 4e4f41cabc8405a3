"""Time atb's trade simulation alone (the numba kernel), excluding data and indicators.

Usage: python atb_sim_time.py CONFIG STRATEGY STRATEGY_PATH DATADIR TIMEFRAME MARKETS [TIMERANGE]
Prints JSON: kernel_ms (median of repeated runs after one warm-up), trades.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from atb.backtest.engine import BacktestInputs, _attach_dataprovider, _prepare_pairs
from atb.backtest.kernels import records as rec
from atb.backtest.kernels.simulate_nb import simulate_nb
from atb.backtest.markets import load_markets
from atb.backtest.risk_run import disabled_risk_arrays
from atb.backtest.settings import SimulationSettings
from atb.backtest.simulation import build_input, new_loop_state
from atb.config.freqtrade import load_freqtrade_config
from atb.core.timeframe import timeframe_to_seconds
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.strategy.loader import load_strategy


def main() -> None:
    cfg_path, name, spath, datadir, tf, markets_path, *rest = sys.argv[1:]
    config = load_freqtrade_config(Path(cfg_path))
    config["timeframe"] = tf
    strategy = load_strategy(name, config, Path(spath))
    pairs = tuple(config["exchange"]["pair_whitelist"])
    inputs = BacktestInputs(datadir=Path(datadir), pairs=pairs, timeframe=tf,
                            timerange=TimeRange.parse(rest[0]) if rest else None,
                            markets=load_markets(Path(markets_path)), keep_candles=False)
    startup = strategy.startup_candle_count
    _attach_dataprovider(strategy, inputs, startup, load_data)
    data = load_data(inputs.datadir, list(pairs), tf, timerange=inputs.timerange,
                     startup_candles=startup)
    frames, ticks, *_ = _prepare_pairs(strategy, data, inputs, startup)
    settings = SimulationSettings.from_config(config, strategy)
    sim_in = build_input(frames, ticks, inputs.markets, tf)
    a = sim_in.arrays
    roi_keys, roi_vals = settings.roi_arrays()
    params = settings.params_vector()

    risk = disabled_risk_arrays(len(sim_in.pairs))

    def run() -> int:
        ts = np.full((len(sim_in.pairs), rec.TS_N), np.nan)
        out = np.zeros((sim_in.capacity + len(sim_in.pairs), rec.OUT_N))
        loop_i, loop_f = new_loop_state(len(sim_in.pairs))
        tf_ns = timeframe_to_seconds(tf) * 1_000_000_000
        n, _ = simulate_nb(
            a["date_ns"], a["open"], a["high"], a["low"], a["close"], a["enter_long"],
            a["exit_long"], a["enter_short"], a["exit_short"], a["emergency_exit"], a["enter_tag"],
            a["exit_tag"], a["tick_dec"], a["pair_start"], a["pair_len"], a["amount_dec"],
            a["pair_limits"], sim_in.start_ns, sim_in.end_ns, tf_ns, roi_keys, roi_vals, params, 0,
            ts, out, *risk.kernel_args(), loop_i, loop_f, sim_in.start_ns + tf_ns, True)
        return int(n)

    trades = run()
    times = []
    for _ in range(15):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    print(json.dumps({"kernel_ms": statistics.median(times) * 1000, "trades": trades,
                      "rows": int(len(a["date_ns"]))}))


if __name__ == "__main__":
    main()
