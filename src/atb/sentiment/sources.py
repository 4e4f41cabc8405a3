"""News collectors: RSS/Atom feeds, CryptoPanic-style and Reddit-style JSON APIs, and CSV files.

Every collector returns ``list[NewsItem]`` sorted by ``available_at`` and de-duplicated by id, or raises
:class:`~atb.errors.DataError` naming the source and the field: never a partial result.

Availability (the no-lookahead contract): live collectors stamp ``available_at`` with the injected clock
at fetch time (at least ``published_at``); the CSV collector sets ``available_at = published_at + latency``.
"""

from __future__ import annotations

import csv
import html
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atb.core.extras import require
from atb.errors import ConfigError, DataError
from atb.sentiment._http import finish, request_bytes, request_json, utc_now
from atb.sentiment.assets import tag_assets
from atb.sentiment.models import NewsItem
from atb.sentiment.ports import Clock

__all__ = [
    "DEFAULT_CSV_COLUMNS", "CryptoPanicCollector", "CsvNewsCollector", "RedditCollector", "RssCollector",
]

_TAG = re.compile(r"<[^>]+>")
_Aliases = Mapping[str, tuple[str, ...]] | None


def _strip_html(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str, source: str) -> Any:
    """Return ``obj[key]`` checked against ``kind``; missing or wrong type -> DataError naming the field."""
    if not isinstance(obj, dict):
        raise DataError(f"{source}: field {where}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise DataError(f"{source}: field {where}.{key}: missing")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{source}: field {where}.{key}: unexpected type {type(value).__name__}")
    return value


