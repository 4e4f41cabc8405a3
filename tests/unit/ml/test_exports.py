import subprocess
import sys

import atb.ml


def test_public_api_sorted_and_resolves():
    assert atb.ml.__all__ == sorted(atb.ml.__all__)
    for name in atb.ml.__all__:
        assert getattr(atb.ml, name) is not None
    assert {"create_model", "walk_forward_predict", "export_onnx", "ModelRegistry",
            "AdaptiveEnsemble", "Calibrator", "TTLPredictionCache"} <= set(atb.ml.__all__)


def test_import_is_light():
    code = ("import sys, atb.ml; heavy = [m for m in ('lightgbm', 'sklearn', 'torch', 'onnx', 'onnxruntime', "
            "'skl2onnx', 'onnxmltools') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
