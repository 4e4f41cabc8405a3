"""The live RiskEngine: events, states, kill switch, and agreement with the backtest kernel."""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from atb.errors import ConfigError
from atb.orders.events import FlattenRequested, OrderDenied, OrderReduced, TradingStateChanged
from atb.orders.models import OrderIntent
from atb.risk.config import load_risk_config
from atb.risk.engine import OpenPosition, RiskEngine, TradingState

T = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Book:
    """A minimal portfolio: equity and open positions set by the test."""

    eq: float = 1000.0
    open: list = field(default_factory=list)

    def equity(self):
        return self.eq

    def positions(self):
        return list(self.open)


def intent(pair="A/USDT", stake=100.0, kind="entry", **kw):
    return OrderIntent(pair=pair, kind=kind, is_short=False, stake=stake, price=100.0,
                       created_at=kw.pop("at", T), **kw)


def engine(book, **risk):
    return RiskEngine(load_risk_config(risk), book, stoploss=-0.10, clock=lambda: T)


def test_reduction_and_denial_are_events():
    book = Book()
    eng = engine(book, rules=["asset_exposure", "max_open_positions"], max_open_positions=1)
    d = eng.check(intent(stake=500.0))
    assert d.approved and d.reduced and d.stake == pytest.approx(200.0) and d.rule == "asset_exposure"
    assert isinstance(eng.events[-1], OrderReduced) and eng.events[-1].approved_notional == 200.0
    book.open.append(OpenPosition("A/USDT", 200.0))
    d = eng.check(intent("B/USDT"))
    assert not d.approved and d.stake == 0 and d.rule == "max_open_positions"
    assert isinstance(eng.events[-1], OrderDenied) and eng.events[-1].rule == "max_open_positions"
    # exits always pass, whatever the state
    assert eng.check(intent(kind="exit")).approved


def test_drawdown_halts_flattens_and_reset():
    book = Book(open=[OpenPosition("A/USDT", 900.0)])
    seen = []
    eng = RiskEngine(load_risk_config({"max_drawdown": 0.1, "daily_loss_limit": None}), book,
                     clock=lambda: T, listeners=[seen.append])
    assert eng.mark(1000.0, T) is False and eng.state is TradingState.ACTIVE
    assert eng.mark(895.0, T + timedelta(hours=1)) is True
    assert eng.state is TradingState.HALTED
    assert [type(e) for e in seen] == [TradingStateChanged, FlattenRequested]
    assert not eng.check(intent()).approved and seen[-1].rule == "trading_halted"
    book.eq = 895.0
    eng.reset(T + timedelta(hours=2))
    assert eng.state is TradingState.ACTIVE and eng.drawdown == 0.0


def test_kill_switch():
    book = Book(open=[OpenPosition("A/USDT", 100.0)])
    eng = engine(book)
    assert eng.kill() is True and eng.state is TradingState.HALTED
    assert eng.check(intent()).rule == "kill_switch"


def test_correlation_rule_uses_the_returns_provider():
    rng = np.random.default_rng(5)
    r = rng.normal(0, 0.01, 100)
    series = {"A/USDT": r, "B/USDT": r * 2 + rng.normal(0, 0.001, 100), "C/USDT": rng.normal(0, 0.01, 100)}
    book = Book(open=[OpenPosition("A/USDT", 100.0)])
    eng = RiskEngine(load_risk_config({"rules": ["correlation"], "correlation_window": 50}), book,
                     returns=series.__getitem__, clock=lambda: T)
    assert eng.check(intent("B/USDT")).rule == "correlation"
    assert eng.check(intent("C/USDT")).approved


def test_bad_intent_is_rejected_naming_the_field():
    with pytest.raises(ConfigError, match="'stake'"):
        intent(stake=-1.0)
    with pytest.raises(ConfigError, match="'created_at'"):
        OrderIntent(pair="A/USDT", kind="entry", is_short=False, stake=1.0, price=1.0,
                    created_at=datetime(2024, 1, 1))


# --- agreement with the kernel on identical inputs ------------------------------------------

