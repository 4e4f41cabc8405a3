"""Ports of the sentiment context: scorers turn texts into scores, collectors fetch news items.

Adapters: :class:`~atb.sentiment.scoring.VaderScorer`, :class:`~atb.sentiment.classifier.FinanceClassifier`,
:class:`~atb.sentiment.transformer.TransformersScorer` (scorers); the collectors in
:mod:`atb.sentiment.sources`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from atb.sentiment.models import Event, NewsItem

__all__ = ["Clock", "EventClassifier", "NewsCollector", "ProbabilisticScorer", "SentimentScorer"]

#: Returns the current time, tz-aware UTC; injected into live collectors so tests control "now".
Clock = Callable[[], datetime]


@runtime_checkable
class SentimentScorer(Protocol):
    """Scores texts for sentiment.

    Contract: ``score`` returns float64 of shape ``(len(texts),)`` with values in [-1, 1]
    (negative .. positive); ``classify`` returns one of ``"positive"``, ``"neutral"``, ``"negative"``
    per text. Both are pure functions of the texts (no time, no network).
    """

    @property
    def name(self) -> str:
        """Short scorer name recorded with every score (``"vader"``, ``"finance-tfidf-logreg"``)."""
        ...

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return sentiment scores, float64 shape (n,), in [-1, 1]."""
        ...

    def classify(self, texts: Sequence[str]) -> list[str]:
        """Return one label per text: ``"positive"``, ``"neutral"`` or ``"negative"``."""
        ...


@runtime_checkable
class ProbabilisticScorer(SentimentScorer, Protocol):
    """A scorer that also gives class probabilities (columns in ``LABELS`` order)."""

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return probabilities, float64 shape (n, 3), columns negative, neutral, positive, rows sum to 1."""
        ...


@runtime_checkable
class NewsCollector(Protocol):
    """Fetches news items from one source.

    Contract: ``collect`` returns items sorted by ``available_at`` (then ``published_at``, ``id``),
    de-duplicated by ``id``; a malformed payload raises :class:`~atb.errors.DataError` naming the source
    and the field, and no partial result is returned.
    """

    def collect(self) -> list[NewsItem]:
        """Return the items of this source."""
        ...


@runtime_checkable
class EventClassifier(Protocol):
    """Classifies one news item into at most one event (e.g. an LLM).

    Contract: returns the event, or ``None`` when the item reports no event; an invalid answer or a
    transport failure raises :class:`~atb.errors.DataError` so the caller can fall back to rules.
    """

    def classify(self, item: NewsItem) -> Event | None:
        """Return the event reported by ``item`` or ``None``."""
        ...
