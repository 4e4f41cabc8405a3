"""Sentiment and events from news: scorers, collectors, aggregation to candles, event detection.

Importing this package needs no optional extra: VADER, feedparser and scikit-learn (``atb[sentiment]``)
and transformers (``atb[transformers]``) are imported when first used.

No-lookahead contract: every :class:`NewsItem` carries ``available_at`` (when atb could have seen it);
candle row ``t`` (open time ``date_t``) only uses items with ``available_at <= date_t + timeframe``.
"""

from atb.sentiment.assets import DEFAULT_ASSET_ALIASES, tag_assets
from atb.sentiment.classifier import FinanceClassifier
from atb.sentiment.events import DEFAULT_RULES, EventDetector, EventRule, detect, event_veto_series
from atb.sentiment.llm import LlmEventClassifier
from atb.sentiment.models import LABELS, Event, EventCategory, NewsItem, ScoredItem, Severity, make_item_id
from atb.sentiment.ports import EventClassifier, NewsCollector, ProbabilisticScorer, SentimentScorer
from atb.sentiment.scoring import VaderScorer, score_items
from atb.sentiment.signal import sentiment_series
from atb.sentiment.sources import CryptoPanicCollector, CsvNewsCollector, RedditCollector, RssCollector
from atb.sentiment.train import (
    EvalReport,
    compare_with_vader,
    evaluate,
    load_labelled_sentences,
    train_and_compare,
    train_test_split_stratified,
)
from atb.sentiment.transformer import TransformersScorer

__all__ = [
    "CryptoPanicCollector",
    "CsvNewsCollector",
    "DEFAULT_ASSET_ALIASES",
    "DEFAULT_RULES",
    "EvalReport",
    "Event",
    "EventCategory",
    "EventClassifier",
    "EventDetector",
    "EventRule",
    "FinanceClassifier",
    "LABELS",
    "LlmEventClassifier",
    "NewsCollector",
    "NewsItem",
    "ProbabilisticScorer",
    "RedditCollector",
    "RssCollector",
    "ScoredItem",
    "SentimentScorer",
    "Severity",
    "TransformersScorer",
    "VaderScorer",
    "compare_with_vader",
    "detect",
    "evaluate",
    "event_veto_series",
    "load_labelled_sentences",
    "make_item_id",
    "score_items",
    "sentiment_series",
    "tag_assets",
    "train_and_compare",
    "train_test_split_stratified",
]
