"""Sizing reachable from a strategy's ``custom_stake_amount`` (``self.position_sizer``)."""

import textwrap

import pytest

from atb.backtest.engine import BacktestInputs, run_backtest
from atb.config.freqtrade import validate_freqtrade_config
from atb.data.history import load_data
from atb.data.timerange import TimeRange
from atb.risk.config import load_risk_config
from atb.strategy.loader import load_strategy
from atb.strategy.trade import Trade

SOURCE = textwrap.dedent('''
    from atb.strategies.ema_rsi_trend import AtbEmaRsiTrend


    class SizedEmaRsi(AtbEmaRsiTrend):
        def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                                max_stake, leverage, entry_tag, side, **kwargs):
            # risk 1 % of equity with a 5 % stop distance: a stake of 20 % of equity
            return self.position_sizer.stake(proposed_stake, stop_distance=0.05,
                                             method="fixed_fractional", leverage=leverage)
''')


def test_custom_stake_amount_uses_the_position_sizer(tmp_path, shared_dir):
    (tmp_path / "sized.py").write_text(SOURCE)
    pairs = ("BTC/USDT", "ETH/USDT")
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": 100, "max_open_trades": 2, "dry_run_wallet": 1000,
        "fee": 0.001, "exchange": {"name": "binance", "pair_whitelist": list(pairs)}})
    strategy = load_strategy("SizedEmaRsi", cfg, tmp_path)
    risk = load_risk_config({"rules": [], "sizing": {"risk_fraction": 0.01}})
    res = run_backtest(cfg, strategy, BacktestInputs(
        datadir=shared_dir / "data" / "binance", pairs=pairs, timeframe="1h",
        timerange=TimeRange.parse("20240101-20240401"), keep_candles=False),
        load_data=load_data, trade_cls=Trade, risk=risk)
    t = res.trades.sort_values("open_date").iloc[0]
    # the first entry sees the starting equity: 1000 * 0.01 / 0.05 = 200
    assert t.stake_amount == pytest.approx(200.0, rel=1e-6)
    assert strategy.position_sizer is not None
    # later stakes follow the mark-to-market equity, not the fixed 100
    assert (res.trades.stake_amount.round(6) != 100.0).all()
