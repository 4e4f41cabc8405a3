import subprocess
import sys

import atb.sentiment


def test_all_is_sorted_and_pinned():
    assert atb.sentiment.__all__ == sorted(atb.sentiment.__all__)
    assert atb.sentiment.__all__ == [
        "CryptoPanicCollector", "CsvNewsCollector", "DEFAULT_ASSET_ALIASES", "DEFAULT_RULES", "EvalReport",
        "Event", "EventCategory", "EventClassifier", "EventDetector", "EventRule", "FinanceClassifier",
        "LABELS",
        "LlmEventClassifier", "NewsCollector", "NewsItem", "ProbabilisticScorer", "RedditCollector",
        "RssCollector", "ScoredItem", "SentimentScorer", "Severity", "TransformersScorer", "VaderScorer",
        "compare_with_vader", "detect", "evaluate", "event_veto_series", "load_labelled_sentences",
        "make_item_id", "score_items", "sentiment_series", "tag_assets", "train_and_compare",
        "train_test_split_stratified",
    ]
    for name in atb.sentiment.__all__:
        assert getattr(atb.sentiment, name) is not None


def test_import_loads_no_optional_extra():
    code = ("import sys, atb.sentiment; "
            "print([m for m in ('sklearn', 'vaderSentiment', 'feedparser', 'transformers', 'torch', "
            "'requests') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
