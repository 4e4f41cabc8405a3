"""Machine-learning models behind one ``Model`` port: adapters, calibration, ensembles, ONNX, registry.

Importing this package is cheap: LightGBM, scikit-learn, torch and onnxruntime are imported only
when a model is built, fitted or loaded (they come with ``pip install 'atb[ml]'``).
"""

from atb.ml.cache import TTLPredictionCache
from atb.ml.calibration import Calibrator, calibration_split
from atb.ml.dataset import (
    WalkForwardWindow,
    check_no_leakage,
    complete_rows,
    purged_train_rows,
    walk_forward_windows,
)
from atb.ml.ensemble import AdaptiveEnsemble
from atb.ml.factory import MODEL_KINDS, create_model, load_model_dir
from atb.ml.metrics import classification_metrics, regression_metrics, reliability_table
from atb.ml.onnx_export import OnnxExport, export_onnx
from atb.ml.ports import Model, ModelFactory, Task
from atb.ml.registry import ModelIndex, ModelRecord, ModelRegistry, load_model
from atb.ml.walkforward import WalkForwardResult, standardise, walk_forward_predict

__all__ = [
    "AdaptiveEnsemble",
    "Calibrator",
    "MODEL_KINDS",
    "Model",
    "ModelFactory",
    "ModelIndex",
    "ModelRecord",
    "ModelRegistry",
    "OnnxExport",
    "TTLPredictionCache",
    "Task",
    "WalkForwardResult",
    "WalkForwardWindow",
    "calibration_split",
    "check_no_leakage",
    "classification_metrics",
    "complete_rows",
    "create_model",
    "export_onnx",
    "load_model",
    "load_model_dir",
    "purged_train_rows",
    "regression_metrics",
    "reliability_table",
    "standardise",
    "walk_forward_predict",
    "walk_forward_windows",
]
