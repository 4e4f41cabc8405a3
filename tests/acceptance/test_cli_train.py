"""``atb train``: walk-forward report, ONNX-exported registered models, live inference parity."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli_bad_input import _SHARED, _assert_one_line_error, _atb

from atb.ml.pipeline import load_ml_config, make_dataset
from atb.ml.registry import ModelRegistry, load_model

ML = {"walk_forward": {"train_candles": 24 * 40, "retrain_every": 24 * 10},
      "model": {"params": {"n_estimators": 40}}}


def _args(tmp: Path, *extra: str) -> list[str]:
    return ["train", "--pairs", "BTC/USDT", "ETH/USDT", "--timeframe", "1h",
            "--datadir", str(_SHARED / "data" / "binance"), "--timerange", "20250101-20250315",
            "--userdir", str(tmp / "user_data"), *extra]


def test_train_registers_onnx_models_that_match_native_predictions(tmp_path):
    cfg_file = tmp_path / "ml.json"
    cfg_file.write_text(json.dumps(ML))
    proc = _atb(_args(tmp_path, "--ml-config", str(cfg_file)), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "WALK-FORWARD OUT-OF-SAMPLE" in proc.stdout
    assert "Registered mlbasic-BTC_USDT v1" in proc.stdout
    registry = ModelRegistry(tmp_path / "user_data" / "models")
    records = {r.name: r for r in registry.list()}
    assert set(records) == {"mlbasic-BTC_USDT", "mlbasic-ETH_USDT"}
    rec = records["mlbasic-ETH_USDT"]
    assert {"model.onnx", "features.json", "normaliser.json"} <= set(rec.files)
    assert rec.metrics["n"] > 700 and 0.0 <= rec.metrics["auc"] <= 1.0
    assert rec.extra["onnx_max_abs_diff"] <= 1e-5
    # the run store mirrors the registry
    con = sqlite3.connect(tmp_path / "user_data" / "atb.sqlite")
    names = sorted(r[0] for r in con.execute("select name from model_artifacts"))
    con.close()
    assert names == ["mlbasic-BTC_USDT", "mlbasic-ETH_USDT"]

    # live inference: ONNX predictor on the newest candles == the native model, to 1e-5
    from atb.ml.inference import OnnxPredictor

    eth = pd.read_feather(_SHARED / "data" / "binance" / "ETH_USDT-1h.feather")
    btc = pd.read_feather(_SHARED / "data" / "binance" / "BTC_USDT-1h.feather")
    eth = eth[(eth["date"] >= "2025-02-01") & (eth["date"] < "2025-04-01")].reset_index(drop=True)
    btc = btc[btc["date"].isin(eth["date"])].reset_index(drop=True)
    predictor = OnnxPredictor(rec)
    X = predictor.feature_rows(eth, timeframe="1h", informative={"BTC/USDT": btc}).dropna()
    native = load_model(rec, prefer="native").predict_proba(X.to_numpy())[:, 1]
    onnx = predictor.predict_rows(X.to_numpy())
    np.testing.assert_allclose(onnx, native, atol=1e-5, rtol=0)
    latest = predictor.predict_latest("ETH/USDT", eth, timeframe="1h",
                                      informative={"BTC/USDT": btc})
    assert latest == pytest.approx(onnx[-1], abs=1e-12)
    assert predictor.predict_latest("ETH/USDT", eth, timeframe="1h",
                                    informative={"BTC/USDT": btc}) == latest
    assert predictor.cache.hit_rate == pytest.approx(0.5)
    ds = make_dataset(eth, load_ml_config(rec.params), timeframe="1h",
                      informative={"BTC/USDT": btc})
    assert list(ds.X.columns) == list(rec.features)


@pytest.mark.parametrize("ml, needle", [
    ({"walk_forward": {"train_candles": 10}}, "ml.walk_forward.train_candles"),
    ({"model": {"kind": "gpt"}}, "ml.model"),
    ({"labels": {}}, "ml.labels"),
])
def test_bad_ml_config_is_one_line_and_nothing_is_written(tmp_path, ml, needle):
    cfg_file = tmp_path / "ml.json"
    cfg_file.write_text(json.dumps(ml))
    proc = _atb(_args(tmp_path, "--ml-config", str(cfg_file)), tmp_path)
    _assert_one_line_error(proc, needle)
    assert not (tmp_path / "user_data").exists()


def test_malformed_ml_config_file(tmp_path):
    cfg_file = tmp_path / "ml.json"
    cfg_file.write_text("{not json")
    proc = _atb(_args(tmp_path, "--ml-config", str(cfg_file)), tmp_path)
    _assert_one_line_error(proc, "--ml-config")
    assert not (tmp_path / "user_data").exists()
