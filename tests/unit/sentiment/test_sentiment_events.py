import json
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from atb.errors import ConfigError, DataError
from atb.sentiment import (
    EventCategory,
    EventClassifier,
    EventDetector,
    LlmEventClassifier,
    NewsItem,
    Severity,
    detect,
    event_veto_series,
)
from atb.sentiment.events import parse_usd_amounts

T0 = datetime(2024, 1, 1, tzinfo=UTC)
C, S = EventCategory, Severity


def _item(title, text="", minutes=0, assets=None):
    from atb.sentiment import tag_assets

    at = T0 + timedelta(minutes=minutes)
    return NewsItem.create(source="desk", title=title, text=text, url=f"https://n.test/{minutes}",
                           published_at=at, assets=tag_assets(title) if assets is None else assets)


def _cats(title, text=""):
    return [(e.category, e.severity) for e in EventDetector().detect_item(_item(title, text))]


def test_rules_table_and_escalation():
    assert _cats("Exchange XYZ hacked, $150 million in ETH drained") == [(C.HACK, S.CRITICAL)]
    assert _cats("DeFi protocol exploited for $2.7M") == [(C.HACK, S.HIGH)]
    assert _cats("SEC sues crypto exchange") == [(C.REGULATION, S.MEDIUM)]
    assert _cats("Exchange fined $4.3 billion in DOJ settlement") == [(C.REGULATION, S.HIGH)]
    assert _cats("the sec said nothing") == []  # agency acronyms are case-sensitive
    assert _cats("Aptos token unlock of $200M looms") == [(C.TOKEN_UNLOCK, S.HIGH)]
    assert _cats("Binance lists new token") == [(C.LISTING, S.LOW)]
    assert _cats("Coinbase to delist Solana pairs") == [(C.DELISTING, S.CRITICAL)]  # names an asset
    assert _cats("Exchange to delist privacy coins") == [(C.DELISTING, S.HIGH)]
    assert _cats("Exchange halts withdrawals after outage") == [(C.OUTAGE, S.HIGH)]
    assert _cats("Withdrawals suspended for maintenance") == [(C.OUTAGE, S.HIGH)]
    assert _cats("Scheduled maintenance on Sunday") == [(C.OUTAGE, S.MEDIUM)]
    assert _cats("Weekly digest: listing and delisting announcements") == [
        (C.DELISTING, S.HIGH), (C.LISTING, S.LOW)]
    assert _cats("Price rallies as market sentiment improves") == []
    assert _cats("Great quarter", "listed companies rallied") == []  # listing rules read the title only
    assert parse_usd_amounts("$1,200 and $3.5bn and $10K and $7 mln") == [1200.0, 3.5e9, 1e4, 7e6]
    with pytest.raises(ConfigError, match="escalate_amount_usd"):
        EventDetector(escalate_amount_usd=0)
    ev = EventDetector().detect_item(_item("Bitcoin bridge hacked for $120 million"))[0]
    assert ev.assets == ("BTC",) and ev.detector == "rules" and "$120,000,000" in ev.evidence


def test_detected_events_on_real_news(news_items):
    events = EventDetector().detect(news_items)
    assert [e.available_at for e in events] == sorted(e.available_at for e in events)
    counts = Counter(e.category for e in events)
    assert counts == {C.REGULATION: 50, C.HACK: 25, C.LISTING: 6, C.DELISTING: 2, C.TOKEN_UNLOCK: 2,
                      C.OUTAGE: 1}
    assert Counter(e.severity for e in events) == {S.MEDIUM: 51, S.HIGH: 26, S.LOW: 6, S.CRITICAL: 3}
    critical = [(e.available_at, e.title[:30]) for e in events if e.severity == S.CRITICAL]
    assert critical == [
        (datetime(2023, 12, 13, 23, 11, tzinfo=UTC), "Justin Sun Says Customer Asset"),
        (datetime(2023, 12, 14, 12, 50, tzinfo=UTC), "Over $300M in stolen crypto as"),
        (datetime(2023, 12, 14, 17, 18, tzinfo=UTC), "Approval Phishing Scams See “E"),
    ]


def _chat(content):
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "tiny",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}]}


def test_llm_classifier_good_answer(server, monkeypatch):
    monkeypatch.setenv("LLM_KEY", "sk-test")
    server.json("/v1/chat/completions",
                _chat('```json\n{"category": "hack", "severity": "Critical", "assets": ["eth", "ETH"]}\n```'))
    llm = LlmEventClassifier(f"{server.url}/v1/", "tiny", api_key_env="LLM_KEY", timeout=5)
    assert isinstance(llm, EventClassifier)
    item = _item("Bridge drained", minutes=5)
    ev = llm.classify(item)
    assert (ev.category, ev.severity, ev.assets, ev.detector) == (C.HACK, S.CRITICAL, ("ETH",), "llm")
    assert ev.available_at == item.available_at and ev.item_id == item.id
    req = server.requests[0]
    assert req["method"] == "POST" and req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    body = json.loads(req["body"])
    assert body["model"] == "tiny" and body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system" and "Bridge drained" in body["messages"][1]["content"]
    server.json("/v1/chat/completions", _chat('{"category": "none", "severity": "low", "assets": []}'))
    assert llm.classify(item) is None
    monkeypatch.delenv("LLM_KEY")
    with pytest.raises(ConfigError, match="LLM_KEY"):
        LlmEventClassifier(server.url, "tiny", api_key_env="LLM_KEY")


