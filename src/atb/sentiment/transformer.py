"""Any local Hugging Face sequence-classification model (e.g. FinBERT) as a sentiment scorer.

Runs on CPU through ``transformers`` (``AutoTokenizer``, ``AutoModelForSequenceClassification``) with
``local_files_only=True``: nothing is downloaded. Class names come from the model config's ``id2label``
(``positive``/``negative``/``neutral``, any case); ``score = P(positive) - P(negative)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from atb.core.extras import require
from atb.errors import ConfigError, ModelError
from atb.sentiment.models import LABELS

__all__ = ["TransformersScorer"]


class TransformersScorer:
    """Sentiment from a local sequence-classification model directory (extra ``transformers``).

    Parameters
    ----------
    model_path : Path
        Directory written by ``save_pretrained`` (config, weights, tokenizer files).
    batch_size : int
        Texts per forward pass.
    max_length : int
        Tokens per text; longer texts are truncated.

    Raises
    ------
    ConfigError
        ``model_path`` does not exist or is not a directory.
    MissingExtraError
        ``transformers`` (or ``torch``) is not installed (extra ``transformers``).
    ModelError
        The directory cannot be loaded, or ``id2label`` does not name a positive and a negative class.

    Examples
    --------
    >>> scorer = TransformersScorer(Path("models/finbert"))  # doctest: +SKIP
    >>> scorer.classify(["Profit rose 20 %"])  # doctest: +SKIP
    ['positive']
    """

    def __init__(self, model_path: Path, *, batch_size: int = 32, max_length: int = 256) -> None:
        model_path = Path(model_path)
        if not model_path.is_dir():
            raise ConfigError(f"model_path: {model_path} is not a model directory")
        tf = require("transformers", "transformers", "TransformersScorer")
        self._torch: Any = require("torch", "transformers", "TransformersScorer")
        try:
            self._tokenizer: Any = tf.AutoTokenizer.from_pretrained(model_path, local_files_only=True)
            self._model: Any = tf.AutoModelForSequenceClassification.from_pretrained(
                model_path, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{model_path}: cannot load model ({exc})") from exc
        self._model.to("cpu")
        self._model.eval()
        self.model_path = model_path
        self.batch_size = batch_size
        self.max_length = max_length
        self.name = f"transformers:{model_path.name}"
        id2label = {int(k): str(v).lower() for k, v in self._model.config.id2label.items()}
        n = int(self._model.config.num_labels)
        self._columns: list[int | None] = []
        for label in LABELS:
            idx = [i for i, name in id2label.items() if name == label]
            self._columns.append(idx[0] if idx else None)
        if self._columns[0] is None or self._columns[2] is None or n != len(id2label):
            raise ModelError(f"{model_path}: config id2label {id2label} must name 'positive' and 'negative' "
                             "classes (and optionally 'neutral')")

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return probabilities, float64 shape (n, 3), columns negative, neutral, positive.

        Softmax over the model's logits; classes other than the three are dropped and the three
        re-normalised (a model without ``neutral`` gets a zero neutral column).
        """
        torch = self._torch
        out = np.zeros((len(texts), 3), dtype=np.float64)
        for start in range(0, len(texts), self.batch_size):
            batch = [str(t) for t in texts[start:start + self.batch_size]]
            enc = self._tokenizer(batch, padding=True, truncation=True, max_length=self.max_length,
                                  return_tensors="pt")
            with torch.no_grad():
                logits = self._model(**enc).logits
            proba = torch.softmax(logits.to(torch.float64), dim=-1).numpy()
            for col, idx in enumerate(self._columns):
                if idx is not None:
                    out[start:start + len(batch), col] = proba[:, idx]
        if all(c is not None for c in self._columns) and self._model.config.num_labels == 3:
            return out
        total = out.sum(axis=1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1.0 / 3.0), where=total > 0)

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Return ``P(positive) - P(negative)``, float64 shape (n,), in [-1, 1]."""
        p = self.predict_proba(texts)
        return np.clip(p[:, 2] - p[:, 0], -1.0, 1.0)

    def classify(self, texts: Sequence[str]) -> list[str]:
        """Return the most probable of negative/neutral/positive per text."""
        return [LABELS[int(i)] for i in np.argmax(self.predict_proba(texts), axis=1)]
