"""Frozen records of the sentiment context: news items as collected and news items as scored.

Every item carries two UTC times: ``published_at`` (what the source claims) and ``available_at``
(when atb could first have seen it: the fetch time for live collectors, ``published_at + latency`` for
historical files). Only ``available_at`` may decide which candles an item can influence.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum

from atb.errors import DataError

__all__ = ["LABELS", "Event", "EventCategory", "NewsItem", "ScoredItem", "Severity", "make_item_id"]

#: Sentiment class names every scorer emits, in the column order of probability arrays.
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


def make_item_id(source: str, url: str, title: str) -> str:
    r"""Return the stable id of a news item: SHA-256 of ``source``, ``url`` and ``title``.

    The three fields are joined with a unit separator (``\\x1f``) and hashed; the first 16 hex
    characters are kept. The id does not depend on times, so the same story seen twice (two fetches,
    two pages) de-duplicates.

    Examples
    --------
    >>> make_item_id("CoinTelegraph", "https://x.test/a", "Bitcoin up")
    '870e31b27dc71006'
    """
    key = "\x1f".join((source.strip(), url.strip(), title.strip()))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _check_utc(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise DataError(f"{name}: expected a datetime, got {type(value).__name__}")
    offset = value.utcoffset()
    if offset is None:
        raise DataError(f"{name}: naive datetime {value.isoformat()} (times must be tz-aware UTC)")
    if offset != timedelta(0):
        raise DataError(f"{name}: {value.isoformat()} is not UTC (convert with .astimezone(UTC))")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewsItem:
    """One news headline or post as collected, with the time atb could first have seen it.

    Attributes
    ----------
    id : str
        Stable hash of source, url and title (:func:`make_item_id`); de-duplication key.
    source : str
        Publisher or feed name (``"CoinTelegraph"``, ``"reddit/r/CryptoCurrency"``).
    title : str
        Headline.
    text : str
        Body, summary or self-text (may be empty).
    url : str
        Link to the item (may be empty when the source gives none).
    published_at : datetime
        Publication time claimed by the source, tz-aware UTC.
    available_at : datetime
        When atb could first have seen the item, tz-aware UTC, ``>= published_at``.
    assets : tuple[str, ...]
        Base assets the item is about (``("BTC", "ETH")``), sorted; empty = market-wide.
    raw_tags : tuple[str, ...]
        Tags as given by the source (subject, subreddit, vote counts as ``"votes.positive=3"``).

    Raises
    ------
    DataError
        A time is naive or not UTC, ``available_at < published_at``, or a text field is not a string;
        the message names the field.
    """

    id: str
    source: str
    title: str
    text: str
    url: str
    published_at: datetime
    available_at: datetime
    assets: tuple[str, ...] = ()
    raw_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("id", "source", "title", "text", "url"):
            if not isinstance(getattr(self, name), str):
                raise DataError(f"NewsItem.{name}: expected str, got {type(getattr(self, name)).__name__}")
        if not self.id:
            raise DataError("NewsItem.id: empty")
        _check_utc("NewsItem.published_at", self.published_at)
        _check_utc("NewsItem.available_at", self.available_at)
        if self.available_at < self.published_at:
            raise DataError(f"NewsItem.available_at: {self.available_at.isoformat()} is before "
                            f"published_at {self.published_at.isoformat()} (item {self.id})")
        if not all(isinstance(a, str) and a for a in self.assets):
            raise DataError(f"NewsItem.assets: expected non-empty strings, got {self.assets!r}")

    @classmethod
    def create(cls, *, source: str, title: str, text: str, url: str, published_at: datetime,
               available_at: datetime | None = None, assets: tuple[str, ...] = (),
               raw_tags: tuple[str, ...] = ()) -> NewsItem:
        """Build an item with its id computed from source, url and title.

        ``available_at`` defaults to ``published_at`` (no latency). Times given in another timezone
        are converted to UTC; naive times raise :class:`DataError`.
        """
        if isinstance(published_at, datetime) and published_at.tzinfo is not None:
            published_at = published_at.astimezone(UTC)
        if isinstance(available_at, datetime) and available_at.tzinfo is not None:
            available_at = available_at.astimezone(UTC)
        return cls(id=make_item_id(source, url, title), source=source, title=title, text=text, url=url,
                   published_at=published_at,
                   available_at=published_at if available_at is None else available_at,
                   assets=tuple(sorted(set(assets))), raw_tags=tuple(raw_tags))

    @property
    def content(self) -> str:
        """Title and text joined by ``". "`` (what scorers and detectors read)."""
        return f"{self.title}. {self.text}" if self.text else self.title


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredItem:
    """A news item with the score a :class:`~atb.sentiment.ports.SentimentScorer` gave it.

    Attributes
    ----------
    item : NewsItem
        The scored item.
    score : float
        Sentiment in [-1, 1] (negative .. positive).
    label : str
        One of :data:`LABELS`.
    probabilities : Mapping[str, float]
        Class probabilities keyed by label, summing to 1; empty for scorers without probabilities
        (VADER).
    scorer : str
        Name of the scorer that produced the score.

    Raises
    ------
    DataError
        Score outside [-1, 1] or NaN, or unknown label; the message names the field and the item id.
    """

    item: NewsItem
    score: float
    label: str
    probabilities: Mapping[str, float] = field(default_factory=dict)
    scorer: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.score, float | int) or math.isnan(self.score) or not -1.0 <= self.score <= 1.0:
            raise DataError(f"ScoredItem.score: {self.score!r} outside [-1, 1] (item {self.item.id})")
        if self.label not in LABELS:
            raise DataError(f"ScoredItem.label: {self.label!r} not in {LABELS} (item {self.item.id})")
        unknown = set(self.probabilities) - set(LABELS)
        if unknown:
            raise DataError(f"ScoredItem.probabilities: unknown labels {sorted(unknown)} "
                            f"(item {self.item.id})")


class EventCategory(StrEnum):
    """Kind of market-moving event detected in news."""

    HACK = "hack"
    REGULATION = "regulation"
    TOKEN_UNLOCK = "token_unlock"
    LISTING = "listing"
    DELISTING = "delisting"
    OUTAGE = "outage"


class Severity(IntEnum):
    """Ordered event severity (``Severity.CRITICAL > Severity.HIGH``); the int is what series store."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A market-moving event detected in one news item.

    Attributes
    ----------
    category : EventCategory
        What happened.
    severity : Severity
        How bad, LOW .. CRITICAL.
    assets : tuple[str, ...]
        Base assets concerned, sorted; empty = market-wide.
    published_at, available_at : datetime
        Times of the news item (tz-aware UTC); only ``available_at`` decides which candles see the event.
    title : str
        Headline of the item.
    source : str
        Source of the item.
    detector : str
        ``"rules"`` or ``"llm"``.
    item_id : str
        Id of the news item.
    evidence : tuple[str, ...]
        Matched keywords / amount (rules) or ``("llm",)``.

    Raises
    ------
    DataError
        Naive/non-UTC times, ``available_at < published_at`` or an unknown detector.
    """

    category: EventCategory
    severity: Severity
    assets: tuple[str, ...]
    published_at: datetime
    available_at: datetime
    title: str
    source: str
    detector: str
    item_id: str
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_utc("Event.published_at", self.published_at)
        _check_utc("Event.available_at", self.available_at)
        if self.available_at < self.published_at:
            raise DataError(f"Event.available_at: before published_at (item {self.item_id})")
        if self.detector not in ("rules", "llm"):
            raise DataError(f"Event.detector: {self.detector!r} is not 'rules' or 'llm'")
        if not isinstance(self.category, EventCategory) or not isinstance(self.severity, Severity):
            raise DataError(f"Event.category/severity: expected EventCategory/Severity (item {self.item_id})")

    @classmethod
    def from_item(cls, item: NewsItem, *, category: EventCategory, severity: Severity, detector: str,
                  assets: tuple[str, ...] | None = None, evidence: tuple[str, ...] = ()) -> Event:
        """Build an event carrying the item's times, title and source (assets default to the item's)."""
        return cls(category=category, severity=severity,
                   assets=item.assets if assets is None else tuple(sorted(set(assets))),
                   published_at=item.published_at, available_at=item.available_at, title=item.title,
                   source=item.source, detector=detector, item_id=item.id, evidence=evidence)