@pytest.mark.parametrize(("payload", "status", "message"), [
    (_chat("Sure! It is a hack."), 200, r"choices\[0\]\.message\.content: not JSON"),
    (_chat('{"category": "rumour", "severity": "low", "assets": []}'), 200, "field category"),
    (_chat('{"category": "hack", "severity": "extreme", "assets": []}'), 200, "field severity"),
    (_chat('{"category": "hack", "severity": "high", "assets": "BTC"}'), 200, "field assets"),
    (_chat('["hack"]'), 200, "expected a JSON object"),
    ({"choices": []}, 200, r"choices\[0\]\.message\.content: missing"),
    ({"error": {"message": "overloaded"}}, 500, "HTTP 500"),
])
def test_llm_classifier_invalid_answers(server, payload, status, message):
    server.json("/chat/completions", payload, status=status)
    with pytest.raises(DataError, match=message):
        LlmEventClassifier(server.url, "tiny").classify(_item("Exchange hacked"))


def test_detect_refines_with_llm_and_falls_back_to_rules(server, caplog):
    items = [_item("Exchange hacked for $5M", minutes=0), _item("Bitcoin hits new high", minutes=10)]
    server.json("/chat/completions", _chat('{"category": "hack", "severity": "critical", "assets": []}'))
    llm = LlmEventClassifier(server.url, "tiny")
    refined = detect(items, llm)
    assert [(e.category, e.severity, e.detector) for e in refined] == [(C.HACK, S.CRITICAL, "llm")]
    assert len(server.requests) == 1  # only items the rules flagged are sent
    server.json("/chat/completions", {"error": "boom"}, status=500)
    with caplog.at_level(logging.WARNING, logger="atb.sentiment.events"):
        fallback = detect(items, llm)
    assert [(e.category, e.severity, e.detector) for e in fallback] == [(C.HACK, S.HIGH, "rules")]
    assert "using rules" in caplog.text
    server.json("/chat/completions", _chat('{"category": "none", "severity": "low", "assets": []}'))
    assert detect(items, llm) == []
    assert detect(items) == fallback


def _dates(n, start=T0):
    return pd.Series(pd.date_range(start, periods=n, freq="1h", tz="UTC"))


def test_veto_series_hand_case():
    events = [e for it in [_item("Exchange hacked, $200 million stolen", minutes=30, assets=()),
                           _item("SEC sues issuer", minutes=90, assets=("ETH",)),
                           _item("Coinbase to delist Solana", minutes=150)]
              for e in EventDetector().detect_item(it)]
    assert [(e.severity, e.assets) for e in events] == [(S.CRITICAL, ()), (S.MEDIUM, ("ETH",)),
                                                         (S.CRITICAL, ("SOL",))]
    df = event_veto_series(events, _dates(5), "1h", asset="BTC", hold=timedelta(hours=2))
    # closes 01:00 .. 05:00; the 00:30 hack vetoes closes 01:00 and 02:00 (window (close - 2h, close])
    assert df["event_veto"].tolist() == [True, True, False, False, False]
    assert df["event_max_severity"].tolist() == [4, 4, 0, 0, 0]
    eth = event_veto_series(events, _dates(5), "1h", asset="ETH", hold=timedelta(hours=2),
                            min_severity=S.MEDIUM)
    assert eth["event_max_severity"].tolist() == [4, 4, 2, 0, 0]
    assert eth["event_veto"].tolist() == [True, True, True, False, False]
    sol = event_veto_series(events, _dates(5), "1h", asset="SOL", include_market_wide=False)
    assert sol["event_veto"].tolist() == [False, False, True, True, True]
    assert event_veto_series(events, _dates(5), "1h", asset=None)["event_max_severity"].tolist() == [4] * 5
    with pytest.raises(ConfigError, match="hold"):
        event_veto_series(events, _dates(5), "1h", asset="BTC", hold=timedelta(0))


def test_veto_series_no_lookahead_on_real_news(news_items):
    events = EventDetector().detect(news_items)
    dates = _dates(240, start=datetime(2023, 12, 11, tzinfo=UTC))
    full = event_veto_series(events, dates, "1h", asset="BTC", min_severity=S.HIGH)
    assert full["event_veto"].sum() > 24 and (~full["event_veto"]).sum() > 24
    closes = dates + pd.Timedelta(hours=1)
    for cut in pd.date_range("2023-12-12 00:10", "2023-12-19 12:00", periods=24, tz="UTC"):
        part = event_veto_series([e for e in events if e.available_at <= cut], dates[closes <= cut], "1h",
                                 asset="BTC", min_severity=S.HIGH)
        pd.testing.assert_frame_equal(part, full.loc[part.index], check_exact=True)
    # the first critical event (2023-12-13 23:11, market-wide) vetoes from the 23:00 candle (close 00:00)
    crit = event_veto_series(events, dates, "1h", asset="BTC")
    first = crit.index[crit["event_veto"]][0]
    assert dates[first] == pd.Timestamp("2023-12-13 23:00", tz="UTC")
