"""Rule-based detection of market-moving events in news, optional LLM refinement, and a veto series.

Rules table (keywords are case-insensitive regular expressions with word boundaries, except the
upper-case agency acronyms; they search title and text, except listing/delisting, which search the title
only; a category's severity is the highest of its matched rules):

============  ====================================================================  ==========
category      keywords                                                              severity
============  ====================================================================  ==========
hack          hack(ed/s/er), exploit(ed), drained, heist, stolen, breach, rug pull  HIGH
regulation    SEC, CFTC, DOJ, lawsuit, sue(d/s), ban(s/ned), enforcement,           MEDIUM
              crackdown, charged, indicted, subpoena, fined, sanction(s/ed)
token_unlock  token unlock(s), unlock(s/ed) of ... tokens, vesting                  MEDIUM
listing       lists, listed, listing(s), adds trading pairs                          LOW
delisting     delist(s/ed/ing), removes trading pairs                               HIGH
outage        halted/suspended/paused/frozen withdrawals (either order)             HIGH
outage        outage, downtime, maintenance, network/chain halt, technical issue    MEDIUM
============  ====================================================================  ==========

Escalation: a dollar amount of at least ``escalate_amount_usd`` (default $100 million, e.g. "$100 million",
"$1.5B") in a hack, regulation or token-unlock item raises the severity one level (an exchange hack with a
large loss becomes CRITICAL); a delisting that names a specific asset is CRITICAL for that asset.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from atb.errors import ConfigError, DataError
from atb.sentiment.models import Event, EventCategory, NewsItem, Severity
from atb.sentiment.ports import EventClassifier
from atb.sentiment.signal import _close_times_ns

__all__ = ["DEFAULT_RULES", "EventDetector", "EventRule", "detect", "event_veto_series", "parse_usd_amounts"]

logger = logging.getLogger(__name__)

_CI = re.IGNORECASE


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRule:
    """One keyword rule: a compiled pattern, its category and the severity it implies."""

    category: EventCategory
    pattern: re.Pattern[str]
    severity: Severity
    title_only: bool = False


def _rule(category: EventCategory, pattern: str, severity: Severity, flags: int = _CI, *,
          title_only: bool = False) -> EventRule:
    return EventRule(category=category, pattern=re.compile(pattern, flags), severity=severity,
                     title_only=title_only)


_C = EventCategory
_S = Severity
#: The default rules table (see the module docstring).
DEFAULT_RULES: tuple[EventRule, ...] = (
    _rule(_C.HACK, r"\b(?:hack(?:ed|s|ers?)?|exploit(?:ed|s)?|drained|heist|stolen|breach(?:ed)?|"
                   r"rug[- ]?pull(?:ed)?)\b", _S.HIGH),
    _rule(_C.REGULATION, r"\b(?:SEC|CFTC|DOJ)\b", _S.MEDIUM, 0),
    _rule(_C.REGULATION, r"\b(?:lawsuits?|sue[ds]?|suing|ban(?:s|ned)?|enforcement|crackdown|charged|"
                         r"indict(?:ed|ment)|subpoena(?:ed|s)?|fined|sanction(?:s|ed)?)\b", _S.MEDIUM),
    _rule(_C.TOKEN_UNLOCK, r"\b(?:token\s+unlocks?|unlock(?:s|ed|ing)?\b.{0,40}\btokens?|vesting)\b",
          _S.MEDIUM),
    _rule(_C.LISTING, r"\b(?:lists|listed|listings?|adds?\s+(?:\w+\s+)?trading\s+pairs?)\b", _S.LOW,
          title_only=True),
    _rule(_C.DELISTING, r"\b(?:delist(?:s|ed|ing|ings)?|removes?\s+(?:\w+\s+)?trading\s+pairs?)\b", _S.HIGH,
          title_only=True),
    _rule(_C.OUTAGE, r"\b(?:halt(?:s|ed)?|suspend(?:s|ed)?|paus(?:e|es|ed)|freez(?:e|es)|froze|frozen)\b"
                     r"[^.]{0,30}\bwithdrawals?\b|\bwithdrawals?\b[^.]{0,20}\b(?:halted|suspended|paused|"
                     r"frozen|disabled)\b", _S.HIGH),
    _rule(_C.OUTAGE, r"\b(?:outages?|downtime|maintenance|technical\s+(?:issues?|glitch(?:es)?)|"
                     r"(?:network|chain|blockchain|mainnet)\s+(?:halt(?:s|ed)?|stall(?:s|ed)?|down))\b",
          _S.MEDIUM),
)

_AMOUNT = re.compile(r"\$\s?(\d[\d,]*(?:\.\d+)?)\s?(k|thousand|m|mn|mln|million|b|bn|billion)?\b", _CI)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9}
_ESCALATING = frozenset({_C.HACK, _C.REGULATION, _C.TOKEN_UNLOCK})


def parse_usd_amounts(text: str) -> list[float]:
    """Return the dollar amounts written in ``text``, in USD.

    Examples
    --------
    >>> parse_usd_amounts("Hackers stole $100 million; a $1.5B fine and $42K bitcoin")
    [100000000.0, 1500000000.0, 42000.0]
    """
    out = []
    for m in _AMOUNT.finditer(text):
        try:
            value = float(m.group(1).replace(",", ""))
        except ValueError:  # pragma: no cover - the pattern only admits digits
            continue
        out.append(value * _SCALE.get((m.group(2) or "").lower(), 1.0))
    return out


class EventDetector:
    """Keyword rules -> events (detector ``"rules"``); see the module docstring for the table.

    Parameters
    ----------
    rules : Sequence[EventRule]
        Rules table; defaults to :data:`DEFAULT_RULES`.
    escalate_amount_usd : float
        Dollar amount (USD) from which hack/regulation/unlock severities rise one level.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> item = NewsItem.create(source="x", title="Exchange hacked, $120 million drained", text="", url="",
    ...                        published_at=datetime(2024, 1, 1, tzinfo=UTC))
    >>> [(e.category.value, e.severity.name) for e in EventDetector().detect_item(item)]
    [('hack', 'CRITICAL')]
    """

    def __init__(self, rules: Sequence[EventRule] = DEFAULT_RULES, *,
                 escalate_amount_usd: float = 100e6) -> None:
        if not escalate_amount_usd > 0:
            raise ConfigError(f"escalate_amount_usd: {escalate_amount_usd} must be > 0")
        self.rules = tuple(rules)
        self.escalate_amount_usd = escalate_amount_usd

    def detect_item(self, item: NewsItem) -> list[Event]:
        """Return the events of one item, at most one per category, ordered by category."""
        text = item.content
        found: dict[EventCategory, tuple[Severity, list[str]]] = {}
        for rule in self.rules:
            m = rule.pattern.search(item.title if rule.title_only else text)
            if m is None:
                continue
            sev, evidence = found.get(rule.category, (Severity.LOW, []))
            found[rule.category] = (max(sev, rule.severity), [*evidence, m.group(0)])
        if not found:
            return []
        amount = max(parse_usd_amounts(text), default=0.0)
        events = []
        for cat, (sev, evidence) in sorted(found.items()):
            if cat in _ESCALATING and amount >= self.escalate_amount_usd:
                sev = Severity(min(Severity.CRITICAL, sev + 1))
                evidence = [*evidence, f"${amount:,.0f}"]
            if cat is EventCategory.DELISTING and item.assets:
                sev = Severity.CRITICAL
            events.append(Event.from_item(item, category=cat, severity=sev, detector="rules",
                                          evidence=tuple(evidence)))
        return events

    def detect(self, items: Sequence[NewsItem]) -> list[Event]:
        """Return the events of all items, sorted by ``available_at``."""
        return sorted((e for it in items for e in self.detect_item(it)), key=lambda e: e.available_at)


def detect(items: Sequence[NewsItem], llm: EventClassifier | None = None, *,
           detector: EventDetector | None = None) -> list[Event]:
    """Detect events with rules; when ``llm`` is given, let it refine every item the rules flagged.

    For each flagged item the LLM's answer replaces the rule events (its event, or none if it says the
    item reports no event). If the LLM fails (:class:`DataError`: transport error, HTTP error, invalid
    answer) the rule events are kept and a warning is logged through :mod:`logging`.

    Returns
    -------
    list[Event]
        Sorted by ``available_at``.
    """
    detector = detector or EventDetector()
    events: list[Event] = []
    for item in items:
        found = detector.detect_item(item)
        if found and llm is not None:
            try:
                refined = llm.classify(item)
            except DataError as exc:
                logger.warning("LLM event classification failed for %s (%s); using rules", item.id, exc)
            else:
                found = [] if refined is None else [refined]
        events += found
    return sorted(events, key=lambda e: e.available_at)


def event_veto_series(events: Sequence[Event], candle_dates: pd.Series, timeframe: str, *, asset: str | None,
                      min_severity: Severity = Severity.CRITICAL, hold: timedelta = timedelta(hours=24),
                      include_market_wide: bool = True) -> pd.DataFrame:
    """Per candle, whether a severe event became available in the last ``hold`` before its close.

    Parameters
    ----------
    events : Sequence[Event]
        Detected events (any order).
    candle_dates : pandas.Series
        Candle OPEN times, tz-aware UTC, shape (n_candles,); row ``t`` is decided at
        ``close_t = date_t + timeframe``.
    timeframe : str
        Candle length.
    asset : str or None
        Base asset; events tagged with it count (plus market-wide ones if ``include_market_wide``);
        ``None`` counts every event.
    min_severity : Severity
        Lowest severity that vetoes.
    hold : timedelta
        How long an event keeps vetoing: window ``(close_t - hold, close_t]`` on ``available_at``.
    include_market_wide : bool
        Whether events without assets count for ``asset``.

    Returns
    -------
    pandas.DataFrame
        Index of ``candle_dates``; ``event_veto`` (bool: an event with severity >= ``min_severity`` in the
        window) and ``event_max_severity`` (int64: highest severity in the window, 0 when none).
    """
    if hold <= timedelta(0):
        raise ConfigError(f"hold: {hold} must be > 0")
    close = _close_times_ns(candle_dates, timeframe)
    chosen = [e for e in events
              if asset is None or asset in e.assets or (include_market_wide and not e.assets)]
    chosen.sort(key=lambda e: e.available_at)
    avail = np.array([pd.Timestamp(e.available_at).as_unit("ns").value for e in chosen], dtype=np.int64)
    sev = np.array([int(e.severity) for e in chosen], dtype=np.int64)
    hi = np.searchsorted(avail, close, side="right")
    lo = np.searchsorted(avail, close - int(hold / timedelta(microseconds=1)) * 1000, side="right")
    max_sev = np.zeros(len(close), dtype=np.int64)
    for row in np.flatnonzero(hi > lo):
        max_sev[row] = sev[lo[row]:hi[row]].max()
    return pd.DataFrame({"event_veto": max_sev >= int(min_severity), "event_max_severity": max_sev},
                        index=candle_dates.index)