SCENARIOS = [
    # (risk section, stake, stoploss, open positions before the intent (pair, stake)), pair
    ({"rules": ["asset_exposure"]}, 500.0, -0.5, [], "A/USDT"),
    ({"rules": ["position_risk"], "max_position_risk": 0.01}, 500.0, -0.05, [], "A/USDT"),
    ({"rules": ["sector_exposure"], "max_sector_exposure": 0.15, "sectors": {"x": ["A/USDT", "B/USDT"]}},
     100.0, -0.5, [("A/USDT", 100.0)], "B/USDT"),
    ({"rules": ["total_exposure"], "max_total_exposure": 0.25}, 100.0, -0.5,
     [("A/USDT", 100.0), ("C/USDT", 100.0)], "B/USDT"),
    ({"rules": ["max_open_positions"], "max_open_positions": 1}, 100.0, -0.5, [("A/USDT", 100.0)],
     "B/USDT"),
    ({"rules": ["min_notional", "asset_exposure"], "min_notional": 150.0, "max_portfolio_exposure": 0.1},
     100.0, -0.5, [], "A/USDT"),
]


@pytest.mark.parametrize("risk, stake, sl, before, pair", SCENARIOS)
def test_live_engine_agrees_with_the_kernel(risk, stake, sl, before, pair):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "backtest"))
    from _scenario import frame, run_risk, settings

    flat = [[100.0] * 4] * 5
    frames = {p: frame(flat, enter_long=[0]) for p, _ in before}
    frames[pair] = frame(flat, enter_long=[0])
    st = settings(stake_amount=stake, stoploss=sl, max_open_trades=5.0)
    # earlier pairs enter first (whitelist order) with the fixed stake of the scenario
    out, rk = run_risk({p: frames[p] for p in [*(p for p, _ in before), pair]},
                       settings(stake_amount=stake, stoploss=sl, max_open_trades=5.0), risk)
    kernel_trade = out.trades[out.trades.pair == pair]
    kernel_ev = rk.events[rk.events.pair == pair]
    book = Book(1000.0, [OpenPosition(p, s) for p, s in before])
    eng = RiskEngine(load_risk_config(risk), book, max_open_trades=st.max_open_trades,
                     stoploss=sl, clock=lambda: T)
    d = eng.check(intent(pair, stake=stake))
    if kernel_trade.empty:
        assert not d.approved and d.rule == kernel_ev.iloc[0].rule
    else:
        assert d.approved and d.stake == pytest.approx(kernel_trade.iloc[0].stake_amount)
        if not kernel_ev.empty:
            assert d.rule == kernel_ev.iloc[0].rule and d.reduced


def test_live_state_machine_replays_the_kernel_on_real_data(shared_dir):
    """Feed the kernel's mark-to-market equity to the live engine: same transitions, same times."""
    from atb.backtest.engine import BacktestInputs, run_backtest
    from atb.config.freqtrade import validate_freqtrade_config
    from atb.data.history import load_data
    from atb.strategy.loader import load_strategy
    from atb.strategy.trade import Trade

    pairs = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    cfg = validate_freqtrade_config({
        "stake_currency": "USDT", "stake_amount": "unlimited", "max_open_trades": 3,
        "dry_run_wallet": 1000, "fee": 0.001, "exchange": {"name": "binance", "pair_whitelist": pairs}})
    risk = load_risk_config({"max_drawdown": 0.08, "daily_loss_limit": 0.02, "halt_cooldown": "3d",
                             "reduce_at_drawdown": 0.05})
    res = run_backtest(cfg, load_strategy("AtbEmaRsiTrend", cfg, None),
                       BacktestInputs(datadir=shared_dir / "data" / "binance", pairs=tuple(pairs),
                                      timeframe="1h", keep_candles=False),
                       load_data=load_data, trade_cls=Trade, risk=risk)
    kernel = res.risk.events[res.risk.events.kind == "state"]
    assert len(kernel) >= 4  # the scenario exercises several transitions
    book = Book(1000.0)
    eng = RiskEngine(risk, book, clock=lambda: T)
    for at, eq in res.risk.equity.items():
        eng.mark(float(eq), at.to_pydatetime())
    live = [(pd.Timestamp(e.at), e.new, e.rule) for e in eng.events if isinstance(e, TradingStateChanged)]
    assert live == list(zip(kernel.date, kernel.state, kernel.rule, strict=True))
    assert not math.isnan(res.risk.max_drawdown())