def _parse_iso(value: str, field: str, source: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise DataError(f"{source}: field {field}: {value!r} is not an ISO 8601 time") from exc
    if dt.tzinfo is None:
        raise DataError(f"{source}: field {field}: {value!r} has no timezone")
    return dt.astimezone(UTC)


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{name}: {value} must be > 0")


class RssCollector:
    """Items of one RSS/Atom feed, parsed with ``feedparser`` from bytes fetched by ``requests``.

    Parameters
    ----------
    url : str
        Feed URL.
    source : str, optional
        Source name; defaults to the feed's title, else the URL host.
    timeout : float
        Seconds for the HTTP request.
    clock : Clock, optional
        Returns "now" (UTC) for ``available_at``; defaults to the wall clock.
    aliases : Mapping, optional
        Asset aliases for :func:`~atb.sentiment.assets.tag_assets`.

    Notes
    -----
    ``published_at`` is the entry's ``published`` time, else ``updated`` (feedparser normalises both to
    UTC); an entry with neither, or without a title, is a malformed payload (DataError).
    """

    def __init__(self, url: str, *, source: str | None = None, timeout: float = 10.0,
                 clock: Clock | None = None, aliases: _Aliases = None) -> None:
        _check_positive("timeout", timeout)
        self.url, self.source, self.timeout = url, source, timeout
        self._clock, self._aliases = clock or utc_now, aliases

    def collect(self) -> list[NewsItem]:
        """Fetch and parse the feed; see the class notes."""
        feedparser = require("feedparser", "sentiment", "RssCollector")
        name = self.source or urlparse(self.url).netloc or self.url
        raw = request_bytes("GET", self.url, source=name, timeout=self.timeout,
                            headers={"User-Agent": "atb-sentiment/0.1"})
        fetched = self._clock()
        parsed = feedparser.parse(raw)
        if not parsed.get("version"):
            raise DataError(f"{name}: field <feed>: not an RSS/Atom document "
                            f"({parsed.get('bozo_exception', 'unknown format')})")
        name = self.source or parsed.feed.get("title") or name
        items = []
        for i, entry in enumerate(parsed.entries):
            title = _strip_html(str(entry.get("title") or ""))
            if not title:
                raise DataError(f"{name}: field entries[{i}].title: missing")
            when = entry.get("published_parsed") or entry.get("updated_parsed")
            if when is None:
                raise DataError(f"{name}: field entries[{i}].published: missing or unparseable")
            published = datetime(when[0], when[1], when[2], when[3], when[4], when[5], tzinfo=UTC)
            text = _strip_html(str(entry.get("summary") or ""))
            tags = tuple(str(t.get("term")) for t in entry.get("tags", []) if t.get("term"))
            items.append(NewsItem.create(
                source=name, title=title, text=text, url=str(entry.get("link") or ""),
                published_at=published, available_at=max(fetched, published),
                assets=tag_assets(f"{title} {text}", self._aliases), raw_tags=tags))
        return finish(items)


class CryptoPanicCollector:
    """Posts from a CryptoPanic-style API (``GET base_url`` -> ``{"results": [...], "next": url|null}``).

    Each result needs ``title``, ``published_at`` (ISO 8601 with zone) and ``source.title``; ``url``,
    ``description``, ``currencies[].code``, ``votes`` and ``kind`` are optional. Assets are the
    ``currencies`` codes when given, else tagged from the title. Pages are followed through ``next``
    up to ``max_pages``.

    Parameters
    ----------
    base_url : str
        Posts endpoint, e.g. ``https://cryptopanic.com/api/developer/v2/posts/``.
    auth_token_env : str or None
        Environment variable holding the API token (sent as ``auth_token``); ``None`` sends none.
    params : Mapping, optional
        Extra query parameters of the first request (``{"currencies": "BTC", "kind": "news"}``).
    max_pages, timeout, clock, aliases
        Page limit, seconds per request, "now" for ``available_at``, asset aliases.

    Raises
    ------
    ConfigError
        ``auth_token_env`` is set but the variable is missing (on :meth:`collect`).
    """

    def __init__(self, base_url: str, *, auth_token_env: str | None = "CRYPTOPANIC_AUTH_TOKEN",
                 params: Mapping[str, str] | None = None, max_pages: int = 10, timeout: float = 10.0,
                 clock: Clock | None = None, aliases: _Aliases = None, source: str = "cryptopanic") -> None:
        _check_positive("timeout", timeout)
        _check_positive("max_pages", max_pages)
        self.base_url, self.auth_token_env, self.params = base_url, auth_token_env, dict(params or {})
        self.max_pages, self.timeout, self.source = max_pages, timeout, source
        self._clock, self._aliases = clock or utc_now, aliases

    def collect(self) -> list[NewsItem]:
        """Fetch every page (up to ``max_pages``) and return the items."""
        params: dict[str, Any] = dict(self.params)
        if self.auth_token_env is not None:
            token = os.environ.get(self.auth_token_env)
            if not token:
                raise ConfigError(f"auth_token_env: environment variable {self.auth_token_env} is not set")
            params["auth_token"] = token
        url: str | None = self.base_url
        items: list[NewsItem] = []
        for page in range(self.max_pages):
            if url is None:
                break
            payload = request_json("GET", url, source=self.source, timeout=self.timeout,
                                   params=params if page == 0 else None)
            fetched = self._clock()
            results = _get(payload, "results", list, "<body>", self.source)
            items += [self._item(r, f"page{page}.results[{i}]", fetched) for i, r in enumerate(results)]
            nxt = payload.get("next")
            if nxt is not None and not isinstance(nxt, str):
                raise DataError(f"{self.source}: field page{page}.next: expected a URL or null")
            url = urljoin(url, nxt) if nxt else None
        return finish(items)

    def _item(self, r: Any, where: str, fetched: datetime) -> NewsItem:
        title = _get(r, "title", str, where, self.source).strip()
        published = _parse_iso(_get(r, "published_at", str, where, self.source), f"{where}.published_at",
                               self.source)
        src = _get(_get(r, "source", dict, where, self.source), "title", str, f"{where}.source", self.source)
        codes = []
        for j, cur in enumerate(r.get("currencies") or []):
            codes.append(_get(cur, "code", str, f"{where}.currencies[{j}]", self.source).upper())
        votes = r.get("votes") or {}
        if not isinstance(votes, dict):
            raise DataError(f"{self.source}: field {where}.votes: expected an object")
        tags = tuple(codes) + tuple(f"votes.{k}={v}" for k, v in sorted(votes.items()))
        tags += (f"kind={r['kind']}",) if isinstance(r.get("kind"), str) else ()
        url = r.get("url") or r.get("original_url") or ""
        if not isinstance(url, str):
            raise DataError(f"{self.source}: field {where}.url: expected a string")
        text = str(r.get("description") or "")
        return NewsItem.create(source=src, title=title, text=text, url=url, published_at=published,
                               available_at=max(fetched, published),
                               assets=tuple(codes) or tag_assets(f"{title} {text}", self._aliases),
                               raw_tags=tags)


class RedditCollector:
    """Posts of one subreddit from a Reddit-style listing (``GET {base_url}/r/{subreddit}/{listing}.json``).

    The listing is ``{"data": {"children": [{"data": {...}}], "after": str|null}}``; each post needs
    ``title``, ``created_utc`` (epoch seconds), ``permalink`` and ``id``; ``selftext`` is the text. Pages
    are followed through ``after`` up to ``max_pages``.

    Parameters
    ----------
    base_url : str
        API root, e.g. ``https://www.reddit.com`` or ``https://oauth.reddit.com``.
    subreddit : str
        Name without ``r/``.
    listing : str
        ``"new"`` (default), ``"hot"`` or ``"top"``.
    site_url : str
        Root joined with ``permalink`` to build item URLs.
    limit, max_pages, timeout, clock, aliases, user_agent
        Posts per page, page limit, seconds per request, "now" for ``available_at``, asset aliases,
        the User-Agent header Reddit requires.
    """

    def __init__(self, base_url: str, subreddit: str, *, listing: str = "new", limit: int = 100,
                 max_pages: int = 3, timeout: float = 10.0, clock: Clock | None = None,
                 aliases: _Aliases = None, site_url: str = "https://www.reddit.com",
                 user_agent: str = "atb-sentiment/0.1") -> None:
        if not re.fullmatch(r"\w+", subreddit):
            raise ConfigError(f"subreddit: {subreddit!r} is not a subreddit name")
        for name, value in (("timeout", timeout), ("limit", limit), ("max_pages", max_pages)):
            _check_positive(name, value)
        self.base_url, self.subreddit, self.listing = base_url.rstrip("/"), subreddit, listing
        self.limit, self.max_pages, self.timeout = limit, max_pages, timeout
        self.site_url, self.user_agent, self.source = site_url, user_agent, f"reddit/r/{subreddit}"
        self._clock, self._aliases = clock or utc_now, aliases

    def collect(self) -> list[NewsItem]:
        """Fetch the listing pages and return the posts."""
        url = f"{self.base_url}/r/{self.subreddit}/{self.listing}.json"
        after: str | None = None
        items: list[NewsItem] = []
        for page in range(self.max_pages):
            params: dict[str, Any] = {"limit": self.limit, "raw_json": 1}
            if after:
                params["after"] = after
            payload = request_json("GET", url, source=self.source, timeout=self.timeout, params=params,
                                   headers={"User-Agent": self.user_agent})
            fetched = self._clock()
            data = _get(payload, "data", dict, "<body>", self.source)
            children = _get(data, "children", list, "data", self.source)
            items += [self._item(c, f"page{page}.data.children[{i}]", fetched)
                      for i, c in enumerate(children)]
            after = data.get("after")
            if after is not None and not isinstance(after, str):
                raise DataError(f"{self.source}: field page{page}.data.after: expected a string or null")
            if not after:
                break
        return finish(items)

    def _item(self, child: Any, where: str, fetched: datetime) -> NewsItem:
        d = _get(child, "data", dict, where, self.source)
        where = f"{where}.data"
        title = _get(d, "title", str, where, self.source).strip()
        created = _get(d, "created_utc", (int, float), where, self.source)
        try:
            published = datetime.fromtimestamp(float(created), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DataError(f"{self.source}: field {where}.created_utc: {created!r} out of range") from exc
        permalink = _get(d, "permalink", str, where, self.source)
        _get(d, "id", str, where, self.source)
        text = d.get("selftext") or ""
        if not isinstance(text, str):
            raise DataError(f"{self.source}: field {where}.selftext: expected a string")
        sub = d.get("subreddit") if isinstance(d.get("subreddit"), str) else self.subreddit
        flair = d.get("link_flair_text")
        tags = (f"r/{sub}",) + ((f"flair={flair}",) if isinstance(flair, str) and flair else ())
        return NewsItem.create(source=self.source, title=title, text=text,
                               url=urljoin(self.site_url, permalink), published_at=published,
                               available_at=max(fetched, published),
                               assets=tag_assets(f"{title} {text}", self._aliases), raw_tags=tags)


#: Field -> CSV column for the shared crypto news file (``../shared/data/news/crypto_news_2023-12.csv``).
DEFAULT_CSV_COLUMNS: Mapping[str, str] = {
    "published_at": "date", "source": "source", "title": "title", "text": "text", "url": "url",
    "tags": "subject",
}


class CsvNewsCollector:
    """News items from a CSV file; ``available_at = published_at + latency``.

    Parameters
    ----------
    path : Path
        UTF-8 CSV with a header.
    timezone : str
        IANA zone of timestamps written without an offset (``"UTC"``, ``"America/New_York"``);
        timestamps with an offset are converted to UTC.
    latency : timedelta
        Delay between publication and when atb could have seen the item (>= 0).
    columns : Mapping[str, str], optional
        Field -> column name; fields ``published_at`` and ``title`` are required, ``source``, ``text``,
        ``url``, ``tags`` optional. Defaults to :data:`DEFAULT_CSV_COLUMNS`.
    source : str, optional
        Source name used when there is no source column (default: the file stem).
    aliases : Mapping, optional
        Asset aliases for :func:`~atb.sentiment.assets.tag_assets`.

    Raises
    ------
    ConfigError
        Unknown timezone, negative latency or an unknown field in ``columns``.
    """

    def __init__(self, path: Path, *, timezone: str = "UTC", latency: timedelta = timedelta(0),
                 columns: Mapping[str, str] | None = None, source: str | None = None,
                 aliases: _Aliases = None) -> None:
        try:
            self._tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"timezone: {timezone!r} is not an IANA timezone") from exc
        if latency < timedelta(0):
            raise ConfigError(f"latency: {latency} must be >= 0")
        self.columns = dict(DEFAULT_CSV_COLUMNS if columns is None else columns)
        unknown = set(self.columns) - set(DEFAULT_CSV_COLUMNS)
        if unknown or not {"published_at", "title"} <= set(self.columns):
            raise ConfigError(f"columns: fields must include published_at and title and be among "
                              f"{sorted(DEFAULT_CSV_COLUMNS)}; got {sorted(self.columns)}")
        self.path, self.timezone, self.latency = Path(path), timezone, latency
        self.source, self._aliases = source, aliases

    def collect(self) -> list[NewsItem]:
        """Read every row; a bad row raises DataError naming the file, row and column."""
        try:
            with self.path.open(encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                missing = sorted(set(self.columns.values()) - set(reader.fieldnames or []))
                if missing:
                    raise DataError(f"{self.path}: missing column(s) {missing}")
                items = [self._item(row, n) for n, row in enumerate(reader, start=1)]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise DataError(f"{self.path}: cannot read news file ({exc})") from exc
        return finish(items)

    def _item(self, row: dict[str, str | None], n: int) -> NewsItem:
        def cell(field: str) -> str:
            col = self.columns.get(field)
            return (row.get(col) or "").strip() if col else ""

        raw_date, title = cell("published_at"), cell("title")
        if not title:
            raise DataError(f"{self.path}: row {n}: column {self.columns['title']!r} is empty")
        try:
            dt = datetime.fromisoformat(raw_date.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DataError(f"{self.path}: row {n}: column {self.columns['published_at']!r}: "
                            f"{raw_date!r} is not a timestamp") from exc
        published = (dt if dt.tzinfo else dt.replace(tzinfo=self._tz)).astimezone(UTC)
        text, tags = cell("text"), cell("tags")
        return NewsItem.create(source=cell("source") or self.source or self.path.stem, title=title, text=text,
                               url=cell("url"), published_at=published, available_at=published + self.latency,
                               assets=tag_assets(f"{title} {text}", self._aliases),
                               raw_tags=(tags,) if tags else ())
