"""Labelled sentences, a stratified held-out split, and evaluation of scorers against labels.

The reference data set is the Financial PhraseBank (Malo et al. 2014, CC BY-NC-SA 3.0): a CSV with
columns ``label,text``. It is read from the user's path and never shipped; trained artefacts go wherever
the caller saves them.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, DataError
from atb.sentiment.classifier import FinanceClassifier
from atb.sentiment.models import LABELS
from atb.sentiment.ports import SentimentScorer

__all__ = [
    "Comparison",
    "EvalReport",
    "compare_with_vader",
    "evaluate",
    "load_labelled_sentences",
    "train_and_compare",
    "train_test_split_stratified",
]


def load_labelled_sentences(path: Path) -> tuple[list[str], list[str]]:
    """Read a ``label,text`` CSV (UTF-8) of labelled sentences.

    Parameters
    ----------
    path : Path
        CSV with a header containing ``label`` and ``text``; labels ``positive``/``neutral``/``negative``.

    Returns
    -------
    tuple[list[str], list[str]]
        ``(texts, labels)`` in file order (duplicates kept).

    Raises
    ------
    DataError
        File missing/unreadable, columns missing, an unknown label or an empty text; the message names
        the file and the row (1-based data row, header excluded).
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"label", "text"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path}: missing column(s) {sorted(missing)} (need label,text)")
            texts: list[str] = []
            labels: list[str] = []
            for row_no, row in enumerate(reader, start=1):
                label = (row.get("label") or "").strip().lower()
                text = (row.get("text") or "").strip()
                if label not in LABELS:
                    raise DataError(f"{path}: row {row_no}: label {row.get('label')!r} is not one of "
                                    f"{', '.join(LABELS)}")
                if not text:
                    raise DataError(f"{path}: row {row_no}: empty text")
                texts.append(text)
                labels.append(label)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read labelled sentences ({exc})") from exc
    if not texts:
        raise DataError(f"{path}: no rows")
    return texts, labels


def train_test_split_stratified(texts: Sequence[str], labels: Sequence[str], *, test_fraction: float = 0.2,
                                seed: int = 42) -> tuple[list[str], list[str], list[str], list[str]]:
    """Split into train and held-out test sets keeping the class proportions.

    Per class, the rows are shuffled with ``numpy.random.default_rng(seed)`` and
    ``round(n_class * test_fraction)`` (at least 1) go to the test set.

    Returns
    -------
    tuple
        ``(train_texts, train_labels, test_texts, test_labels)``, each in original file order.

    Raises
    ------
    ConfigError
        ``test_fraction`` outside (0, 1), lengths differ, or a class has fewer than 2 rows.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction: {test_fraction} must be in (0, 1)")
    if len(texts) != len(labels):
        raise ConfigError(f"labels: {len(labels)} labels for {len(texts)} texts")
    rng = np.random.default_rng(seed)
    lab = np.asarray(labels, dtype=object)
    test_mask = np.zeros(len(lab), dtype=bool)
    for cls in sorted(set(labels)):
        idx = np.flatnonzero(lab == cls)
        if len(idx) < 2:
            raise ConfigError(f"labels: class {cls!r} has {len(idx)} row(s); need at least 2 to split")
        n_test = min(len(idx) - 1, max(1, round(len(idx) * test_fraction)))
        test_mask[rng.permutation(idx)[:n_test]] = True
    tr, te = np.flatnonzero(~test_mask).tolist(), np.flatnonzero(test_mask).tolist()
    return ([texts[i] for i in tr], [labels[i] for i in tr], [texts[i] for i in te], [labels[i] for i in te])


@dataclass(frozen=True, slots=True, kw_only=True)
class EvalReport:
    """Classification quality of a scorer on labelled texts.

    Attributes
    ----------
    scorer : str
        Scorer name.
    n : int
        Number of evaluated texts.
    accuracy : float
        Share of correct labels, ratio in [0, 1].
    macro_f1 : float
        Unweighted mean of the per-class F1 scores (``sklearn.metrics.f1_score(average="macro")``).
    per_class_f1 : Mapping[str, float]
        F1 per label (``negative``, ``neutral``, ``positive``).
    labels : tuple[str, ...]
        Row/column order of ``confusion``.
    confusion : tuple[tuple[int, ...], ...]
        Confusion matrix, rows = true label, columns = predicted label.
    """

    scorer: str
    n: int
    accuracy: float
    macro_f1: float
    per_class_f1: Mapping[str, float]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dict (for registry metrics)."""
        return {"scorer": self.scorer, "n": self.n, "accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "per_class_f1": dict(self.per_class_f1), "labels": list(self.labels),
                "confusion": [list(r) for r in self.confusion]}


def evaluate(texts: Sequence[str], labels: Sequence[str], scorer: SentimentScorer) -> EvalReport:
    """Score ``texts`` with ``scorer.classify`` and compare to ``labels`` (scikit-learn metrics).

    Raises
    ------
    ConfigError
        Lengths differ or no texts.
    """
    if len(texts) != len(labels) or not texts:
        raise ConfigError(f"labels: {len(labels)} labels for {len(texts)} texts (need >= 1, equal)")
    metrics = require("sklearn.metrics", "sentiment", "evaluate")
    pred = scorer.classify(list(texts))
    y = list(labels)
    f1 = metrics.f1_score(y, pred, labels=list(LABELS), average=None, zero_division=0)
    cm = metrics.confusion_matrix(y, pred, labels=list(LABELS))
    return EvalReport(
        scorer=scorer.name, n=len(y), accuracy=float(metrics.accuracy_score(y, pred)),
        macro_f1=float(metrics.f1_score(y, pred, labels=list(LABELS), average="macro", zero_division=0)),
        per_class_f1={lab: float(v) for lab, v in zip(LABELS, f1, strict=True)},
        labels=LABELS, confusion=tuple(tuple(int(v) for v in row) for row in cm),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """A classifier trained on the train split and evaluated with VADER on the same held-out split."""

    classifier: FinanceClassifier
    classifier_report: EvalReport
    vader_report: EvalReport
    n_train: int
    n_test: int
    seed: int
    test_fraction: float


def train_and_compare(path: Path, *, seed: int = 42, test_fraction: float = 0.2) -> Comparison:
    """Train a :class:`FinanceClassifier` on the train split of ``path`` and evaluate it and VADER.

    Only the train split reaches ``train``; both scorers are evaluated on the same held-out split.
    """
    from atb.sentiment.scoring import VaderScorer

    texts, labels = load_labelled_sentences(path)
    tr_x, tr_y, te_x, te_y = train_test_split_stratified(texts, labels, test_fraction=test_fraction,
                                                         seed=seed)
    clf = FinanceClassifier.train(tr_x, tr_y, seed=seed)
    return Comparison(classifier=clf, classifier_report=evaluate(te_x, te_y, clf),
                      vader_report=evaluate(te_x, te_y, VaderScorer()), n_train=len(tr_x), n_test=len(te_x),
                      seed=seed, test_fraction=test_fraction)


def compare_with_vader(path: Path, seed: int = 42, *,
                       test_fraction: float = 0.2) -> tuple[EvalReport, EvalReport]:
    """Return ``(classifier_report, vader_report)`` on the same held-out split of ``path``.

    Examples
    --------
    >>> clf, vader = compare_with_vader(Path("financial_phrasebank.csv"))  # doctest: +SKIP
    >>> clf.macro_f1 > vader.macro_f1  # doctest: +SKIP
    True
    """
    result = train_and_compare(path, seed=seed, test_fraction=test_fraction)
    return result.classifier_report, result.vader_report
