"""One behavioural suite for every OrderStore: in-memory, SQLite (tmp dir), PostgreSQL (own database).

PostgreSQL runs on 127.0.0.1:5432; the module creates a throwaway database and drops it at the end,
and the live tables are emptied before each test.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from atb.core.enums import OrderSide, OrderType, SignalDirection
from atb.errors import ConfigError, OrderStateError, PersistenceError
from atb.orders.memory import InMemoryOrderStore
from atb.orders.models import Fill, Order, OrderRequest
from atb.orders.ports import OrderStore
from atb.orders.records import Decision, LiveTrade, PositionState
from atb.orders.state import OrderStatus
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore

T0 = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
LIVE_TABLES = ("live_fills", "live_orders", "live_positions", "live_balances", "live_balance_snapshots",
               "live_decisions", "live_trades", "live_id_counters")


@pytest.fixture(scope="module")
def pg_url():
    import psycopg

    name = f"atb_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                               autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL on 127.0.0.1:5432 is required for this test: {exc}")
    conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="module")
def pg_engine(pg_url, tmp_path_factory):
    engine = create_db_engine(pg_url, tmp_path_factory.mktemp("pg"))
    yield engine
    engine.dispose()


@pytest.fixture
def db(request, tmp_path):
    """(kind, url or None) of a clean database."""
    if request.param == "memory":
        return "memory", None
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'atb.sqlite'}"
    engine = request.getfixturevalue("pg_engine")
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(LIVE_TABLES)} RESTART IDENTITY CASCADE"))
    return "postgresql", request.getfixturevalue("pg_url")


_ALL = [pytest.param("memory"), pytest.param("sqlite"),
        pytest.param("postgresql", marks=pytest.mark.postgres)]
_SQL = _ALL[1:]


class Stores:
    """Opens stores on one database; disposes their engines at the end."""

    def __init__(self, kind: str, url: str | None, tmp: Path) -> None:
        self.kind, self.url, self.tmp, self.engines = kind, url, tmp, []
        self._memory = InMemoryOrderStore()

    def open(self) -> OrderStore:
        if self.kind == "memory":
            return self._memory
        engine = create_db_engine(self.url, self.tmp)
        self.engines.append(engine)
        return SqlOrderStore(create_session_factory(engine))


@pytest.fixture
def stores(db, tmp_path):
    s = Stores(*db, tmp_path)
    yield s
    for e in s.engines:
        e.dispose()


@pytest.fixture
def store(stores):
    return stores.open()


def _order(cid: str, *, strategy="s1", pair="BTC/USDT", side=OrderSide.BUY, amount="1", price="100",
           status=OrderStatus.NEW, venue="paper", at=T0, **kw) -> Order:
    req = OrderRequest(client_order_id=cid, pair=pair, side=side, order_type=OrderType.LIMIT,
                       amount=Decimal(amount), price=Decimal(price))
    return Order(request=req, status=status, venue=venue, strategy_id=strategy, created_at=at,
                 updated_at=at, **kw)


def _fill(fid: str, cid: str, side: OrderSide, amount: str, price: str, fee: str = "0", *,
          pair="BTC/USDT", fee_currency="USDT", at=T0) -> Fill:
    return Fill(fill_id=fid, client_order_id=cid, pair=pair, side=side, price=Decimal(price),
                amount=Decimal(amount), fee=Decimal(fee), fee_currency=fee_currency, is_maker=False, at=at)


# -- client order ids ---------------------------------------------------------------------------
@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_client_order_ids_unique_valid_and_per_strategy(store):
    assert isinstance(store, OrderStore)
    a = [store.next_client_order_id("ema-btc") for _ in range(40)]
    b = store.next_client_order_id("other strategy/with spaces")
    assert len(set(a)) == 40 and all(ID_RE.match(x) for x in [*a, b])
    assert a[0].startswith("atb-01f8bccb-") and a[0].endswith("-1") and a[35].endswith("-10")
    assert b.rsplit("-", 1)[1] == "1" and b[:13] != a[0][:13]
    with pytest.raises(ConfigError, match="strategy_id"):
        store.next_client_order_id("")


@pytest.mark.parametrize("db", _SQL, indirect=True)
def test_client_order_ids_durable_across_reopen(stores):
    first = [stores.open().next_client_order_id("s1") for _ in range(3)]
    again = stores.open().next_client_order_id("s1")
    assert again not in first and again.endswith("-4") and again[:18] == first[0][:18]


@pytest.mark.parametrize("db", _SQL, indirect=True)
def test_two_stores_in_threads_never_share_an_id(stores):
    a, b = stores.open(), stores.open()
    out: list[list[str]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        s = a if i % 2 else b
        out[i] += [s.next_client_order_id("s1") for _ in range(30)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [x for chunk in out for x in chunk]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert {int(x.rsplit("-", 1)[1], 36) for x in ids} == set(range(1, 121))


_WORKER = """
import sys, time
from pathlib import Path
from atb.persistence.db import create_db_engine, create_session_factory
from atb.persistence.order_store import SqlOrderStore
store = SqlOrderStore(create_session_factory(create_db_engine(sys.argv[1], Path(sys.argv[2]))))
barrier = Path(sys.argv[3])
(barrier / sys.argv[4]).touch()
while len(list(barrier.iterdir())) < 2:  # both start allocating together
    time.sleep(0.01)
