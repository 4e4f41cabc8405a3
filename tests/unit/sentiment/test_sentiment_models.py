from datetime import UTC, datetime, timedelta, timezone

import pytest

from atb.errors import DataError
from atb.sentiment import Event, EventCategory, NewsItem, ScoredItem, Severity, make_item_id

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _item(**kw):
    base = dict(source="s", title="Bitcoin rallies", text="", url="https://x.test/a", published_at=T0)
    return NewsItem.create(**{**base, **kw})


def test_id_is_stable_hash_of_source_url_title():
    a = _item()
    assert a.id == make_item_id("s", "https://x.test/a", "Bitcoin rallies")
    assert _item(published_at=T0 + timedelta(hours=1)).id == a.id  # times do not change the id
    assert _item(title="Other").id != a.id
    assert a.available_at == a.published_at  # default latency 0


def test_naive_datetime_names_the_field():
    with pytest.raises(DataError, match="published_at: naive"):
        _item(published_at=datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(DataError, match="available_at: naive"):
        NewsItem(id="x", source="s", title="t", text="", url="", published_at=T0,
                 available_at=datetime(2024, 1, 2))  # noqa: DTZ001
    with pytest.raises(DataError, match="NewsItem.available_at: .* is not UTC"):
        NewsItem(id="x", source="s", title="t", text="", url="", published_at=T0,
                 available_at=T0.astimezone(timezone(timedelta(hours=2))))


def test_create_converts_other_zones_and_checks_order():
    item = _item(published_at=datetime(2024, 1, 1, 14, tzinfo=timezone(timedelta(hours=2))))
    assert item.published_at == T0 and item.published_at.utcoffset() == timedelta(0)
    with pytest.raises(DataError, match="available_at"):
        _item(available_at=T0 - timedelta(seconds=1))
    assert _item(assets=("ETH", "BTC", "ETH")).assets == ("BTC", "ETH")


def test_scored_item_validation():
    it = _item()
    ok = ScoredItem(item=it, score=0.5, label="positive", probabilities={"positive": 1.0})
    assert ok.score == 0.5
    with pytest.raises(DataError, match="ScoredItem.score"):
        ScoredItem(item=it, score=1.5, label="positive")
    with pytest.raises(DataError, match="ScoredItem.score"):
        ScoredItem(item=it, score=float("nan"), label="positive")
    with pytest.raises(DataError, match="ScoredItem.label"):
        ScoredItem(item=it, score=0.0, label="bullish")
    with pytest.raises(DataError, match="ScoredItem.probabilities"):
        ScoredItem(item=it, score=0.0, label="neutral", probabilities={"up": 1.0})


def test_event_record():
    it = _item(assets=("BTC",))
    ev = Event.from_item(it, category=EventCategory.HACK, severity=Severity.HIGH, detector="rules")
    assert ev.assets == ("BTC",) and ev.available_at == it.available_at and ev.item_id == it.id
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW
    with pytest.raises(DataError, match="Event.detector"):
        Event.from_item(it, category=EventCategory.HACK, severity=Severity.HIGH, detector="magic")
