"""Finance sentiment classifier: TF-IDF (word 1-2 grams, sublinear tf) + logistic regression.

Training uses scikit-learn (``TfidfVectorizer``, ``LogisticRegression(class_weight="balanced")``).
Inference does not: the artefact is plain arrays (vocabulary, idf, coefficients, intercepts, classes)
and the transform is computed here from them, identically for a freshly trained and a loaded model,
so loaded predictions equal the trained ones bit for bit. Nothing is pickled.

TF-IDF as in scikit-learn (``smooth_idf=True``, ``sublinear_tf=True``, ``norm="l2"``):
``tf = 1 + ln(count)``, ``idf = ln((1 + n_docs) / (1 + df)) + 1``, row = tf * idf / ||tf * idf||_2.
Probabilities: multinomial logistic regression, ``softmax(x @ coef.T + intercept)``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from atb.core.extras import require
from atb.errors import ConfigError, ModelError
from atb.sentiment.models import LABELS

__all__ = ["FinanceClassifier"]

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_FORMAT = "atb.sentiment.tfidf-logreg/1"
_META, _VOCAB = "model.json", "vocabulary.json"
_IDF, _COEF, _INTERCEPT = "idf.npy", "coef.npy", "intercept.npy"


def _analyze(text: str) -> list[str]:
    """Lower-case word tokens (2+ word characters) and their bigrams, as scikit-learn ngram_range=(1, 2)."""
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


class FinanceClassifier:
    """TF-IDF + logistic-regression sentiment classifier (a probabilistic ``SentimentScorer``).

    Build with :meth:`train` or :meth:`load`. ``score = P(positive) - P(negative)``, in [-1, 1].

    Parameters
    ----------
    vocabulary : Sequence[str]
        Terms (words and ``"w1 w2"`` bigrams), position = feature column.
    idf : ndarray
        float64 shape (n_features,), inverse document frequencies.
    coef : ndarray
        float64 shape (n_classes, n_features), logistic-regression weights.
    intercept : ndarray
        float64 shape (n_classes,).
    classes : Sequence[str]
        Class names in row order of ``coef``; must be a permutation of ``negative, neutral, positive``.
    params : dict, optional
        Training parameters kept with the artefact (seed, C, ...).

    Raises
    ------
    ModelError
        Array shapes disagree, values are not finite or the classes are not the three labels.
    """

    name = "finance-tfidf-logreg"

    def __init__(self, *, vocabulary: Sequence[str], idf: npt.NDArray[np.float64],
                 coef: npt.NDArray[np.float64], intercept: npt.NDArray[np.float64],
                 classes: Sequence[str], params: dict[str, Any] | None = None) -> None:
        self.vocabulary = list(vocabulary)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = [str(c) for c in classes]
        self.params = dict(params or {})
        n = len(self.vocabulary)
        if sorted(self.classes) != sorted(LABELS):
            raise ModelError(f"FinanceClassifier.classes: {self.classes} is not a permutation of "
                             f"{list(LABELS)}")
        if self.idf.shape != (n,) or self.coef.shape != (3, n) or self.intercept.shape != (3,):
            raise ModelError(f"FinanceClassifier: shapes disagree (vocabulary {n}, idf {self.idf.shape}, "
                             f"coef {self.coef.shape}, intercept {self.intercept.shape})")
        if not (np.isfinite(self.idf).all() and np.isfinite(self.coef).all()
                and np.isfinite(self.intercept).all()):
            raise ModelError("FinanceClassifier: idf/coef/intercept contain NaN or inf")
        self._index = {term: i for i, term in enumerate(self.vocabulary)}
        if len(self._index) != n:
            raise ModelError("FinanceClassifier.vocabulary: duplicate terms")
        self._order = [self.classes.index(label) for label in LABELS]

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], seed: int = 42, *,
              c: float = 8.0, max_iter: int = 2000) -> FinanceClassifier:
        """Fit TF-IDF + balanced logistic regression on labelled texts (``atb[sentiment]`` extra).

        Parameters
        ----------
        texts : Sequence[str]
            Training sentences.
        labels : Sequence[str]
            One of ``"positive"``, ``"neutral"``, ``"negative"`` per text; all three must occur.
        seed : int
            ``random_state`` of the solver (lbfgs is deterministic; kept for the record).
        c : float
            Inverse L2 regularisation strength ``C``.
        max_iter : int
            Solver iterations.

        Raises
        ------
        ConfigError
            Lengths differ, an unknown label, or a class is missing.
        MissingExtraError
            scikit-learn is not installed (extra ``sentiment``).
        """
        if len(texts) != len(labels):
            raise ConfigError(f"labels: {len(labels)} labels for {len(texts)} texts")
        unknown = sorted(set(labels) - set(LABELS))
        if unknown or set(labels) != set(LABELS):
            raise ConfigError(f"labels: need exactly the classes {list(LABELS)}, got {sorted(set(labels))}")
        fe = require("sklearn.feature_extraction.text", "sentiment", "FinanceClassifier.train")
        lm = require("sklearn.linear_model", "sentiment", "FinanceClassifier.train")
        vec = fe.TfidfVectorizer(analyzer=_analyze, sublinear_tf=True)
        x = vec.fit_transform([str(t) for t in texts])
        model = lm.LogisticRegression(C=c, class_weight="balanced", max_iter=max_iter, random_state=seed)
        model.fit(x, list(labels))
        vocab = [""] * len(vec.vocabulary_)
        for term, i in vec.vocabulary_.items():
            vocab[i] = term
        return cls(vocabulary=vocab, idf=vec.idf_, coef=model.coef_, intercept=model.intercept_,
                   classes=list(model.classes_),
                   params={"seed": seed, "C": c, "max_iter": max_iter, "ngram_range": [1, 2],
                           "sublinear_tf": True, "class_weight": "balanced", "n_train": len(texts)})

    # -- inference ----------------------------------------------------------------------------------
    def _features(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Return the non-zero TF-IDF columns and values of one text (L2-normalised)."""
        counts: dict[int, int] = {}
        for term in _analyze(str(text)):
            j = self._index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        vals = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        vals *= self.idf[cols]
        if len(vals):
            vals /= np.sqrt(np.dot(vals, vals))
        return cols, vals

    def decision_function(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return linear class scores ``x @ coef.T + intercept``, float64 shape (n, 3).

        Columns follow :attr:`classes`.
        """
        z = np.empty((len(texts), 3), dtype=np.float64)
        for row, text in enumerate(texts):
            cols, vals = self._features(text)
            z[row] = self.coef[:, cols] @ vals + self.intercept
        return z

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return probabilities, float64 shape (n, 3), columns negative, neutral, positive."""
        z = self.decision_function(texts)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        return np.ascontiguousarray(p[:, self._order])

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return ``P(positive) - P(negative)``, float64 shape (n,), in [-1, 1]."""
        p = self.predict_proba(texts)
        return np.clip(p[:, 2] - p[:, 0], -1.0, 1.0)

    def classify(self, texts: Sequence[str]) -> list[str]:
        """Return the most probable label per text."""
        return [LABELS[int(i)] for i in np.argmax(self.predict_proba(texts), axis=1)]

    # -- artefact -------------------------------------------------------------------------------------
    def save(self, directory: Path) -> list[Path]:
        """Write the artefact (JSON + ``.npy``, no pickle) into ``directory`` and return the file paths.

        Files: ``model.json`` (format, classes, params), ``vocabulary.json`` (terms by column),
        ``idf.npy``, ``coef.npy``, ``intercept.npy``. Written to a temporary folder first, then moved,
        so a failure leaves no partial artefact.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": _FORMAT, "classes": self.classes, "n_features": len(self.vocabulary),
                "params": self.params}
        with tempfile.TemporaryDirectory(dir=directory, prefix=".tmp-") as tmp:
            t = Path(tmp)
            (t / _META).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
            (t / _VOCAB).write_text(json.dumps(self.vocabulary, ensure_ascii=False), encoding="utf-8")
            for fname, arr in ((_IDF, self.idf), (_COEF, self.coef), (_INTERCEPT, self.intercept)):
                np.save(t / fname, arr, allow_pickle=False)
            paths = []
            for fname in (_META, _VOCAB, _IDF, _COEF, _INTERCEPT):
                shutil.move(t / fname, directory / fname)
                paths.append(directory / fname)
        return paths

    @classmethod
    def load(cls, directory: Path) -> FinanceClassifier:
        """Rebuild a classifier from the files written by :meth:`save` (no scikit-learn needed).

        Raises
        ------
        ModelError
            A file is missing or malformed; the message names the file. Nothing is written.
        """
        directory = Path(directory)
        meta = _read_json(directory / _META)
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ModelError(f"{directory / _META}: not an atb tfidf-logreg artefact (format {_FORMAT!r})")
        vocab = _read_json(directory / _VOCAB)
        if not isinstance(vocab, list) or not all(isinstance(v, str) for v in vocab):
            raise ModelError(f"{directory / _VOCAB}: expected a JSON list of strings")
        arrays = [_read_npy(directory / f) for f in (_IDF, _COEF, _INTERCEPT)]
        classes = meta.get("classes")
        if not isinstance(classes, list):
            raise ModelError(f"{directory / _META}: field 'classes' missing or not a list")
        try:
            return cls(vocabulary=vocab, idf=arrays[0], coef=arrays[1], intercept=arrays[2],
                       classes=classes, params=meta.get("params") or {})
        except ModelError as exc:
            raise ModelError(f"{directory}: {exc}") from exc


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: model file missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: malformed JSON ({exc})") from exc


def _read_npy(path: Path) -> npt.NDArray[np.float64]:
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: model file missing") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise ModelError(f"{path}: malformed .npy array ({exc})") from exc
    if arr.dtype != np.float64:
        raise ModelError(f"{path}: expected float64, got {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)
