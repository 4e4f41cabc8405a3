"""Cross-exchange price gaps: hand-computed gaps, fees, depth, staleness and the detector."""

from __future__ import annotations

import doctest
from decimal import Decimal as D

import pytest

import atb.execution.arbitrage as arbitrage_mod
from atb.errors import ConfigError
from atb.execution.arbitrage import ArbitrageDetector, detect_price_gaps
from atb.execution.models import BookSnapshot, Market, Ticker

PAIR = "BTC/USDT"


def mk(fee="0", step="0.01", min_amount="0", min_notional="0", active=True, pair=PAIR) -> Market:
    return Market(pair=pair, base=pair.split("/")[0], quote="USDT", price_tick=D("0.01"),
                  amount_step=D(step), min_amount=D(min_amount), min_notional=D(min_notional),
                  taker_fee=D(fee), maker_fee=D(fee), active=active)


def bk(asks=(), bids=(), ts=0, pair=PAIR) -> BookSnapshot:
    return BookSnapshot(pair=pair, timestamp=ts, asks=tuple((D(p), D(a)) for p, a in asks),
                        bids=tuple((D(p), D(a)) for p, a in bids))


def test_module_doctest():
    assert doctest.testmod(arbitrage_mod).failed == 0


def test_gap_net_of_both_taker_fees():
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.001")}
    books = {"a": bk(asks=[("100", "1")], bids=[("99", "1")]),
             "b": bk(asks=[("102", "1")], bids=[("101", "1")])}
    (gap,) = detect_price_gaps(books, markets)
    assert (gap.buy_venue, gap.sell_venue) == ("a", "b")
    assert (gap.buy_price, gap.sell_price) == (D(100), D(101))
    assert gap.gross_bps == D(100)
    # cost 100 * 1.001 = 100.1 ; proceeds 101 * 0.999 = 100.899 ; net 0.799 per BTC
    assert gap.net_bps == D("0.799") / D("100.1") * 10_000
    assert gap.top_amount == D(1) and gap.amount == D(1)
    assert gap.expected_profit == D("0.799")
    assert (gap.buy_worst_price, gap.sell_worst_price) == (D(100), D(101))


def test_no_gap_when_fees_eat_it():
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.001")}
    # gross 15 bps, fees 20 bps: 100.15 * 0.999 = 100.04985 < 100.1
    books = {"a": bk(asks=[("100", "1")]), "b": bk(bids=[("100.15", "1")])}
    assert detect_price_gaps(books, markets) == []
    assert len(detect_price_gaps(books, {"a": mk(), "b": mk()})) == 1


def test_min_net_bps_filter():
    markets = {"a": mk(fee="0.001"), "b": mk(fee="0.001")}
    books = {"a": bk(asks=[("100", "1")]), "b": bk(bids=[("101", "1")])}  # net ~79.82 bps
    assert detect_price_gaps(books, markets, min_net_bps=D(80)) == []
    assert len(detect_price_gaps(books, markets, min_net_bps=D(79))) == 1


def test_amount_through_levels_until_the_net_gap_closes():
    markets = {"a": mk(), "b": mk()}
    books = {"a": bk(asks=[("100", "1"), ("100.5", "1"), ("101", "5")]),
             "b": bk(bids=[("101", "0.5"), ("100.8", "2"), ("100", "5")])}
    (gap,) = detect_price_gaps(books, markets)
    # 0.5 x (101 - 100) + 0.5 x (100.8 - 100) + 1 x (100.8 - 100.5); then 100.8 < 101 stops
    assert gap.top_amount == D("0.5")
    assert gap.amount == D(2)
    assert gap.expected_profit == D("0.5") + D("0.4") + D("0.3")
    assert (gap.buy_worst_price, gap.sell_worst_price) == (D("100.5"), D("100.8"))


def test_amount_rounded_down_to_the_coarser_step():
    markets = {"a": mk(step="0.01"), "b": mk(step="0.3")}
    books = {"a": bk(asks=[("100", "1"), ("100.5", "1"), ("101", "5")]),
             "b": bk(bids=[("101", "0.5"), ("100.8", "2"), ("100", "5")])}
    (gap,) = detect_price_gaps(books, markets)
    assert gap.amount == D("1.8")
    assert gap.expected_profit == D("0.5") + D("0.4") + D("0.8") * D("0.3")


