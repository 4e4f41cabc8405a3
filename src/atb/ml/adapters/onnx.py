"""onnxruntime inference adapter (``kind="onnx"``): predict from an exported ``.onnx`` file.

The session runs on CPU with ``intra_op_num_threads=1``, ``inter_op_num_threads=1`` and sequential
execution (predictable single-row latency, no thread oversubscription beside the backtest).
Inputs are cast to float32, the precision of the exported graphs; :func:`atb.ml.onnx_export.export_onnx`
checks at export time that on float32-rounded inputs the graph matches the native model to 1e-5.
The task, classes, window length and output name are read from the model's metadata properties
(``atb_*`` keys) written by the exporter. Sequence models (``atb_seq_len > 1``) take the same
``(n, k)`` matrix as the native model and window it causally (rows with incomplete history → NaN).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.errors import DataError, ModelError
from atb.ml.adapters.torch_nets import sequence_windows
from atb.ml.ports import Task

__all__ = ["ONNX_FILE", "OnnxModel"]

#: File name of an ONNX artefact inside a model directory.
ONNX_FILE = "model.onnx"


class OnnxModel:
    """Inference-only model over an ONNX file written by :func:`~atb.ml.onnx_export.export_onnx`.

    Parameters
    ----------
    path : Path
        The ``.onnx`` file.

    Raises
    ------
    ModelError
        File missing, not loadable by onnxruntime, or lacking the ``atb_*`` metadata.
    """

    kind = "onnx"

    def __init__(self, path: Path) -> None:
        ort = require("onnxruntime", "ml", "OnnxModel")
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"ONNX model file {self.path} not found")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own (non-exported) exception types
            raise ModelError(f"ONNX model file {self.path} cannot be loaded: {exc}") from None
        meta = self._session.get_modelmeta().custom_metadata_map
        try:
            self.task: Task = meta["atb_task"]
            self.classes_: np.ndarray = np.asarray(json.loads(meta["atb_classes"]))
            self.lookback = int(meta["atb_seq_len"])
            self.n_features = int(meta["atb_n_features"])
            self.source_kind = meta["atb_source_kind"]
            self._output = meta["atb_output"]
            self.params: dict[str, Any] = json.loads(meta.get("atb_params", "{}"))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"ONNX model file {self.path}: metadata field {exc} missing or malformed"
                             ) from None
        self._input = self._session.get_inputs()[0].name

    def _run(self, X: np.ndarray) -> np.ndarray:
        """Raw graph output, float64, ``(n, width)``."""
        out = self._session.run([self._output], {self._input: X})[0]
        return np.asarray(out, dtype=np.float64).reshape(len(X), -1)

    def _infer(self, X: Any) -> np.ndarray:
        X32 = np.asarray(X, dtype=np.float32)
        if X32.ndim != 2 or X32.shape[1] != self.n_features:
            raise DataError(f"X must have shape (n, {self.n_features}), got {X32.shape}")
        if self.lookback <= 1:
            return self._run(np.ascontiguousarray(X32))
        width = len(self.classes_) if self.task == "classification" else 1
        out = np.full((len(X32), width), np.nan)
        windows = sequence_windows(X32, self.lookback)
        ok = np.flatnonzero(~np.isnan(windows).any(axis=(1, 2)))
        if len(ok):
            out[ok + self.lookback - 1] = self._run(np.ascontiguousarray(windows[ok]))
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` float64 (computed in float32)."""
        if self.task != "classification":
            raise ModelError(f"ONNX model {self.path} is a regressor: predict_proba is for classifiers")
        return self._infer(X)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class label (classifier) or value (regressor), shape ``(n,)``."""
        out = self._infer(X)
        if self.task == "regression":
            return out[:, 0]
        ok = ~np.isnan(out).any(axis=1)
        if ok.all():
            return self.classes_[np.argmax(out, axis=1)]
        labels = np.full(len(out), np.nan)
        labels[ok] = self.classes_.astype(np.float64)[np.argmax(out[ok], axis=1)]
        return labels

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Not supported: ONNX models are inference-only (train the native model and export it)."""
        raise ModelError("ONNX models are inference-only: fit the native model and export it")

    def save(self, directory: Path) -> list[Path]:
        """Copy the ``.onnx`` file into ``directory`` as ``model.onnx``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / ONNX_FILE
        if target.resolve() != self.path.resolve():
            shutil.copyfile(self.path, target)
        return [target]

    @classmethod
    def load(cls, directory: Path) -> OnnxModel:
        """Open ``directory/model.onnx``."""
        return cls(Path(directory) / ONNX_FILE)
