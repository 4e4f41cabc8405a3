"""OCO brackets and the trailing stop (equal to the backtest kernel's)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from atb.backtest.kernels.exit_nb import _stop_and_liq
from atb.backtest.kernels.records import (
    P_N,
    P_ONLY_OFFSET,
    P_STOPLOSS,
    P_TRAILING_OFFSET,
    P_TRAILING_POSITIVE,
    P_TRAILING_STOP,
    P_USE_CUSTOM_STOPLOSS,
    TS_STOP,
)
from atb.backtest.kernels.stops_nb import profit_ratio_nb
from atb.errors import ConfigError
from atb.execution.brackets import (
    BracketSpec,
    OcoBracket,
    TakeProfitLevel,
    TrailingConfig,
    TrailingStop,
)
from atb.execution.order_manager import OrderManager
from atb.orders.state import OrderStatus

from ._kit import PAIR, SID, build, buy, run

S = OrderStatus
D = Decimal


def _bracket(om: OrderManager, amount: str = "1") -> OcoBracket:
    spec = BracketSpec(bracket_id="t1", pair=PAIR, amount=D(amount), stop_price=D(90),
                       take_profits=(TakeProfitLevel(price=D(110), fraction=D("0.5")),
                                     TakeProfitLevel(price=D(120), fraction=D("0.5"))))
    return OcoBracket(om, spec)


def _placed():
    om, store, venue, clock = build()
    run(buy(om, "1"))
    br = _bracket(om)
    st = run(br.sync())
    return om, store, venue, clock, br, st


def test_sync_places_stop_and_levels_and_is_idempotent():
    om, store, venue, clock, br, st = _placed()
    assert st.stop is not None and st.stop.request.amount == D(1) and st.stop.request.stop_price == D(90)
    assert st.stop.request.price == D("89.10")
    assert [tp.request.amount for tp in st.take_profits] == [D("0.5"), D("0.5")]
    calls = list(venue.create_calls)
    again = run(br.sync())
    assert venue.create_calls == calls and again == st


def test_stop_fill_cancels_take_profits():
    om, store, venue, clock, br, st = _placed()
    venue.set_price(PAIR, D(89))
    run(om.on_venue_updates(run(venue.watch_orders())))
    st2 = run(br.sync())
    assert st2.closed and st2.stop is None and st2.take_profits == (None, None)
    assert all(venue.venue_order(tp.client_order_id).status is S.CANCELLED for tp in st.take_profits)
    assert store.position(SID, PAIR).amount == 0 == venue.balances["BTC"]


def test_tp1_partial_fill_reduces_the_stop():
    om, store, venue, clock, br, st = _placed()
    tp1 = st.take_profits[0]
    venue.fill(tp1.client_order_id, D("0.2"), D(110))
    run(om.on_venue_updates(run(venue.watch_orders())))
    st2 = run(br.sync())
    assert st2.remaining == D("0.8")
    assert st2.stop.client_order_id != st.stop.client_order_id  # replaced under a new id
    assert st2.stop.remaining == D("0.8")
    assert venue.venue_order(st.stop.client_order_id).status is S.CANCELLED
    # the partly filled level keeps resting; the total of the levels never exceeds the position
    live_tp = sum((tp.remaining for tp in st2.take_profits if tp is not None), D(0))
    assert live_tp <= st2.remaining
    assert st2.take_profits[0].client_order_id == tp1.client_order_id
    # stop partial fill: the far level is cut so the levels fit the remaining amount
    venue.fill(st2.stop.client_order_id, D("0.5"), D(89))
    run(om.on_venue_updates(run(venue.watch_orders())))
    st3 = run(br.sync())
    assert st3.remaining == D("0.3")
    assert sum((tp.remaining for tp in st3.take_profits if tp is not None), D(0)) <= D("0.3")
    open_venue = run(venue.fetch_open_orders())
    assert {o.client_order_id for o in open_venue} == {o.client_order_id for o in om.open_orders()}


def test_bracket_restart_converges_without_duplicates():
    om, store, venue, clock, br, st = _placed()
    # crash between cancelling the stop and placing its replacement
    run(om.cancel(st.stop.client_order_id))
    om2 = OrderManager(store, venue, clock, venue="fake", strategy_id=SID)
    run(om2.start())
    st2 = run(_bracket(om2).sync())
    assert st2.stop is not None and st2.stop.request.amount == D(1)
    assert len([o for o in run(venue.fetch_open_orders()) if o.order_type == "stop_limit"]) == 1


def test_bracket_spec_validation():
    with pytest.raises(ConfigError):
        BracketSpec(bracket_id="x", pair=PAIR, amount=D(1), stop_price=D(90),
                    take_profits=(TakeProfitLevel(price=D(110), fraction=D("0.7")),
                                  TakeProfitLevel(price=D(120), fraction=D("0.7"))))
    with pytest.raises(ConfigError):
        TakeProfitLevel(price=D(110), fraction=D(0))


def _kernel_stop(cfg: TrailingConfig, open_rate, fee, tick_d, stop, high, low):
    st = TrailingStop(cfg, open_rate=open_rate, amount=1.0, fee=fee, price_decimals=tick_d,
                      stop=stop).state.copy()
    params = np.zeros(P_N)
    params[P_STOPLOSS] = cfg.stoploss
    params[P_TRAILING_STOP] = 1.0 if cfg.trailing_stop else 0.0
    positive = cfg.trailing_stop_positive
    params[P_TRAILING_POSITIVE] = math.nan if positive is None else positive
    params[P_TRAILING_OFFSET] = cfg.trailing_stop_positive_offset
    params[P_ONLY_OFFSET] = 1.0 if cfg.trailing_only_offset_is_reached else 0.0
    params[P_USE_CUSTOM_STOPLOSS] = 0.0
    _stop_and_liq(0, 0, 0, st, high, low, profit_ratio_nb(st, high), params, 0)
    return float(st[TS_STOP])


def test_trailing_stop_equals_the_kernel_on_random_inputs():
    rng = np.random.default_rng(7)
    for _ in range(400):
        positive = None if rng.random() < 0.3 else float(rng.uniform(0.005, 0.05))
        cfg = TrailingConfig(stoploss=-float(rng.uniform(0.02, 0.2)), trailing_stop=bool(rng.random() < 0.9),
                             trailing_stop_positive=positive,
                             trailing_stop_positive_offset=float(rng.choice([0.0, rng.uniform(0.0, 0.08)])),
                             trailing_only_offset_is_reached=bool(rng.random() < 0.5))
        open_rate = float(rng.uniform(1, 1000))
        tick_d = int(rng.integers(1, 6))
        fee = float(rng.choice([0.0, 0.001]))
        ts = TrailingStop(cfg, open_rate=open_rate, amount=1.0, fee=fee, price_decimals=tick_d)
        for _ in range(10):
            high = open_rate * float(rng.uniform(0.9, 1.2))
            low = high * float(rng.uniform(0.85, 1.0))
            kernel = _kernel_stop(cfg, open_rate, fee, tick_d, ts.stop, high, low)
            assert ts.update(high, low) == kernel


def test_trailing_stop_moves_the_bracket_stop_by_at_least_a_tick():
    om, store, venue, clock, br, st = _placed()
    cfg = TrailingConfig(stoploss=-0.1, trailing_stop=True, trailing_stop_positive=0.02,
                         trailing_stop_positive_offset=0.03, trailing_only_offset_is_reached=True)
    ts = TrailingStop(cfg, open_rate=100.0, amount=1.0, fee=0.0, price_decimals=2, stop=90.0)
    assert not run(ts.apply(br, 102.0))  # offset not reached
    venue.set_price(PAIR, D(105))
    assert run(ts.apply(br, 105.0))  # 105 * 0.98 = 102.9
    st2 = br.status()
    assert st2.stop_price == D("102.9") and st2.stop.request.stop_price == D("102.9")
    assert venue.venue_order(st.stop.client_order_id).status is S.CANCELLED
    n_calls = len(venue.create_calls)
    assert not run(ts.apply(br, 105.0))  # same level: no replace
    assert not run(ts.apply(br, 104.0))  # the stop never moves down
    assert len(venue.create_calls) == n_calls
    assert run(ts.apply(br, 105.01))  # 102.9098 rounds up to 102.91: one tick
    assert br.stop_price() == D("102.91")
    assert len([o for o in run(venue.fetch_open_orders()) if o.order_type == "stop_limit"]) == 1
