"""Hand-made candle scenarios for kernel rule tests (synthetic prices, not market data)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from atb.backtest.markets import MarketInfo
from atb.backtest.settings import SimulationSettings
from atb.backtest.simulation import build_input, run_simulation

T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")


def frame(ohlc, enter_long=(), exit_long=(), enter_short=(), exit_short=(), tf="1h", tags=None):
    """Prepared rows: row i is candle T0 + (i+1)*tf; signal lists give row indices."""
    n = len(ohlc)
    step = pd.Timedelta(tf)
    dates = [T0 + step * (i + 1) for i in range(n)]
    df = pd.DataFrame(ohlc, columns=["open", "high", "low", "close"], dtype=float)
    df.insert(0, "date", pd.DatetimeIndex(dates))
    for name, rows in (("enter_long", enter_long), ("exit_long", exit_long),
                       ("enter_short", enter_short), ("exit_short", exit_short)):
        col = np.zeros(n)
        col[list(rows)] = 1
        df[name] = col
    df["enter_tag"] = [None] * n if tags is None else tags
    df["exit_tag"] = [None] * n
    df.attrs["start_date"] = T0
    return df


def settings(**kw):
    base = dict(
        timeframe="1h", minimal_roi=((0, 10.0),), stoploss=-0.5, fee=0.0, stake_amount=100.0,
        starting_balance=1000.0, tradable_balance_ratio=1.0, max_open_trades=3.0,
    )
    base.update(kw)
    return SimulationSettings(**base)


def run(frames, st, decimals=2, markets=None):
    ticks = {p: np.full(len(df), decimals, dtype=np.int64) for p, df in frames.items()}
    sim_in = build_input(frames, ticks, markets or {p: MarketInfo() for p in frames}, st.timeframe)
    return run_simulation(sim_in, st)


def run_risk(frames, st, risk, decimals=2, markets=None):
    """Like :func:`run`, with the risk engine on; returns (SimulationOutput, RiskOutcome)."""
    from atb.backtest.risk_run import build_risk_arrays, decode_risk
    from atb.risk.config import load_risk_config

    cfg = load_risk_config(risk)
    ticks = {p: np.full(len(df), decimals, dtype=np.int64) for p, df in frames.items()}
    sim_in = build_input(frames, ticks, markets or {p: MarketInfo() for p in frames}, st.timeframe)
    tf_ns = int(pd.Timedelta(st.timeframe).value)
    ra = build_risk_arrays(sim_in.pairs, sim_in.arrays, sim_in.start_ns, sim_in.end_ns, tf_ns, cfg,
                           st.max_open_trades, None, st.starting_balance)
    out = run_simulation(sim_in, st, risk=ra)
    return out, decode_risk(ra, sim_in.pairs, sim_in.start_ns, tf_ns, cfg)
