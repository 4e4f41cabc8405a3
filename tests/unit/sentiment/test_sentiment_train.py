from collections import Counter

import pytest

from atb.errors import ConfigError, DataError
from atb.sentiment import (
    EvalReport,
    compare_with_vader,
    evaluate,
    load_labelled_sentences,
    train_test_split_stratified,
)


def test_load_real_phrasebank(phrasebank):
    texts, labels = load_labelled_sentences(phrasebank)
    assert len(texts) == len(labels) == 4846
    assert Counter(labels) == {"neutral": 2879, "positive": 1363, "negative": 604}


@pytest.mark.parametrize(("content", "message"), [
    ("sentiment,sentence\npositive,up\n", r"missing column\(s\) \['label', 'text'\]"),
    ("label,text\npositive,up\nbullish,moon\n", "row 2: label 'bullish'"),
    ("label,text\npositive,up\nneutral,\n", "row 2: empty text"),
    ("label,text\n", "no rows"),
])
def test_malformed_labelled_file_names_the_row(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_labelled_sentences(path)
    with pytest.raises(DataError, match="missing.csv"):
        load_labelled_sentences(tmp_path / "missing.csv")


def test_stratified_split_is_deterministic_disjoint_and_proportional(phrasebank):
    texts, labels = load_labelled_sentences(phrasebank)
    idx = [str(i) for i in range(len(texts))]  # unique ids (the file has duplicate sentences)
    a = train_test_split_stratified(idx, labels, test_fraction=0.2, seed=42)
    assert a == train_test_split_stratified(idx, labels, test_fraction=0.2, seed=42)
    assert a != train_test_split_stratified(idx, labels, test_fraction=0.2, seed=7)
    tr_x, tr_y, te_x, te_y = a
    assert not set(tr_x) & set(te_x) and len(tr_x) + len(te_x) == len(texts)
    assert Counter(te_y) == {"neutral": 576, "positive": 273, "negative": 121}  # round(n * 0.2) per class
    with pytest.raises(ConfigError, match="test_fraction"):
        train_test_split_stratified(idx, labels, test_fraction=1.0)


class _Fixed:
    name = "fixed"

    def __init__(self, out):
        self.out = out

    def score(self, texts):
        raise NotImplementedError

    def classify(self, texts):
        return list(self.out)


def test_evaluate_hand_case():
    truth = ["positive", "positive", "neutral", "negative", "negative", "neutral"]
    pred = ["positive", "neutral", "neutral", "negative", "positive", "neutral"]
    rep = evaluate(["t"] * 6, truth, _Fixed(pred))
    assert isinstance(rep, EvalReport) and rep.n == 6 and rep.scorer == "fixed"
    assert rep.accuracy == pytest.approx(4 / 6)
    # positive: P=1/2, R=1/2 -> 0.5; neutral: P=2/3, R=1 -> 0.8; negative: P=1, R=1/2 -> 2/3
    assert rep.per_class_f1 == pytest.approx({"positive": 0.5, "neutral": 0.8, "negative": 2 / 3})
    assert rep.macro_f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert rep.labels == ("negative", "neutral", "positive")
    assert rep.confusion == ((1, 0, 1), (0, 2, 0), (0, 1, 1))
    assert rep.to_dict()["confusion"] == [[1, 0, 1], [0, 2, 0], [0, 1, 1]]


def test_classifier_beats_vader_on_held_out_split(comparison):
    clf, vader = comparison.classifier_report, comparison.vader_report
    assert comparison.n_test == clf.n == vader.n == 970 and comparison.n_train == 3876
    assert clf.accuracy > vader.accuracy + 0.15 and clf.macro_f1 > vader.macro_f1 + 0.15
    # figures reported to the lead (seed 42, test fraction 0.2)
    assert clf.accuracy == pytest.approx(0.7629, abs=5e-4) and clf.macro_f1 == pytest.approx(0.7158, abs=5e-4)
    assert vader.accuracy == pytest.approx(0.5216, abs=5e-4)
    assert vader.macro_f1 == pytest.approx(0.4639, abs=5e-4)


def test_compare_with_vader_returns_the_two_reports(tmp_path):
    rows = (["label,text"] + [f"positive,profit rose strongly {i}" for i in range(10)]
            + [f"negative,net loss widened {i}" for i in range(10)]
            + [f"neutral,meeting held in city {i}" for i in range(10)])
    path = tmp_path / "small.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    clf, vader = compare_with_vader(path, seed=3)
    assert clf.n == vader.n == 6 and clf.scorer == "finance-tfidf-logreg" and vader.scorer == "vader"
    assert clf.accuracy == 1.0
