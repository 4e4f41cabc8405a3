import json
from datetime import UTC, datetime

import numpy as np
import pytest

from atb.errors import ConfigError, ModelError
from atb.sentiment import FinanceClassifier, NewsItem, SentimentScorer, VaderScorer, score_items
from atb.sentiment.classifier import _analyze
from atb.sentiment.scoring import labels_from_scores

TEXTS = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007",
    "The company reported a net loss and cut its dividend",
    "The annual general meeting will be held in Helsinki on Tuesday",
    "Bitcoin crashes 10% after exchange hack",
]


def test_vader_compound_and_standard_thresholds():
    vader = VaderScorer()
    assert isinstance(vader, SentimentScorer) and vader.name == "vader"
    s = vader.score(TEXTS)
    assert s.dtype == np.float64 and s.shape == (4,) and np.all(np.abs(s) <= 1)
    assert vader.classify(["great gains", "terrible crash", "the meeting is on Tuesday"]) == [
        "positive", "negative", "neutral"]
    assert labels_from_scores([0.05, 0.0499, -0.05, -0.0499]) == [
        "positive", "neutral", "negative", "neutral"]
    assert vader.score([]).shape == (0,)


def test_classifier_matches_sklearn_and_reloads_exactly(comparison, tmp_path, phrasebank):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from atb.sentiment import load_labelled_sentences, train_test_split_stratified

    clf = comparison.classifier
    texts, labels = load_labelled_sentences(phrasebank)
    tr_x, tr_y, te_x, _ = train_test_split_stratified(texts, labels, seed=42)
    # our own TF-IDF + softmax equals the scikit-learn pipeline it was trained with
    vec = TfidfVectorizer(analyzer=_analyze, sublinear_tf=True)
    lr = LogisticRegression(C=clf.params["C"], class_weight="balanced", max_iter=clf.params["max_iter"],
                            random_state=42).fit(vec.fit_transform(tr_x), tr_y)
    np.testing.assert_allclose(clf.predict_proba(te_x[:200]), lr.predict_proba(vec.transform(te_x[:200])),
                               rtol=0, atol=1e-10)
    # save: JSON + .npy only; load: bit-identical predictions
    paths = clf.save(tmp_path / "m")
    assert sorted(p.name for p in paths) == sorted(
        ["model.json", "vocabulary.json", "idf.npy", "coef.npy", "intercept.npy"])
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == sorted(p.name for p in paths)
    loaded = FinanceClassifier.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(te_x), clf.predict_proba(te_x))
    assert np.array_equal(loaded.score(te_x), clf.score(te_x))
    assert loaded.classify(te_x) == clf.classify(te_x)
    p = clf.predict_proba(TEXTS)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.score(TEXTS), p[:, 2] - p[:, 0])
    assert clf.classify(TEXTS[:1]) == ["positive"] and clf.classify(TEXTS[1:2]) == ["negative"]


def _corrupt(directory, name, content):
    (directory / name).write_bytes(content)


@pytest.mark.parametrize(("fname", "content", "message"), [
    ("model.json", None, "model.json: model file missing"),
    ("model.json", b"{not json", "model.json: malformed JSON"),
    ("model.json", json.dumps({"format": "other"}).encode(), "model.json: not an atb tfidf-logreg"),
    ("vocabulary.json", b"[1, 2]", "vocabulary.json: expected a JSON list of strings"),
    ("coef.npy", None, "coef.npy: model file missing"),
    ("idf.npy", b"garbage", "idf.npy: malformed .npy"),
    ("intercept.npy", "object", "intercept.npy: malformed .npy"),
    ("intercept.npy", "int", "intercept.npy: expected float64"),
    ("intercept.npy", "shape", "shapes disagree"),
])
def test_malformed_artefact_raises_model_error_naming_the_file(tmp_path, fname, content, message):
    clf = FinanceClassifier.train(["good profit rose", "bad loss fell", "meeting held today"] * 3,
                                  ["positive", "negative", "neutral"] * 3, seed=1)
    d = tmp_path / "m"
    clf.save(d)
    if content is None:
        (d / fname).unlink()
    elif content == "object":  # a pickled object array must never be loaded
        np.save(d / fname, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    elif content == "int":
        np.save(d / fname, np.array([1, 2, 3]))
    elif content == "shape":
        np.save(d / fname, np.zeros(4))
    else:
        _corrupt(d, fname, content)
    before = sorted(p.name for p in d.iterdir())
    with pytest.raises(ModelError, match=message):
        FinanceClassifier.load(d)
    assert sorted(p.name for p in d.iterdir()) == before  # nothing written


def test_train_rejects_bad_labels():
    with pytest.raises(ConfigError, match="labels"):
        FinanceClassifier.train(["a b", "c d"], ["positive", "negative"])
    with pytest.raises(ConfigError, match="labels"):
        FinanceClassifier.train(["a b", "c d", "e f"], ["positive", "negative", "bullish"])


def test_score_items_keeps_probabilities_for_probabilistic_scorers(comparison):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    items = [NewsItem.create(source="s", title=x, text="", url="", published_at=t) for x in TEXTS]
    scored = score_items(items, comparison.classifier, batch_size=3)
    assert [s.item for s in scored] == items
    assert all(set(s.probabilities) == {"negative", "neutral", "positive"} for s in scored)
    assert scored[0].label == "positive" and scored[0].scorer == "finance-tfidf-logreg"
    vs = score_items(items, VaderScorer())
    assert all(s.probabilities == {} for s in vs)
    assert [s.label for s in vs] == VaderScorer().classify([it.content for it in items])
