"""InMemoryOrderStore specifics and the records behind every OrderStore.

The behavioural suite shared with the SQL adapter is tests/unit/persistence/test_order_store.py.
"""

from __future__ import annotations

import doctest
import math
from datetime import UTC, datetime
from decimal import Context, Decimal

import numpy as np
import pytest

import atb.orders._store
import atb.orders.memory
import atb.orders.records
from atb.core.enums import OrderSide, SignalDirection
from atb.errors import ConfigError, PersistenceError
from atb.orders._store import format_client_order_id
from atb.orders.memory import InMemoryOrderStore
from atb.orders.models import Fill
from atb.orders.ports import OrderStore
from atb.orders.records import BalanceSnapshot, Decision, LiveTrade, PositionState, apply_fill, fee_in_quote

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(side: OrderSide, amount: str, price: str, fee: str = "0", fee_currency: str = "USDT",
          pair: str = "BTC/USDT") -> Fill:
    return Fill(fill_id="f", client_order_id="c", pair=pair, side=side, price=Decimal(price),
                amount=Decimal(amount), fee=Decimal(fee), fee_currency=fee_currency, is_maker=True, at=T0)


@pytest.mark.parametrize("module", [atb.orders.records, atb.orders._store, atb.orders.memory])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_memory_store_is_an_order_store_and_each_instance_has_its_own_tags():
    a, b = InMemoryOrderStore(), InMemoryOrderStore()
    assert isinstance(a, OrderStore)
    ids_a = {a.next_client_order_id("s") for _ in range(5)}
    id_b = b.next_client_order_id("s")
    assert id_b.endswith("-1") and id_b not in ids_a
    assert len({i.split("-")[2] for i in ids_a}) == 1  # one tag per strategy counter


def test_client_order_id_format_and_overflow():
    assert format_client_order_id("s", "abcd", 0).endswith("-abcd-0")
    assert len(format_client_order_id("s" * 500, "abcd", 36**18 - 1)) == 36
    with pytest.raises(PersistenceError, match="overflowed"):
        format_client_order_id("s", "abcd", 36**18)


def test_apply_fill_average_cost_with_fees_realised_when_paid():
    p = PositionState(strategy_id="s", pair="BTC/USDT")
    for f in (_fill(OrderSide.BUY, "1", "100", "0.1"), _fill(OrderSide.BUY, "1", "110", "0.11"),
              _fill(OrderSide.SELL, "1.5", "120", "0.18")):
        p = apply_fill(p, f)
    assert (p.amount, p.avg_price, p.realised_pnl, p.fees) == (
        Decimal("0.5"), Decimal("105"), Decimal("22.11"), Decimal("0.39"))


def test_apply_fill_short_side_and_non_terminating_average():
    p = PositionState(strategy_id="s", pair="ETH/USDT:USDT")
    for f in (_fill(OrderSide.SELL, "1", "100", pair="ETH/USDT:USDT"),
              _fill(OrderSide.SELL, "2", "101", pair="ETH/USDT:USDT")):
        p = apply_fill(p, f)
    assert p.amount == -3 and p.avg_price == Context(prec=34).divide(Decimal(302), Decimal(3))
    assert len(str(p.avg_price).replace(".", "")) == 34  # decimal128 precision, whatever the caller's context
    p = apply_fill(p, _fill(OrderSide.BUY, "3", "90", "0.27", pair="ETH/USDT:USDT"))
    assert p.is_flat and p.avg_price == 0
    assert abs(p.realised_pnl - (Decimal(32) - Decimal("0.27"))) < Decimal("1e-30")
    with pytest.raises(ConfigError, match="pair"):
        apply_fill(p, _fill(OrderSide.BUY, "1", "1"))


@pytest.mark.parametrize(("currency", "expected"), [("USDT", "0.5"), ("usdt", "0.5"), ("BTC", "50.0"),
                                                    ("BNB", "0")])
def test_fee_in_quote(currency, expected):
    assert fee_in_quote(_fill(OrderSide.BUY, "1", "100", "0.5", fee_currency=currency)) == Decimal(expected)


def test_balance_snapshot_is_read_only():
    snap = BalanceSnapshot(venue="paper", at=T0, balances={"USDT": (Decimal(1), Decimal(2))})
    assert snap.total("USDT") == 3 and snap.total("BTC") == 0
    with pytest.raises(TypeError):
        snap.balances["BTC"] = (Decimal(1), Decimal(0))  # type: ignore[index]
    with pytest.raises(ConfigError, match="at"):
        BalanceSnapshot(venue="paper", at=datetime(2024, 1, 1))


def test_decision_signals_are_normalised_to_json():
    d = Decision(strategy_id="s", pair="BTC/USDT", candle_time=T0, action="entry",
                 signals={"a": np.float64(1.5), "b": math.inf, "c": np.int64(3), 4: {"x": (1, None)}})
    assert d.signals == {"a": 1.5, "b": None, "c": 3, "4": {"x": [1, None]}}
    with pytest.raises(ConfigError, match=r"signals\.bad"):
        Decision(strategy_id="s", pair="BTC/USDT", candle_time=T0, action="entry", signals={"bad": object()})
    with pytest.raises(ConfigError, match="candle_time"):
        Decision(strategy_id="s", pair="BTC/USDT", candle_time=datetime(2024, 1, 1), action="hold")
    with pytest.raises(ConfigError, match="action"):
        Decision(strategy_id="s", pair="BTC/USDT", candle_time=T0, action="")


def test_live_trade_validation():
    base = {"trade_id": "t1", "strategy_id": "s", "venue": "paper", "pair": "BTC/USDT", "side": "long",
            "amount": Decimal(1), "open_time": T0, "open_rate": Decimal(100), "entry_client_order_id": "c"}
    t = LiveTrade(**base)
    assert t.side is SignalDirection.LONG and t.is_open
    with pytest.raises(ConfigError, match="close_rate"):
        LiveTrade(**base, close_time=T0)
    with pytest.raises(ConfigError, match="amount"):
        LiveTrade(**{**base, "amount": Decimal(0)})
    with pytest.raises(ConfigError, match="trade_id"):
        LiveTrade(**{**base, "trade_id": "x" * 65})
    with pytest.raises(ValueError):
        LiveTrade(**{**base, "side": "sideways"})


def test_decisions_limit_zero_and_latest_balances_per_venue():
    s = InMemoryOrderStore()
    s.record_decision(Decision(strategy_id="s", pair="BTC/USDT", candle_time=T0, action="hold"))
    assert s.decisions(limit=0) == [] and len(s.decisions(limit=10)) == 1
    assert s.latest_balances("paper") is None
