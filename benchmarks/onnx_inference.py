"""Single-row inference speed: ONNX (onnxruntime, via atb.ml OnnxModel) against native LightGBM.

Usage: python benchmarks/onnx_inference.py [--calls 20000] [--shared ../shared]
       [--write benchmarks/results/onnx_inference.md]

A LightGBM classifier (200 trees, 31 leaves) is trained on 30 features derived from real BTC/USDT 1h
candles (label: the close 4 candles later is higher), exported with atb.ml.export_onnx (parity
checked at 1e-5), then each model predicts one row at a time, ``--calls`` times, cycling through the
held-out rows. Each call is timed with time.perf_counter_ns; throughput = calls / total time of the
timed loop. Prints JSON; --write also writes the Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from atb.ml import create_model, export_onnx
from atb.ml.adapters.onnx import OnnxModel

REPO = Path(__file__).resolve().parent.parent


def features(c: pd.DataFrame) -> pd.DataFrame:
    close, ret = c["close"], c["close"].pct_change()
    vol = np.log(c["volume"] + 1.0)
    f = {f"ret_lag{k}": ret.shift(k) for k in range(10)}
    for w in (6, 12, 24, 48, 96):
        f[f"ret_mean_{w}"] = ret.rolling(w).mean()
        f[f"ret_std_{w}"] = ret.rolling(w).std()
        f[f"close_z_{w}"] = (close - close.rolling(w).mean()) / close.rolling(w).std()
    f["range"] = (c["high"] - c["low"]) / close
    f["range_mean_24"] = f["range"].rolling(24).mean()
    f["volume_z_24"] = (vol - vol.rolling(24).mean()) / vol.rolling(24).std()
    f["volume_z_96"] = (vol - vol.rolling(96).mean()) / vol.rolling(96).std()
    up = ret.clip(lower=0).rolling(14).mean()
    f["rsi_14"] = up / (up + (-ret.clip(upper=0)).rolling(14).mean())
    return pd.DataFrame(f)


def time_calls(fn, rows: np.ndarray, calls: int) -> dict[str, float]:
    for i in range(500):  # warm-up
        fn(rows[i % len(rows)][None, :])
    lat = np.empty(calls, dtype=np.int64)
    start = time.perf_counter_ns()
    for i in range(calls):
        t0 = time.perf_counter_ns()
        fn(rows[i % len(rows)][None, :])
        lat[i] = time.perf_counter_ns() - t0
    total = time.perf_counter_ns() - start
    return {"preds_per_s": calls / (total / 1e9), "p50_ms": float(np.percentile(lat, 50)) / 1e6,
            "p99_ms": float(np.percentile(lat, 99)) / 1e6, "mean_ms": float(lat.mean()) / 1e6}


def machine() -> dict[str, str]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    import lightgbm
    import onnxruntime

    return {"cpu": cpu, "nproc": nproc, "python": platform.python_version(),
            "lightgbm": lightgbm.__version__, "onnxruntime": onnxruntime.__version__}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20_000)
    default_shared = Path(os.environ.get("ATB_SHARED_DIR", REPO.parent / "shared"))
    ap.add_argument("--shared", type=Path, default=default_shared)
    ap.add_argument("--write", type=Path, default=None)
    args = ap.parse_args()
    candles = pd.read_feather(args.shared / "data" / "binance" / "BTC_USDT-1h.feather")
    X = features(candles).to_numpy()
    close = candles["close"].to_numpy()
    y = np.full(len(close), np.nan)
    y[:-4] = (close[4:] > close[:-4]).astype(float)
    ok = np.isfinite(X).all(axis=1) & np.isfinite(y)
    X, y = X[ok], y[ok]
    split = int(len(X) * 0.8)
    model = create_model("lightgbm", "classification", {"n_estimators": 200, "num_leaves": 31})
    t0 = time.perf_counter()
    model.fit(X[:split], y[:split])
    fit_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        exp = export_onnx(model, X.shape[1], Path(tmp) / "model.onnx", probe=X[split:])
        onnx_model = OnnxModel(exp.path)
        held_out = np.ascontiguousarray(X[split:])
        result = {
            "rows_train": split, "rows_held_out": len(held_out), "features": X.shape[1], "trees": 200,
            "fit_s": fit_s, "parity_max_abs_diff": exp.max_abs_diff, "calls": args.calls,
            "onnx": time_calls(onnx_model.predict_proba, held_out, args.calls),
            "native": time_calls(model.predict_proba, held_out, args.calls),
            "machine": machine(),
        }
    print(json.dumps(result, indent=2))
    if args.write:
        args.write.write_text(report(result, " ".join(["python", *sys.argv])))


def report(r: dict, command: str) -> str:
    m = r["machine"]
    rows = "\n".join(
        f"| {name} | {r[key]['preds_per_s']:,.0f} | {r[key]['p50_ms']:.3f} | {r[key]['p99_ms']:.3f} | "
        f"{r[key]['mean_ms']:.3f} |"
        for name, key in (("ONNX (onnxruntime, atb OnnxModel)", "onnx"),
                          ("native LightGBM (atb LightGBMModel, Booster.predict)", "native")))
    return f"""# ONNX single-row inference (LightGBM classifier)

Command (from the repository root):

```
{command}
```

Machine: {m['cpu']}, `nproc` = {m['nproc']}; Python {m['python']}, LightGBM {m['lightgbm']},
onnxruntime {m['onnxruntime']} (session: 1 intra-op thread, sequential execution).

Model: LightGBM classifier, {r['trees']} trees (31 leaves), {r['features']} features derived from real
BTC/USDT 1h candles, trained on {r['rows_train']:,} rows in {r['fit_s']:.2f} s; exported with
`atb.ml.export_onnx`, parity on the {r['rows_held_out']:,} held-out rows: max abs difference
{r['parity_max_abs_diff']:.2e} (limit 1e-5).

{r['calls']:,} single-row `predict_proba` calls per engine after 500 warm-up calls, one process, each
timed with `time.perf_counter_ns`; throughput = calls / wall time of the timed loop.

| engine | predictions/s | p50 latency (ms) | p99 latency (ms) | mean (ms) |
|---|---:|---:|---:|---:|
{rows}

Target: >= 1,000 predictions/s and p99 < 5 ms for ONNX: {"met" if r['onnx']['preds_per_s'] >= 1000
    and r['onnx']['p99_ms'] < 5 else "NOT met"}.
"""


if __name__ == "__main__":
    main()
