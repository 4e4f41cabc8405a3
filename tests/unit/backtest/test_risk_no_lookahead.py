"""No lookahead: risk decisions at time t do not change when the data after t is removed."""

import pandas as pd
import pytest

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.risk.config import load_risk_config
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

PAIRS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT")
RISK = {
    "max_drawdown": 0.06, "halt_cooldown": "5d", "daily_loss_limit": 0.02, "reduce_at_drawdown": 0.04,
    "max_correlation": 0.85, "correlation_window": 72, "volatility_threshold": 0.02,
    "sizing": {"method": "volatility_target", "target_volatility": 0.004, "drawdown_scaling": True},
    "stops": {"stop_atr": 3.0, "take_profit": [{"atr": 2.0, "fraction": 0.5}, {"atr": 5.0, "fraction": 0.5}]},
    "regime": {"detector": "volatility", "reference_pair": "BTC/USDT",
               "stake_scale": {"high": 0.5}},
}


def _run(shared_dir, end):
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 4,
        "dry_run_wallet": 1000, "fee": 0.001, "exchange": {"name": "binance", "pair_whitelist": list(PAIRS)}})
    res = run_backtest(
        cfg, load_strategy("AtbEmaRsiTrend", cfg, None),
        BacktestInputs(datadir=shared_dir / "data" / "binance", pairs=PAIRS, timeframe="1h",
                       timerange=TimeRange.parse(f"20240101-{end}"), keep_candles=False),
        load_data=load_data, trade_cls=Trade, risk=load_risk_config(RISK))
    return res


def test_risk_decisions_do_not_depend_on_later_candles(shared_dir):
    full = _run(shared_dir, "20240701")
    ev = full.risk.events
    assert {"denied", "reduced", "state"} <= set(ev.kind)  # the scenario exercises the rules
    for cut in pd.date_range("2024-02-01", "2024-06-20", periods=8, tz="UTC"):
        part = _run(shared_dir, f"{cut:%Y%m%d}")
        horizon = pd.Timestamp(part.backtest_end)  # last candle of the truncated run (exclusive)
        a = ev[ev.date < horizon].reset_index(drop=True)
        b = part.risk.events[part.risk.events.date < horizon].reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
        eq_a = full.risk.equity[full.risk.equity.index < horizon]
        eq_b = part.risk.equity[part.risk.equity.index < horizon]
        pd.testing.assert_series_equal(eq_a, eq_b)
        ta = full.trades[full.trades.close_date < horizon].reset_index(drop=True)
        tb = part.trades[(part.trades.close_date < horizon)].reset_index(drop=True)
        pd.testing.assert_frame_equal(ta, tb)
        # the regime labels known before the horizon are the same too
        ra = full.risk.regime[full.risk.regime.index < horizon]
        rb = part.risk.regime[part.risk.regime.index < horizon]
        assert ra.equals(rb) or (ra.fillna("-") == rb.fillna("-")).all()
        assert len(ta) > 0 or cut < pd.Timestamp("2024-02-15", tz="UTC")


@pytest.mark.parametrize("end", ["20240301"])
def test_truncation_run_is_deterministic(shared_dir, end):
    a, b = _run(shared_dir, end), _run(shared_dir, end)
    pd.testing.assert_frame_equal(a.trades, b.trades)