print("\\n".join(store.next_client_order_id("shared") for _ in range(60)))
"""


@pytest.mark.parametrize("db", _SQL, indirect=True)
def test_two_processes_never_share_an_id(stores):
    stores.open()  # schema exists before the workers race
    barrier = stores.tmp / "barrier"
    barrier.mkdir()
    args = [sys.executable, "-c", _WORKER, stores.url, str(stores.tmp), str(barrier)]
    procs = [subprocess.Popen([*args, str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    ids = [line for out, _ in outs for line in out.split()]
    assert len(ids) == 120 and len(set(ids)) == 120


# -- orders -------------------------------------------------------------------------------------
@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_order_round_trip_is_exact(stores):
    store = stores.open()
    order = _order("c1", amount="0.00012300", price="43210.123456789012345678", tag="entry_rsi",
                   fee=Decimal("1E-18"), at=T0 + timedelta(microseconds=7))
    req = replace(order.request, order_type=OrderType.STOP_LIMIT, stop_price=Decimal("43000.5"),
                  post_only=True, reduce_only=True)
    order = replace(order, request=req)
    store.save_order(order)
    got = stores.open().get_order("c1")  # another store (a second connection) sees the committed write
    assert got == order
    assert str(got.request.amount) == "0.00012300" and str(got.request.price) == "43210.123456789012345678"
    assert str(got.fee) == "1E-18" and got.created_at.tzinfo is not None
    assert got.created_at == T0 + timedelta(microseconds=7)
    assert store.get_order("missing") is None


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_order_updates_follow_the_state_machine(store):
    o = _order("c1")
    store.save_order(o)
    o = o.with_status(OrderStatus.SUBMITTED, T0 + timedelta(seconds=1))
    store.save_order(o)
    o = o.with_status(OrderStatus.PARTIALLY_FILLED, T0 + timedelta(seconds=2), filled=Decimal("0.4"),
                      average=Decimal("99.5"), venue_order_id="v-1")
    store.save_order(o)
    assert store.get_order("c1") == o
    stale = _order("c1", status=OrderStatus.SUBMITTED)  # an older copy cannot move it back
    with pytest.raises(OrderStateError, match="c1"):
        store.save_order(stale)
    with pytest.raises(PersistenceError, match="strategy_id"):
        store.save_order(replace(o, strategy_id="other"))
    assert store.get_order("c1") == o
    done = o.with_status(OrderStatus.FILLED, T0 + timedelta(seconds=3), filled=Decimal(1))
    store.save_order(done)
    store.save_order(done)  # idempotent replay
    assert store.get_order("c1").status is OrderStatus.FILLED


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_open_orders_and_filters(store):
    statuses = [OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED,
                OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED]
    for i, st in enumerate(reversed(statuses)):  # saved newest first: results are sorted by time
        store.save_order(_order(f"c{i}", status=st, at=T0 + timedelta(minutes=len(statuses) - i)))
    store.save_order(_order("x1", strategy="s2", pair="ETH/USDT", status=OrderStatus.OPEN, at=T0))
    assert [o.status for o in store.open_orders("s1")] == statuses[:4]
    assert [o.client_order_id for o in store.open_orders()] == ["x1", "c7", "c6", "c5", "c4"]
    assert len(store.orders()) == 9 and len(store.orders("s1")) == 8
    assert [o.client_order_id for o in store.orders(pair="ETH/USDT")] == ["x1"]
    assert store.orders("s2", "BTC/USDT") == []


# -- fills and positions ------------------------------------------------------------------------
@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_fills_are_idempotent_and_build_positions(store):
    store.save_order(_order("b1", amount="2"))
    store.save_order(_order("s1", side=OrderSide.SELL, amount="1.5", price="120"))
    fills = [_fill("f1", "b1", OrderSide.BUY, "1", "100", "0.1"),
             _fill("f2", "b1", OrderSide.BUY, "1", "110", "0.11", at=T0 + timedelta(seconds=1)),
             _fill("f3", "s1", OrderSide.SELL, "1.5", "120", "0.18", at=T0 + timedelta(seconds=2))]
    assert [store.add_fill(f) for f in fills] == [True, True, True]
    assert [store.add_fill(f) for f in fills] == [False, False, False]  # replayed events
    assert store.fills() == fills
    assert store.fills(client_order_id="b1") == fills[:2] and store.fills(pair="ETH/USDT") == []
    pos = store.position("s1", "BTC/USDT")
    # buy 1 @100, buy 1 @110 -> avg 105; sell 1.5 @120 realises (120-105)*1.5 = 22.5; fees 0.39
    assert (pos.amount, pos.avg_price, pos.fees) == (Decimal("0.5"), Decimal("105"), Decimal("0.39"))
    assert pos.realised_pnl == Decimal("22.11") and pos.updated_at == T0 + timedelta(seconds=2)
    assert store.positions() == [pos] and store.positions("nobody") == []


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_position_flips_and_closes(store):
    store.save_order(_order("b1"))
    store.save_order(_order("s1", side=OrderSide.SELL, amount="3"))
    store.save_order(_order("b2", amount="2"))
    store.add_fill(_fill("1", "b1", OrderSide.BUY, "1", "100"))
    store.add_fill(_fill("2", "s1", OrderSide.SELL, "3", "110"))  # close long (+10), open short 2 @110
    p = store.position("s1", "BTC/USDT")
    assert (p.amount, p.avg_price, p.realised_pnl) == (Decimal(-2), Decimal(110), Decimal(10))
    store.add_fill(_fill("3", "b2", OrderSide.BUY, "2", "90", "0.5", fee_currency="BTC"))
    p = store.position("s1", "BTC/USDT")  # short closed: +40; base fee 0.5 BTC counts at 90
    assert (p.amount, p.avg_price, p.realised_pnl, p.fees) == (0, 0, Decimal(5), Decimal(45))
    assert p.is_flat and store.positions("s1") == [p]
    assert store.position("s1", "ETH/USDT") == PositionState(strategy_id="s1", pair="ETH/USDT")


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_fill_of_same_id_on_another_venue_counts(store):
    store.save_order(_order("a", venue="binance"))
    store.save_order(_order("b", venue="kraken"))
    assert store.add_fill(_fill("42", "a", OrderSide.BUY, "1", "100"))
    assert store.add_fill(_fill("42", "b", OrderSide.BUY, "1", "100"))
    assert store.position("s1", "BTC/USDT").amount == 2


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_bad_fills_are_rejected_and_change_nothing(store):
    with pytest.raises(PersistenceError, match="unknown order 'nope'"):
        store.add_fill(_fill("f1", "nope", OrderSide.BUY, "1", "100"))
    store.save_order(_order("b1"))
    with pytest.raises(PersistenceError, match="does not match"):
        store.add_fill(_fill("f1", "b1", OrderSide.SELL, "1", "100"))
    with pytest.raises(PersistenceError, match="does not match"):
        store.add_fill(_fill("f1", "b1", OrderSide.BUY, "1", "100", pair="ETH/USDT"))
    assert store.fills() == [] and store.positions() == []


# -- balances, decisions, trades ------------------------------------------------------------------
@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_balance_snapshots(store):
    assert store.latest_balances("paper") is None
    store.save_balances("paper", {"USDT": (Decimal("1000.10"), Decimal("0")),
                                  "BTC": (Decimal("0.00000001"), Decimal("1.5"))}, T0 + timedelta(hours=1))
    store.save_balances("paper", {"USDT": (Decimal("5"), Decimal("5"))}, T0)  # older: not the latest
    store.save_balances("binance", {"ETH": (Decimal("2"), Decimal("0"))}, T0)
    snap = store.latest_balances("paper")
    assert snap.at == T0 + timedelta(hours=1) and snap.venue == "paper"
    assert dict(snap.balances) == {"USDT": (Decimal("1000.10"), Decimal("0")),
                                   "BTC": (Decimal("0.00000001"), Decimal("1.5"))}
    assert str(snap.balances["USDT"][0]) == "1000.10" and snap.total("BTC") == Decimal("1.50000001")
    store.save_balances("paper", {"USDT": (Decimal(1), Decimal(0))}, T0 + timedelta(hours=1))
    assert store.latest_balances("paper").total("USDT") == 1  # same time: the last saved wins
    assert store.latest_balances("binance").total("ETH") == 2


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_decisions_newest_first(store):
    d1 = Decision(strategy_id="s1", pair="BTC/USDT", candle_time=T0, action="entry",
                  signals={"rsi": 28.5, "ema": float("nan"), "p_up": Decimal("0.61"), "tags": ("a", 1)},
                  risk_verdict="reduced", risk_rule="max_stake", risk_reason="stake capped at 100 USDT",
                  client_order_id="c1", created_at=T0)
    d2 = Decision(strategy_id="s1", pair="BTC/USDT", candle_time=T0 + timedelta(hours=1), action="hold",
                  created_at=T0 + timedelta(hours=1))
    d3 = Decision(strategy_id="s2", pair="ETH/USDT", candle_time=T0, action="denied", risk_verdict="denied",
                  risk_rule="max_open_trades", risk_reason="3 trades open", created_at=T0)
    for d in (d1, d2, d3):
        store.record_decision(d)
    assert store.decisions() == [d3, d2, d1]
    assert store.decisions("s1") == [d2, d1] and store.decisions(limit=1) == [d3]
    got = store.decisions("s1", limit=5)[1]
    assert got.signals == {"rsi": 28.5, "ema": None, "p_up": "0.61", "tags": ["a", 1]}


@pytest.mark.parametrize("db", _ALL, indirect=True)
def test_live_trades_open_and_closed(store):
    t1 = LiveTrade(trade_id="t1", strategy_id="s1", venue="paper", pair="BTC/USDT",
                   side=SignalDirection.LONG, amount=Decimal("0.012"), open_time=T0,
                   open_rate=Decimal("43000.10"), entry_client_order_id="c1", enter_tag="rsi")
    t2 = replace(t1, trade_id="t2", side=SignalDirection.SHORT, open_time=T0 + timedelta(hours=1))
    t3 = replace(t1, trade_id="t3", strategy_id="s2")
    for t in (t2, t1, t3):
        store.save_trade(t)
    assert store.open_trades("s1") == [t1, t2] and len(store.open_trades()) == 3
    closed = replace(t1, close_time=T0 + timedelta(hours=3), close_rate=Decimal("44000.00"),
                     profit_abs=Decimal("10.7988"), profit_ratio=Decimal("0.020926"), exit_reason="roi",
                     exit_client_order_id="c9")
    store.save_trade(closed)
    assert store.open_trades("s1") == [t2] and store.closed_trades("s1") == [closed]
    assert str(store.closed_trades()[0].close_rate) == "44000.00"
    with pytest.raises(PersistenceError, match="side"):
        store.save_trade(replace(closed, side=SignalDirection.SHORT))
    assert store.closed_trades("s2") == []


# -- SQL only ------------------------------------------------------------------------------------
@pytest.mark.parametrize("db", _SQL, indirect=True)
def test_everything_survives_a_restart(stores):
    s = stores.open()
    cid = s.next_client_order_id("s1")
    s.save_order(_order(cid, status=OrderStatus.SUBMITTED))
    s.add_fill(_fill("f1", cid, OrderSide.BUY, "0.5", "100"))
    for e in stores.engines:
        e.dispose()
    again = stores.open()
    assert [o.client_order_id for o in again.open_orders()] == [cid]
    assert again.position("s1", "BTC/USDT").amount == Decimal("0.5")
    assert again.add_fill(_fill("f1", cid, OrderSide.BUY, "0.5", "100")) is False


def test_sql_store_rejects_unbound_session_factory():
    from sqlalchemy.orm import sessionmaker

    with pytest.raises(ConfigError, match="dialect"):
        SqlOrderStore(sessionmaker())


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_sql_write_failure_is_a_persistence_error(stores):
    store = stores.open()
    with pytest.raises(PersistenceError, match="live_orders"):
        store.save_order(_order("c1", amount="1." + "1" * 70))
    assert store.orders() == []
