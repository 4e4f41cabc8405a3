"""Lexicon scorer (VADER) and helpers that turn any scorer's output into scored items.

VADER: Hutto, C. J. & Gilbert, E. (2014), "VADER: A Parsimonious Rule-based Model for Sentiment Analysis
of Social Media Text", Proc. ICWSM-14. The compound score is the normalised sum of the lexicon valences,
in [-1, 1]; the authors' thresholds are ``compound >= 0.05`` positive, ``<= -0.05`` negative, else neutral.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from atb.core.extras import require
from atb.sentiment.models import LABELS, NewsItem, ScoredItem
from atb.sentiment.ports import ProbabilisticScorer, SentimentScorer

__all__ = ["VADER_THRESHOLD", "VaderScorer", "labels_from_scores", "score_items"]

#: Compound-score threshold of Hutto & Gilbert (2014) separating neutral from positive/negative.
VADER_THRESHOLD = 0.05


def labels_from_scores(scores: npt.ArrayLike, threshold: float = VADER_THRESHOLD) -> list[str]:
    """Map scores in [-1, 1] to labels: ``>= threshold`` positive, ``<= -threshold`` negative.

    Examples
    --------
    >>> labels_from_scores([0.5, 0.0, -0.05])
    ['positive', 'neutral', 'negative']
    """
    arr = np.asarray(scores, dtype=np.float64)
    return ["positive" if s >= threshold else "negative" if s <= -threshold else "neutral" for s in arr]


class VaderScorer:
    """VADER compound score as a :class:`~atb.sentiment.ports.SentimentScorer` (``atb[sentiment]`` extra).

    ``score`` is the compound score (float64 in [-1, 1]); ``classify`` applies the standard ±0.05
    thresholds (Hutto & Gilbert 2014).

    Raises
    ------
    MissingExtraError
        ``vaderSentiment`` is not installed (extra ``sentiment``).

    Examples
    --------
    >>> VaderScorer().classify(["Profits soared to a record high", "The company reported a terrible loss"])
    ['positive', 'negative']
    """

    name = "vader"

    def __init__(self) -> None:
        vader = require("vaderSentiment.vaderSentiment", "sentiment", "VaderScorer")
        self._analyzer: Any = vader.SentimentIntensityAnalyzer()

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return compound scores, float64 shape (n,), in [-1, 1]."""
        return np.array([self._analyzer.polarity_scores(str(t))["compound"] for t in texts],
                        dtype=np.float64).reshape(-1)

    def classify(self, texts: Sequence[str]) -> list[str]:
        """Return ``"positive"``/``"neutral"``/``"negative"`` by the ±0.05 compound thresholds."""
        return labels_from_scores(self.score(texts))


def score_items(items: Sequence[NewsItem], scorer: SentimentScorer, *,
                batch_size: int = 256) -> list[ScoredItem]:
    """Score news items (title and text) with any scorer.

    Parameters
    ----------
    items : Sequence[NewsItem]
        Items to score; the scorer reads :attr:`NewsItem.content`.
    scorer : SentimentScorer
        Any scorer; if it has ``predict_proba`` the class probabilities are kept and the label is the
        most probable class, otherwise the label is ``scorer.classify``.
    batch_size : int
        Texts per scorer call.

    Returns
    -------
    list[ScoredItem]
        One per item, same order.
    """
    out: list[ScoredItem] = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        texts = [it.content for it in batch]
        scores = np.clip(scorer.score(texts), -1.0, 1.0)
        if isinstance(scorer, ProbabilisticScorer):
            proba = scorer.predict_proba(texts)
            labels = [LABELS[int(i)] for i in np.argmax(proba, axis=1)]
            probs: list[dict[str, float]] = [dict(zip(LABELS, map(float, row), strict=True)) for row in proba]
        else:
            labels = scorer.classify(texts)
            probs = [{} for _ in batch]
        out += [ScoredItem(item=it, score=float(s), label=lab, probabilities=p, scorer=scorer.name)
                for it, s, lab, p in zip(batch, scores, labels, probs, strict=True)]
    return out
