r"""Adaptive ensemble: members' probabilities averaged with weights that follow recent skill.

Weights (exponentially weighted average forecaster, the Hedge algorithm of Freund & Schapire 1997,
"A decision-theoretic generalization of on-line learning", J. Comput. Syst. Sci. 55(1), with the
loss restricted to a sliding window):

.. math::

    w_m = \frac{\exp(-\eta \, \bar L_m)}{\sum_j \exp(-\eta \, \bar L_j)}, \qquad
    \bar L_m = \frac{1}{|W|} \sum_{u \in W} \ell_{m,u}

where :math:`W` are the last ``window`` calls to :meth:`AdaptiveEnsemble.update` and
:math:`\ell_{m,u}` is member ``m``'s mean loss over the rows of update ``u``: log-loss
:math:`-\ln p_{m}(y)` (probability clipped to ``[1e-15, 1]``) or the multi-class Brier score
:math:`\sum_c (p_{m,c} - [y = c])^2` (Brier 1950). Before the first update all weights are equal.
Only out-of-sample losses must be fed: call ``update`` with the probabilities the members gave
*before* the labels became known.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from atb.errors import ConfigError, DataError, ModelError
from atb.ml._common import classes_from_meta, labels_to_json, read_meta, write_meta
from atb.ml.ports import Model, Task

__all__ = ["AdaptiveEnsemble"]

_LOSSES = ("log_loss", "brier")


def _member_loss(proba: np.ndarray, codes: np.ndarray, loss: str) -> float:
    if loss == "log_loss":
        p = np.clip(proba[np.arange(len(codes)), codes], 1e-15, 1.0)
        return float(np.mean(-np.log(p)))
    onehot = np.eye(proba.shape[1])[codes]
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


class AdaptiveEnsemble:
    """Weighted average of member classifiers' probabilities; weights adapt via :meth:`update`.

    Parameters
    ----------
    members : Mapping[str, Model]
        Named classifiers with the same ``classes_`` once fitted (insertion order is kept).
    eta : float
        Learning rate of the exponential weights (> 0); larger reacts faster.
    window : int
        Number of most recent updates in the rolling mean loss.
    loss : {"log_loss", "brier"}
        Per-update loss.

    Examples
    --------
    A member that was right gains weight (``eta=1``, one update: weights ∝ probability of the truth):

    >>> import numpy as np
    >>> class Fixed:
    ...     task, lookback, kind, params = "classification", 1, "fixed", {}
    ...     classes_ = np.array([0, 1])
    >>> ens = AdaptiveEnsemble({"a": Fixed(), "b": Fixed()}, eta=1.0, window=5)
    >>> ens.update({"a": np.array([[0.1, 0.9]]), "b": np.array([[0.8, 0.2]])}, np.array([1]))
    >>> {k: round(v, 4) for k, v in ens.weights.items()}
    {'a': 0.8182, 'b': 0.1818}
    """

    kind = "ensemble"
    task: Task = "classification"

    def __init__(self, members: Mapping[str, Model], *, eta: float = 1.0, window: int = 50,
                 loss: str = "log_loss") -> None:
        if len(members) == 0:
            raise ConfigError("AdaptiveEnsemble needs at least one member")
        if not eta > 0 or not math.isfinite(eta):
            raise ConfigError(f"eta must be a positive finite number, got {eta}")
        if window < 1:
            raise ConfigError(f"window must be >= 1, got {window}")
        if loss not in _LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(_LOSSES)}, got {loss!r}")
        for name, m in members.items():
            if m.task != "classification":
                raise ConfigError(f"ensemble member {name!r} is not a classifier")
        self.members: dict[str, Model] = dict(members)
        self.params: dict[str, Any] = {"eta": float(eta), "window": int(window), "loss": loss}
        self._history: dict[str, deque[float]] = {n: deque(maxlen=window) for n in self.members}
        self.lookback = max(m.lookback for m in self.members.values())

    @property
    def classes_(self) -> np.ndarray:
        """Class labels shared by the members (those of the first member)."""
        return np.asarray(next(iter(self.members.values())).classes_)

    @property
    def mean_losses(self) -> dict[str, float]:
        """Each member's mean loss over the window (0.0 before any update)."""
        return {n: (float(np.mean(h)) if h else 0.0) for n, h in self._history.items()}

    @property
    def weights(self) -> dict[str, float]:
        """Current member weights (sum to 1), by the formula in the module docstring."""
        losses = self.mean_losses
        eta = self.params["eta"]
        low = min(losses.values())
        raw = {n: math.exp(-eta * (v - low)) for n, v in losses.items()}  # shift: same ratios
        total = sum(raw.values())
        return {n: v / total for n, v in raw.items()}

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Fit every member on the same data and reset the loss history (equal weights)."""
        for m in self.members.values():
            m.fit(X, y, sample_weight)
        classes = [np.asarray(m.classes_) for m in self.members.values()]
        if any(len(c) != len(classes[0]) or (c != classes[0]).any() for c in classes):
            raise DataError("ensemble members learnt different classes")
        for h in self._history.values():
            h.clear()

    def predict_proba_by_member(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Each member's probabilities ``(n, n_classes)`` (keep them to :meth:`update` later)."""
        return {n: np.asarray(m.predict_proba(X), dtype=np.float64) for n, m in self.members.items()}

    def combine(self, proba_by_member: Mapping[str, np.ndarray]) -> np.ndarray:
        """Weighted average ``sum_m w_m p_m`` of given member probabilities, ``(n, n_classes)``."""
        w = self.weights
        names = list(self.members)
        out = w[names[0]] * np.asarray(proba_by_member[names[0]], dtype=np.float64)
        for n in names[1:]:
            out = out + w[n] * np.asarray(proba_by_member[n], dtype=np.float64)
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Ensemble probabilities ``(n, n_classes)`` with the current weights."""
        return self.combine(self.predict_proba_by_member(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class label, shape ``(n,)``."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def update(self, proba_by_member: Mapping[str, np.ndarray], y_true: np.ndarray) -> None:
        """Record each member's loss on rows whose labels just became known.

        Parameters
        ----------
        proba_by_member : Mapping[str, numpy.ndarray]
            Every member's out-of-sample probabilities ``(n, n_classes)`` for those rows.
        y_true : numpy.ndarray
            The labels ``(n,)``, values from ``classes_``.

        Raises
        ------
        DataError
            A member is missing, shapes disagree, or a label is not a known class.
        """
        y = np.asarray(y_true)
        classes = self.classes_
        codes = np.searchsorted(classes, y)
        known = (codes < len(classes)) & (classes[np.minimum(codes, len(classes) - 1)] == y)
        if len(y) == 0 or not known.all():
            raise DataError(f"y_true must be non-empty labels from {classes.tolist()}")
        for name in self.members:
            if name not in proba_by_member:
                raise DataError(f"update lacks probabilities of member {name!r}")
            p = np.asarray(proba_by_member[name], dtype=np.float64)
            if p.shape != (len(y), len(classes)):
                raise DataError(f"member {name!r} probabilities have shape {p.shape}, "
                                f"expected {(len(y), len(classes))}")
            self._history[name].append(_member_loss(p, codes, self.params["loss"]))

    def save(self, directory: Path) -> list[Path]:
        """Save members into ``directory/members/<i>/`` and weights state in ``meta.json``."""
        directory = Path(directory)
        files: list[Path] = []
        for i, m in enumerate(self.members.values()):
            files += m.save(directory / "members" / str(i))
        meta = {"kind": self.kind, "task": self.task, "params": self.params,
                "classes": labels_to_json(self.classes_), "members": list(self.members),
                "history": {n: list(h) for n, h in self._history.items()}}
        files.append(write_meta(directory, meta))
        return sorted(files)

    @classmethod
    def load(cls, directory: Path) -> AdaptiveEnsemble:
        """Read an ensemble written by :meth:`save`."""
        from atb.ml.factory import load_model_dir

        meta = read_meta(Path(directory), cls.kind)
        try:
            names = list(meta["members"])
            members = {n: load_model_dir(Path(directory) / "members" / str(i)) for i, n in enumerate(names)}
            ens = cls(members, **meta["params"])
            for n, losses in meta.get("history", {}).items():
                ens._history[n].extend(float(v) for v in losses)
        except (KeyError, TypeError) as exc:
            raise ModelError(f"{Path(directory) / 'meta.json'}: malformed field {exc}") from None
        if len(classes_from_meta(meta)) and (classes_from_meta(meta) != ens.classes_).any():
            raise ModelError(f"{Path(directory) / 'meta.json'}: field 'classes' does not match the members")
        return ens
