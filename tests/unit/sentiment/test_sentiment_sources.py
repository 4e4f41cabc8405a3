import json
from datetime import UTC, datetime, timedelta

import pytest

from atb.errors import ConfigError, DataError
from atb.sentiment import CryptoPanicCollector, CsvNewsCollector, NewsCollector, RedditCollector, RssCollector
from atb.sentiment.assets import tag_assets

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def clock():
    return NOW


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Crypto Desk</title><link>https://news.example/</link><description>Crypto news</description>
  <item>
    <title>Ethereum developers schedule Dencun upgrade</title>
    <link>https://news.example/eth-dencun</link>
    <description>&lt;p&gt;Core devs set a date for &lt;b&gt;Dencun&lt;/b&gt;.&lt;/p&gt;</description>
    <pubDate>Thu, 29 Feb 2024 18:30:00 +0100</pubDate>
    <category>Ethereum</category>
  </item>
  <item>
    <title>Bitcoin tops $60K as ETF inflows surge</title>
    <link>https://news.example/btc-60k</link>
    <description>BTC rallies.</description>
    <pubDate>Thu, 29 Feb 2024 09:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Bitcoin tops $60K as ETF inflows surge</title>
    <link>https://news.example/btc-60k</link>
    <description>BTC rallies (duplicate entry).</description>
    <pubDate>Thu, 29 Feb 2024 09:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Fed minutes due today</title>
    <link>https://news.example/fed</link>
    <pubDate>Fri, 01 Mar 2024 13:00:00 GMT</pubDate>
  </item>
</channel>
</rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Solana Blog</title>
  <entry><title>Solana validators upgrade</title><link href="https://sol.example/1"/>
    <id>urn:1</id><updated>2024-02-28T10:00:00Z</updated><summary>SOL news</summary></entry>
