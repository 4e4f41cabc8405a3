"""Export LightGBM, scikit-learn and torch sequence models to ONNX, with a parity check.

* LightGBM: ``onnxmltools.convert_lightgbm`` on the booster (``zipmap=False``: probabilities are a
  float tensor ``(batch, n_classes)``).
* scikit-learn: ``skl2onnx.convert_sklearn`` (classifiers with ``zipmap`` disabled).
* torch (LSTM/transformer): ``torch.onnx.export`` (TorchScript exporter, opset 17) of the softmax /
  de-standardising inference head; input ``(batch, seq_len, n_features)`` with a dynamic batch axis.

Every graph takes float32 input named ``input``. After writing, the file is loaded with
onnxruntime and its outputs are compared with the native model on a probe matrix rounded to
float32 (both sides see the same values); the maximum absolute difference must be within ``atol``
(default 1e-5) or :class:`~atb.errors.ModelError` is raised and the file removed.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from atb.core.extras import require
from atb.errors import ConfigError, ModelError
from atb.ml.ports import Model

__all__ = ["OnnxExport", "export_onnx"]

_TORCH_OPSET = 17


@dataclass(frozen=True, slots=True, kw_only=True)
class OnnxExport:
    """Outcome of :func:`export_onnx`.

    Attributes
    ----------
    path : Path
        The written ``.onnx`` file.
    source_kind : str
        Kind of the exported native model.
    task : str
    n_features : int
    seq_len : int
        Rows per prediction window (1 for tabular models).
    n_probe : int
        Rows of the probe matrix compared.
    max_abs_diff : float
        Largest ``|onnxruntime - native|`` over the probe outputs (probabilities or values).
    """

    path: Path
    source_kind: str
    task: str
    n_features: int
    seq_len: int
    n_probe: int
    max_abs_diff: float


def _input_type(n_features: int) -> list[tuple[str, Any]]:
    types = require("onnxmltools.convert.common.data_types", "ml", "ONNX export")
    return [("input", types.FloatTensorType([None, n_features]))]


def _float32_thresholds(booster: Any) -> Any:
    """A copy of ``booster`` whose split thresholds are rounded DOWN to float32 values.

    ONNX tree ensembles store thresholds as float32 (rounded to nearest), so a float32 input
    equal to a threshold rounded up would branch differently from LightGBM's double ``x <= t``.
    With ``t'`` the largest float32 ``<= t`` no float32 lies in ``(t', t]``: for every float32
    input ``x <= t`` and ``x <= t'`` agree, and the exported graph branches exactly like the
    native model on float32 inputs.
    """
    lgb = require("lightgbm", "ml", "ONNX export of LightGBM")

    def down(text: str) -> str:
        v = float(text)
        f = np.float32(v)
        if float(f) > v:
            f = np.nextafter(f, np.float32(-np.inf))
        return repr(float(f))

    lines = []
    for line in booster.model_to_string().splitlines():
        if line.startswith("tree_sizes="):
            continue  # byte sizes of the trees change with the thresholds; optional when loading
        if line.startswith("threshold="):
            line = "threshold=" + " ".join(down(t) for t in line[len("threshold="):].split())
        lines.append(line)
    return lgb.Booster(model_str="\n".join(lines) + "\n")


def _convert_lightgbm(model: Any, n_features: int) -> tuple[Any, str]:
    onnxmltools = require("onnxmltools", "ml", "ONNX export of LightGBM")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        proto = onnxmltools.convert_lightgbm(_float32_thresholds(model.booster_),
                                             initial_types=_input_type(n_features), zipmap=False)
    return proto, "probabilities" if model.task == "classification" else "variable"


def _convert_sklearn(model: Any, n_features: int) -> tuple[Any, str]:
    skl2onnx = require("skl2onnx", "ml", "ONNX export of scikit-learn")
    types = require("skl2onnx.common.data_types", "ml", "ONNX export of scikit-learn")
    options = {id(model.estimator): {"zipmap": False}} if model.task == "classification" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        proto = skl2onnx.convert_sklearn(model.estimator, initial_types=[
            ("input", types.FloatTensorType([None, n_features]))], options=options)
    return proto, "probabilities" if model.task == "classification" else "variable"


def _convert_torch(model: Any, n_features: int, path: Path) -> tuple[Any, str]:
    torch = require("torch", "ml", "ONNX export of torch models")
    onnx = require("onnx", "ml", "ONNX export")
    dummy = torch.zeros(2, model.lookback, n_features)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated in favour of torch.export (needs onnxscript, not a
        # dependency) and warns that LSTM batch sizes other than 1 need care; the parity check (on a
        # batch size other than the export's) covers both.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx.*")
        warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=r".*The feature will be removed.*")
        warnings.filterwarnings("ignore", message=r"Exporting a model to ONNX with a batch_size other than 1")
        # shape checks inside nn.LSTM are traced as constants: harmless, the batch axis stays dynamic
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        axes = {"input": {0: "batch"}, "output": {0: "batch"}}
        torch.onnx.export(model.inference_module(), (dummy,), str(path), input_names=["input"],
                          output_names=["output"], dynamic_axes=axes, opset_version=_TORCH_OPSET,
                          dynamo=False)
    return onnx.load(str(path)), "output"


def _native(model: Model, probe: np.ndarray) -> np.ndarray:
    if model.task == "classification":
        return np.asarray(model.predict_proba(probe), dtype=np.float64)
    return np.asarray(model.predict(probe), dtype=np.float64).reshape(len(probe), 1)


def _metadata(model: Model, n_features: int, output: str) -> dict[str, str]:
    classes = np.asarray(model.classes_).tolist() if model.task == "classification" else []
    return {"atb_task": model.task, "atb_classes": json.dumps(classes), "atb_seq_len": str(model.lookback),
            "atb_n_features": str(n_features), "atb_source_kind": model.kind, "atb_output": output,
            "atb_params": json.dumps(model.params, default=str)}


def export_onnx(model: Model, n_features: int, path: Path, *, probe: np.ndarray | None = None,
                atol: float = 1e-5) -> OnnxExport:
    """Write ``model`` as an ONNX file and check onnxruntime reproduces it.

    Parameters
    ----------
    model : Model
        A fitted :class:`~atb.ml.adapters.lightgbm.LightGBMModel`,
        :class:`~atb.ml.adapters.sklearn.SklearnModel` or
        :class:`~atb.ml.adapters.torch_nets.TorchSequenceModel`.
    n_features : int
        Columns of the feature matrix.
    path : Path
        Target file (parent folders are created), conventionally ``model.onnx``.
    probe : numpy.ndarray, optional
        ``(n, n_features)`` rows to compare on (e.g. recent real features); default 256 standard
        normal rows (seed 0). Sequence models compare on every complete window of the probe.
    atol : float
        Largest accepted absolute difference (probabilities or regression values).

    Raises
    ------
    ConfigError
        A model type that cannot be exported.
    ModelError
        The parity check fails (the file is removed).
    """
    from atb.ml.adapters.lightgbm import LightGBMModel
    from atb.ml.adapters.onnx import OnnxModel
    from atb.ml.adapters.sklearn import SklearnModel
    from atb.ml.adapters.torch_nets import TorchSequenceModel

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(model, LightGBMModel):
        proto, output = _convert_lightgbm(model, n_features)
    elif isinstance(model, SklearnModel):
        proto, output = _convert_sklearn(model, n_features)
    elif isinstance(model, TorchSequenceModel):
        proto, output = _convert_torch(model, n_features, path)
    else:
        raise ConfigError(f"cannot export a model of kind {getattr(model, 'kind', type(model).__name__)!r} "
                          "to ONNX (supported: lightgbm, scikit-learn kinds, lstm, transformer)")
    for key, value in _metadata(model, n_features, output).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    path.write_bytes(proto.SerializeToString())
    if probe is None:
        probe = np.random.default_rng(0).normal(size=(256 + model.lookback - 1, n_features))
    probe64 = np.asarray(probe, dtype=np.float32).astype(np.float64)
    try:
        native = _native(model, probe64)
        onnx_out = _native(OnnxModel(path), probe64)
        ok = ~np.isnan(native).any(axis=1)
        if not ok.any() or (np.isnan(onnx_out[ok]).any()):
            raise ModelError(f"ONNX parity check of {path}: no comparable probe rows")
        diff = float(np.max(np.abs(native[ok] - onnx_out[ok])))
        if not diff <= atol:
            raise ModelError(f"ONNX export {path} differs from the native {model.kind} model by {diff:.3g} "
                             f"(> {atol:g}) on the probe matrix")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return OnnxExport(path=path, source_kind=model.kind, task=model.task, n_features=n_features,
                      seq_len=model.lookback, n_probe=int(ok.sum()), max_abs_diff=diff)