def test_fees_close_the_gap_earlier_through_levels():
    books = {"a": bk(asks=[("100", "1"), ("100.5", "1")]), "b": bk(bids=[("101", "0.5"), ("100.8", "2")])}
    assert detect_price_gaps(books, {"a": mk(), "b": mk()})[0].amount == D(2)
    (gap,) = detect_price_gaps(books, {"a": mk(fee="0.002"), "b": mk(fee="0.002")})
    # margins: 101 * 0.998 - 100.2 = 0.598 ; 100.8 * 0.998 - 100.2 = 0.3984 ;
    # 100.8 * 0.998 - 100.5 * 1.002 = 100.5984 - 100.701 < 0: the walk stops after 1 BTC
    assert gap.amount == D(1)
    assert gap.expected_profit == D("0.5") * D("0.598") + D("0.5") * D("0.3984")
    assert (gap.buy_worst_price, gap.sell_worst_price) == (D(100), D("100.8"))


def test_min_notional_drops_an_unexecutable_gap():
    books = {"a": bk(asks=[("100", "1")]), "b": bk(bids=[("101", "1")])}
    assert detect_price_gaps(books, {"a": mk(), "b": mk(min_notional="200")}) == []
    assert detect_price_gaps(books, {"a": mk(min_amount="2"), "b": mk()}) == []


def test_sorted_by_expected_profit_and_tickers_last():
    markets = {v: mk() for v in "abcd"}
    quotes = {
        "a": bk(asks=[("100", "1")]),
        "b": bk(bids=[("101", "1")]),       # a->b: 1 x 1 = 1
        "c": bk(bids=[("100.5", "10")]),    # a->c: 1 x 0.5 = 0.5
        "d": Ticker(pair=PAIR, timestamp=0, bid=D(103), ask=None, last=None),  # a->d: no depth
    }
    gaps = detect_price_gaps(quotes, markets)
    assert [(g.buy_venue, g.sell_venue) for g in gaps] == [("a", "b"), ("a", "c"), ("a", "d")]
    assert [g.expected_profit for g in gaps] == [D(1), D("0.5"), None]
    assert gaps[2].amount is None and gaps[2].top_amount is None and gaps[2].gross_bps == D(300)


def test_inactive_market_is_skipped():
    books = {"a": bk(asks=[("100", "1")]), "b": bk(bids=[("101", "1")])}
    assert detect_price_gaps(books, {"a": mk(active=False), "b": mk()}) == []


def test_invalid_inputs():
    with pytest.raises(ConfigError):
        detect_price_gaps({"a": bk()}, {})
    with pytest.raises(ConfigError):
        detect_price_gaps({"a": bk(), "b": bk(pair="ETH/USDT")}, {"a": mk(), "b": mk()})
    with pytest.raises(ConfigError):
        ArbitrageDetector({}, max_age_ms=0)
    with pytest.raises(ConfigError):
        ArbitrageDetector({"a": {PAIR: mk()}}).update("zz", bk())


def detector(**kwargs) -> ArbitrageDetector:
    return ArbitrageDetector({v: {PAIR: mk(), "ETH/USDT": mk(pair="ETH/USDT")} for v in "abc"},
                             max_age_ms=1000, **kwargs)


def test_detector_reports_gap_and_ignores_stale_book():
    det = detector()
    assert det.update("a", bk(asks=[("100", "1")], ts=0)) == []
    assert len(det.update("b", bk(bids=[("101", "1")], ts=1000))) == 1   # a is exactly max_age old
    assert det.update("b", bk(bids=[("101", "1")], ts=1001)) == []       # a is now stale
    assert det.latest("a", PAIR) is not None                             # kept, but ignored
    assert len(det.update("a", bk(asks=[("100", "1")], ts=1500))) == 1   # fresh again


def test_detector_with_injected_clock():
    now = [0]
    det = detector(clock=lambda: now[0])
    det.update("a", bk(asks=[("100", "1")], ts=0))
    assert len(det.update("b", bk(bids=[("101", "1")], ts=0))) == 1
    now[0] = 5000
    assert det.gaps(PAIR) == []
    assert len(det.gaps(PAIR, now_ms=10)) == 1


def test_detector_ignores_out_of_order_book_and_keeps_pairs_apart():
    det = detector()
    det.update("a", bk(asks=[("100", "1")], ts=1000))
    det.update("a", bk(asks=[("200", "1")], ts=900))                     # older: not stored
    assert det.latest("a", PAIR).timestamp == 1000
    assert det.update("c", bk(bids=[("300", "1")], ts=1000, pair="ETH/USDT")) == []
    (gap,) = det.update("b", bk(bids=[("101", "1")], ts=1000))
    assert (gap.buy_venue, gap.sell_venue, gap.buy_price) == ("a", "b", D(100))
    assert gap.timestamp == 1000
