"""The ``Model`` port: what every model adapter offers, so callers never import a library directly.

Conventions shared by all adapters
----------------------------------
* ``X`` is a float64 matrix, shape ``(n_rows, n_features)``, rows in chronological order
  (one row per candle, the features known at that candle's close).
* Classifiers encode the distinct values of ``y`` (sorted) as ``classes_``; ``predict_proba``
  columns follow ``classes_``.
* ``lookback`` is the number of consecutive rows one prediction reads: 1 for tabular models,
  ``seq_len`` for sequence models (LSTM, transformer). A model with ``lookback > 1`` treats the
  matrix it is given as one contiguous, chronological block: row ``t`` sees rows
  ``t - lookback + 1 .. t`` only (causal); rows with fewer than ``lookback`` rows of history,
  or a NaN anywhere in their window, predict NaN; in ``fit`` a NaN in ``y`` marks a row that is
  context only (not a training target).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["Model", "ModelFactory", "Task"]

#: The two supervised tasks: class probabilities or a real value per row.
Task = Literal["classification", "regression"]


@runtime_checkable
class Model(Protocol):
    """A supervised model over a feature matrix (adapters: LightGBM, scikit-learn, torch, ONNX).

    Attributes
    ----------
    kind : str
        Registry name of the adapter (``"lightgbm"``, ``"logistic"``, ``"lstm"``, ``"onnx"``, ...).
    task : {"classification", "regression"}
        What ``predict`` returns.
    classes_ : numpy.ndarray
        Sorted class labels, shape ``(n_classes,)`` (classifiers, after ``fit``); empty for regressors.
    params : dict
        Hyper-parameters the model was built with (JSON-serialisable).
    lookback : int
        Rows read per prediction (1 for tabular models; ``seq_len`` for sequence models).
    """

    @property
    def kind(self) -> str:
        """Registry name of the adapter."""
        ...

    @property
    def task(self) -> Task:
        """``"classification"`` or ``"regression"``."""
        ...

    @property
    def classes_(self) -> np.ndarray:
        """Sorted class labels ``(n_classes,)`` (empty for regressors)."""
        ...

    @property
    def params(self) -> dict[str, Any]:
        """Hyper-parameters (JSON-serialisable)."""
        ...

    @property
    def lookback(self) -> int:
        """Rows read per prediction."""
        ...

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Train on ``X`` float64 ``(n, k)`` and ``y`` ``(n,)``; optional weights ``(n,)``."""
        ...

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (classifiers) or values (regressors), shape ``(n,)``."""
        ...

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, rows sum to 1 (classifiers only)."""
        ...

    def save(self, directory: Path) -> list[Path]:
        """Write the artefact files into ``directory`` (created); returns the files written."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Model:
        """Read a model written by :meth:`save`."""
        ...


#: Builds a fresh, untrained model; walk-forward calls it once per window.
ModelFactory = Callable[[], Model]