</feed>"""


def test_rss_collector(server):
    server.raw("/feed.xml", RSS, ctype="application/rss+xml")
    collector = RssCollector(f"{server.url}/feed.xml", clock=clock)
    assert isinstance(collector, NewsCollector)
    items = collector.collect()
    assert [i.title for i in items] == [
        "Bitcoin tops $60K as ETF inflows surge", "Ethereum developers schedule Dencun upgrade",
        "Fed minutes due today"]
    btc, eth, fed = items
    assert btc.published_at == datetime(2024, 2, 29, 9, tzinfo=UTC) and btc.available_at == NOW
    assert eth.published_at == datetime(2024, 2, 29, 17, 30, tzinfo=UTC)  # +0100 converted to UTC
    assert eth.text == "Core devs set a date for Dencun ." and eth.raw_tags == ("Ethereum",)
    assert btc.assets == ("BTC",) and eth.assets == ("ETH",) and fed.assets == ()
    assert btc.source == "Crypto Desk" and btc.url == "https://news.example/btc-60k"
    # an item published after the fetch clock (clock skew) is available at its publication time
    assert fed.available_at == fed.published_at == datetime(2024, 3, 1, 13, tzinfo=UTC)
    assert server.requests[0]["headers"]["User-Agent"].startswith("atb-sentiment")


def test_atom_feed(server):
    server.raw("/atom", ATOM, ctype="application/atom+xml")
    (item,) = RssCollector(f"{server.url}/atom", clock=clock).collect()
    assert item.source == "Solana Blog" and item.assets == ("SOL",)
    assert item.published_at == datetime(2024, 2, 28, 10, tzinfo=UTC)


def test_rss_errors(server):
    server.raw("/html", "<html><body>Sorry, maintenance</body></html>", ctype="text/html")
    server.raw("/nodate", RSS.replace("<pubDate>Fri, 01 Mar 2024 13:00:00 GMT</pubDate>", ""))
    server.raw("/down", "oops", status=500)
    with pytest.raises(DataError, match="field <feed>: not an RSS/Atom document"):
        RssCollector(f"{server.url}/html", clock=clock).collect()
    with pytest.raises(DataError, match=r"Crypto Desk: field entries\[3\]\.published: missing"):
        RssCollector(f"{server.url}/nodate", clock=clock).collect()
    with pytest.raises(DataError, match="HTTP 500"):
        RssCollector(f"{server.url}/down", source="desk", clock=clock).collect()


def _post(i, title, published, currencies=(), **extra):
    return {"kind": "news", "title": title, "published_at": published, "url": f"https://cp.example/{i}",
            "source": {"title": "CoinDesk", "domain": "coindesk.com"},
            "currencies": [{"code": c, "title": c} for c in currencies],
            "votes": {"positive": i, "negative": 0, "important": 1}, **extra}


def test_cryptopanic_collector_paginates(server, monkeypatch):
    monkeypatch.setenv("CP_TOKEN", "secret-token")
    page1 = {"count": 3, "next": f"{server.url}/api/posts/?auth_token=secret-token&page=2", "previous": None,
             "results": [_post(1, "SEC delays spot ETH ETF decision", "2024-02-29T20:00:00Z", ["ETH"]),
                         _post(2, "Bitcoin miners sell ahead of halving", "2024-02-29T21:15:00+00:00")]}
    page2 = {"count": 3, "next": None, "previous": None,
             "results": [_post(3, "Market-wide liquidations top $500M", "2024-02-29T19:00:00Z"),
                         _post(1, "SEC delays spot ETH ETF decision", "2024-02-29T20:00:00Z", ["ETH"])]}
    _pages(server, "/api/posts/", [page1, page2])  # the same path serves page 1, then page 2
    items = CryptoPanicCollector(f"{server.url}/api/posts/", auth_token_env="CP_TOKEN",
                                 params={"kind": "news"}, clock=clock).collect()
    assert [i.title for i in items] == [
        "Market-wide liquidations top $500M", "SEC delays spot ETH ETF decision",
        "Bitcoin miners sell ahead of halving"]
    assert [i.assets for i in items] == [(), ("ETH",), ("BTC",)]  # currencies, else tagged from the title
    assert all(i.available_at == NOW for i in items) and items[1].source == "CoinDesk"
    assert "votes.positive=1" in items[1].raw_tags and "kind=news" in items[1].raw_tags
    q1, q2 = server.requests[0]["query"], server.requests[1]["query"]
    assert "auth_token=secret-token" in q1 and "kind=news" in q1 and "page=2" in q2


class _Dispatch(dict):
    """Routes where one path answers with successive JSON payloads."""

    def __init__(self, base, path, payloads):
        super().__init__(base)
        self.path, self.payloads = path, iter(payloads)

    def get(self, key, default=None):
        if key == self.path:
            return (200, "application/json", json.dumps(next(self.payloads)).encode())
        return super().get(key, default)


def _pages(server, path, payloads):
    server.routes = _Dispatch(server.routes, path, payloads)


def test_cryptopanic_errors(server, monkeypatch):
    monkeypatch.delenv("CP_MISSING", raising=False)
    with pytest.raises(ConfigError, match="CP_MISSING"):
        CryptoPanicCollector(server.url, auth_token_env="CP_MISSING").collect()
    bad = {"next": None, "results": [_post(1, "ok", "2024-02-29T20:00:00Z"),
                                     {"title": "no date", "source": {"title": "x"}}]}
    server.json("/bad", bad)
    with pytest.raises(DataError, match=r"cryptopanic: field page0\.results\[1\]\.published_at: missing"):
        CryptoPanicCollector(f"{server.url}/bad", auth_token_env=None).collect()
    server.json("/naive", {"next": None, "results": [_post(1, "t", "2024-02-29T20:00:00")]})
    with pytest.raises(DataError, match="has no timezone"):
        CryptoPanicCollector(f"{server.url}/naive", auth_token_env=None).collect()
    server.json("/shape", {"data": []})
    with pytest.raises(DataError, match=r"field <body>\.results: missing"):
        CryptoPanicCollector(f"{server.url}/shape", auth_token_env=None).collect()
    server.raw("/html", "<html>rate limited</html>")
    with pytest.raises(DataError, match="not JSON"):
        CryptoPanicCollector(f"{server.url}/html", auth_token_env=None).collect()
    server.json("/err", {"detail": "boom"}, status=500)
    with pytest.raises(DataError, match="HTTP 500"):
        CryptoPanicCollector(f"{server.url}/err", auth_token_env=None).collect()


def _listing(posts, after):
    return {"kind": "Listing", "data": {"after": after, "dist": len(posts), "children": [
        {"kind": "t3", "data": {"subreddit": "CryptoCurrency", "id": pid, "title": title, "selftext": body,
                                "created_utc": created, "permalink": f"/r/CryptoCurrency/comments/{pid}/x/",
                                "link_flair_text": "GENERAL-NEWS", "score": 10}}
        for pid, title, body, created in posts]}}


def test_reddit_collector_paginates(server):
    t1, t2, t3 = (datetime(2024, 2, 29, h, tzinfo=UTC).timestamp() for h in (10, 11, 9))
    _pages(server, "/r/CryptoCurrency/new.json", [
        _listing([("a1", "Solana outage again?", "Validators halted", t1),
                  ("a2", "Daily discussion", "", t2)], "t3_a2"),
        _listing([("a3", "XRP lawsuit update", "Ripple vs SEC", t3)], None)])
    items = RedditCollector(server.url, "CryptoCurrency", limit=2, clock=clock).collect()
    assert [i.title for i in items] == ["XRP lawsuit update", "Solana outage again?", "Daily discussion"]
    assert items[0].assets == ("XRP",) and items[1].assets == ("SOL",) and items[2].assets == ()
    assert items[1].published_at == datetime(2024, 2, 29, 10, tzinfo=UTC) and items[1].available_at == NOW
    assert items[1].url == "https://www.reddit.com/r/CryptoCurrency/comments/a1/x/"
    assert items[1].source == "reddit/r/CryptoCurrency" and "flair=GENERAL-NEWS" in items[1].raw_tags
    assert "after=t3_a2" in server.requests[1]["query"] and "limit=2" in server.requests[0]["query"]


def test_reddit_errors(server):
    server.json("/r/x/new.json", {"data": {"after": None, "children": [{"data": {"title": "t", "id": "1"}}]}})
    with pytest.raises(DataError, match=r"reddit/r/x: field page0\.data\.children\[0\]\.data\.created_utc"):
        RedditCollector(server.url, "x").collect()
    server.json("/r/y/new.json", {"data": {"children": "nope"}})
    with pytest.raises(DataError, match=r"field data\.children: unexpected type"):
        RedditCollector(server.url, "y").collect()
    server.raw("/r/z/new.json", "", status=500)
    with pytest.raises(DataError, match="HTTP 500"):
        RedditCollector(server.url, "z").collect()
    with pytest.raises(ConfigError, match="subreddit"):
        RedditCollector(server.url, "../etc")


def test_csv_collector_on_real_news(news_file, news_items):
    items = news_items
    assert len(items) == 386 and len({i.id for i in items}) == 386
    assert items[0].published_at == datetime(2023, 12, 12, 0, 3, tzinfo=UTC)
    assert items[-1].published_at == datetime(2023, 12, 19, 6, 40, tzinfo=UTC)
    assert all(i.available_at == i.published_at for i in items)
    assert [i.available_at for i in items] == sorted(i.available_at for i in items)
    def assets(title_start):
        (item,) = [i for i in items if i.title.startswith(title_start)]
        return item.assets

    # the summary of the first one mentions Cardano and BNB
    assert assets("Avalanche (AVAX) Soars by Another 14%, Bitcoin (BTC)") == ("ADA", "AVAX", "BNB", "BTC")
    assert assets("Buy the dip, sell the rip? BTC price levels") == ("BTC",)
    assert assets("Ether Supply Hits Lowest Level Since Shanghai") == ("ETH",)
    assert assets("Russian Central Bank Tempers Talk") == ()
    assert assets("Aurory’s USDC pool drained on Arbitrum") == ("ARB",)
    first = items[0]
    assert first.source == "CryptoNews" and first.raw_tags == ("altcoin",)
    # timezone and latency
    ny = CsvNewsCollector(news_file, timezone="America/New_York", latency=timedelta(minutes=15)).collect()
    assert ny[0].published_at == datetime(2023, 12, 12, 5, 3, tzinfo=UTC)
    assert ny[0].available_at == datetime(2023, 12, 12, 5, 18, tzinfo=UTC)


def test_csv_collector_errors(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("date,source,subject,title,text,url\n2024-01-01 10:00,S,btc,Title,t,u\n"
                    "yesterday,S,btc,Other,t,u\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2: column 'date': 'yesterday' is not a timestamp"):
        CsvNewsCollector(path).collect()
    path.write_text("when,title\n2024-01-01,x\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"missing column\(s\)"):
        CsvNewsCollector(path).collect()
    (item,) = CsvNewsCollector(path, columns={"published_at": "when", "title": "title"}).collect()
    assert item.source == "news" and item.published_at == datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ConfigError, match="timezone"):
        CsvNewsCollector(path, timezone="Mars/Olympus")
    with pytest.raises(ConfigError, match="latency"):
        CsvNewsCollector(path, latency=timedelta(minutes=-1))


def test_tag_assets_word_boundaries_and_custom_aliases():
    assert tag_assets("ETHBTC and Ethereum, $sol, SOL, LINK vs link") == ("ETH", "LINK", "SOL")
    assert tag_assets("Bitcoin Cash and bitcoin") == ("BCH", "BTC")
    assert tag_assets("Dogecoin", {"DOGE": ("dogecoin",)}) == ("DOGE",)
    assert tag_assets("anything", {}) == ()
