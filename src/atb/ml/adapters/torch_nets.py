"""torch sequence models (``kind="lstm"`` and ``kind="transformer"``), CPU, small by default.

Causal windowing
----------------
The matrix ``X (n, k)`` handed to ``fit``/``predict`` is one contiguous, chronological block.
Row ``t`` is predicted from the window of rows ``t - seq_len + 1 .. t`` (never a later row).
Rows ``t < seq_len - 1`` (fewer than ``seq_len`` rows of history in the block) and rows whose
window holds a NaN predict NaN (no padding). In ``fit``, a row is a training target when its
window is complete and ``y[t]`` is finite; rows with NaN ``y`` still serve as history.

Training: Adam, mini-batches shuffled by a seeded ``torch.Generator``, ``torch.manual_seed(seed)``
before the weights are built, so a fit is reproducible on CPU. Inputs are standardised with the
mean/standard deviation of the training block's complete rows; regression targets likewise
(the network de-standardises in :class:`~atb.ml.adapters._torch_modules.InferenceHead`).
Classification minimises cross-entropy on softmax logits, regression the mean squared error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, DataError, ModelError
from atb.ml._common import (
    check_task,
    check_xy,
    classes_from_meta,
    labels_to_json,
    read_meta,
    require_classifier,
    require_fitted,
    write_meta,
)
from atb.ml.ports import Task

__all__ = ["DEFAULT_TORCH_PARAMS", "TorchSequenceModel", "sequence_windows"]

#: Defaults shared by both kinds; ``d_model``/``heads``/``ff`` apply to the transformer only.
DEFAULT_TORCH_PARAMS: dict[str, Any] = {
    "seq_len": 16, "hidden": 32, "layers": 1, "dropout": 0.0, "d_model": 32, "heads": 4, "ff": 64,
    "epochs": 10, "batch_size": 64, "lr": 1e-3, "weight_decay": 0.0, "seed": 42,
}
_MODEL_FILE = "model.pt"
_KINDS = ("lstm", "transformer")


def sequence_windows(X: np.ndarray, seq_len: int) -> np.ndarray:
    """Causal windows: ``out[i] = X[i : i + seq_len]`` is the history of row ``i + seq_len - 1``.

    Parameters
    ----------
    X : numpy.ndarray
        float, shape ``(n, k)``, chronological.
    seq_len : int
        Rows per window.

    Returns
    -------
    numpy.ndarray
        A read-only view, shape ``(max(n - seq_len + 1, 0), seq_len, k)``.
    """
    if len(X) < seq_len:
        return np.empty((0, seq_len, X.shape[1]), dtype=X.dtype)
    return np.lib.stride_tricks.sliding_window_view(X, seq_len, axis=0).transpose(0, 2, 1)


class TorchSequenceModel:
    """LSTM or transformer classifier (softmax) / regressor over the last ``seq_len`` rows.

    Parameters
    ----------
    kind : {"lstm", "transformer"}
    task : {"classification", "regression"}
    params : dict, optional
        Overrides of :data:`DEFAULT_TORCH_PARAMS` (``seq_len``, ``hidden``, ``layers``, ``epochs``,
        ``batch_size``, ``lr``, ``weight_decay``, ``seed``, ``dropout``, ``d_model``, ``heads``, ``ff``).
    """

    def __init__(self, kind: str = "lstm", task: Task = "classification",
                 params: dict[str, Any] | None = None) -> None:
        if kind not in _KINDS:
            raise ConfigError(f"torch model kind must be one of {', '.join(_KINDS)}, got {kind!r}")
        unknown = set(params or {}) - set(DEFAULT_TORCH_PARAMS)
        if unknown:
            raise ConfigError(f"unknown parameter(s) for model kind {kind!r}: {', '.join(sorted(unknown))}")
        self.kind = kind
        self.task: Task = check_task(task)  # type: ignore[assignment]
        self.params: dict[str, Any] = {**DEFAULT_TORCH_PARAMS, **(params or {})}
        if int(self.params["seq_len"]) < 1:
            raise ConfigError("seq_len must be >= 1")
        self.lookback = int(self.params["seq_len"])
        self.classes_: np.ndarray = np.asarray([])
        self.net_: Any = None
        self.n_features_: int = 0

    def _build(self, n_features: int, n_out: int) -> Any:
        from atb.ml.adapters._torch_modules import LSTMNet, TransformerNet

        p = self.params
        if self.kind == "lstm":
            return LSTMNet(n_features, n_out, hidden=int(p["hidden"]), layers=int(p["layers"]),
                           dropout=float(p["dropout"]))
        return TransformerNet(n_features, n_out, seq_len=self.lookback, d_model=int(p["d_model"]),
                              heads=int(p["heads"]), ff=int(p["ff"]), layers=int(p["layers"]),
                              dropout=float(p["dropout"]))

    def _targets(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Window end rows usable as targets, and the encoded/standardised targets there."""
        windows_ok = ~np.isnan(sequence_windows(Xa, self.lookback)).any(axis=(1, 2))
        ends = np.arange(self.lookback - 1, len(Xa))[windows_ok]
        yf = ya.astype(np.float64)
        ends = ends[np.isfinite(yf[ends])]
        if len(ends) == 0:
            raise DataError(f"no complete window of {self.lookback} rows with a known label to train on")
        if self.task == "classification":
            self.classes_ = np.unique(yf[ends])
            if len(self.classes_) < 2:
                raise DataError(f"classification needs at least two classes, got {self.classes_.tolist()}")
            return ends, np.searchsorted(self.classes_, yf[ends]).astype(np.int64)
        return ends, yf[ends]

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Train on the contiguous block ``X (n, k)`` float64; NaN in ``y`` = history-only row."""
        torch = require("torch", "ml", f"{self.kind} model")
        Xa, ya, w = check_xy(X, y, sample_weight, allow_nan_y=True)
        ends, target = self._targets(Xa, ya)
        complete = Xa[~np.isnan(Xa).any(axis=1)]
        x_mean, x_scale = complete.mean(axis=0), complete.std(axis=0)
        x_scale[~(x_scale > 0)] = 1.0
        n_out = len(self.classes_) if self.task == "classification" else 1
        torch.manual_seed(int(self.params["seed"]))
        net = self._build(Xa.shape[1], n_out)
        net.x_mean.copy_(torch.as_tensor(x_mean, dtype=torch.float32))
        net.x_scale.copy_(torch.as_tensor(x_scale, dtype=torch.float32))
        if self.task == "regression":
            y_mean, y_scale = float(target.mean()), float(target.std()) or 1.0
            net.y_mean.fill_(y_mean)
            net.y_scale.fill_(y_scale)
            target = (target - y_mean) / y_scale
        starts = ends - self.lookback + 1
        windows = torch.as_tensor(np.ascontiguousarray(sequence_windows(Xa, self.lookback)[starts]),
                                  dtype=torch.float32)
        tt = torch.as_tensor(target, dtype=torch.long if self.task == "classification" else torch.float32)
        wt = torch.as_tensor(w[ends] if w is not None else np.ones(len(ends)), dtype=torch.float32)
        self._train(torch, net, windows, tt, wt)
        net.eval()
        self.net_ = net
        self.n_features_ = Xa.shape[1]

    def _train(self, torch: Any, net: Any, windows: Any, target: Any, weight: Any) -> None:
        p = self.params
        optimiser = torch.optim.Adam(net.parameters(), lr=float(p["lr"]),
                                     weight_decay=float(p["weight_decay"]))
        generator = torch.Generator().manual_seed(int(p["seed"]))
        batch = max(int(p["batch_size"]), 1)
        net.train()
        for _ in range(int(p["epochs"])):
            order = torch.randperm(len(windows), generator=generator)
            for start in range(0, len(order), batch):
                idx = order[start:start + batch]
                out = net(windows[idx])
                if self.task == "classification":
                    loss = torch.nn.functional.cross_entropy(out, target[idx], reduction="none")
                else:
                    loss = (out[:, 0] - target[idx]) ** 2
                loss = (loss * weight[idx]).sum() / weight[idx].sum().clamp_min(1e-12)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()

    def inference_module(self) -> Any:
        """The fitted network wrapped for inference (softmax probabilities or values), eval mode."""
        from atb.ml.adapters._torch_modules import InferenceHead

        net = require_fitted(self, "net_", f"{self.kind} model")
        return InferenceHead(net, self.task == "classification").eval()

    def _infer(self, X: np.ndarray) -> np.ndarray:
        torch = require("torch", "ml", f"{self.kind} model")
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2:
            raise DataError(f"X must be a 2-D matrix (rows, features), got shape {Xa.shape}")
        head = self.inference_module()
        n_out = len(self.classes_) if self.task == "classification" else 1
        out = np.full((len(Xa), n_out), np.nan)
        windows = sequence_windows(Xa, self.lookback)
        ok = np.flatnonzero(~np.isnan(windows).any(axis=(1, 2)))
        with torch.inference_mode():
            for start in range(0, len(ok), 4096):
                idx = ok[start:start + 4096]
                res = head(torch.as_tensor(np.ascontiguousarray(windows[idx]), dtype=torch.float32))
                out[idx + self.lookback - 1] = res.double().numpy().reshape(len(idx), n_out)
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``; NaN rows where the causal window is incomplete."""
        require_classifier(self.task, f"{self.kind} model")
        return self._infer(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class (float, NaN where no window) or the regression value, ``(n,)``."""
        out = self._infer(X)
        if self.task == "regression":
            return out[:, 0]
        labels = np.full(len(out), np.nan)
        ok = ~np.isnan(out).any(axis=1)
        labels[ok] = self.classes_.astype(np.float64)[np.argmax(out[ok], axis=1)]
        return labels

    def save(self, directory: Path) -> list[Path]:
        """Write the weights (``model.pt``, a torch state dict) and ``meta.json``."""
        torch = require("torch", "ml", f"{self.kind} model")
        net = require_fitted(self, "net_", f"{self.kind} model")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / _MODEL_FILE
        torch.save(net.state_dict(), path)
        meta = {"kind": self.kind, "task": self.task, "params": self.params,
                "classes": labels_to_json(self.classes_), "n_features": self.n_features_}
        return sorted([path, write_meta(directory, meta)])

    @classmethod
    def load(cls, directory: Path) -> TorchSequenceModel:
        """Read a model written by :meth:`save` (weights-only unpickling)."""
        torch = require("torch", "ml", "torch sequence model")
        meta = read_meta(directory)
        path = Path(directory) / _MODEL_FILE
        if not path.is_file():
            raise ModelError(f"torch model file {path} not found")
        model = cls(meta["kind"], meta["task"], meta.get("params"))
        model.classes_ = classes_from_meta(meta)
        model.n_features_ = int(meta["n_features"])
        n_out = len(model.classes_) if model.task == "classification" else 1
        net = model._build(model.n_features_, n_out)
        try:
            net.load_state_dict(torch.load(path, weights_only=True))
        except (RuntimeError, OSError, ValueError) as exc:
            raise ModelError(f"torch model file {path} is malformed: {exc}") from None
        model.net_ = net.eval()
        return model
