"""Crash-safe checkpoints of a strategy runner: the loop state and the candle history.

After every processed candle the engine writes each runner's state (the stepper's arrays, the
pending signals, the candle history) to ``<dir>/<strategy_id>.npz`` atomically: a temporary file
is written and fsynced, then renamed over the old one, so a kill at any moment leaves either the
previous or the new checkpoint, never a torn one. On restart the runner is restored from it and
the engine re-processes any candle after it; the orders of a re-processed candle are found in the
order store by their decision tags and are not sent again (:mod:`atb.live.bot`).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from atb.backtest.kernels import records as rec
from atb.errors import PersistenceError
from atb.live.runner import StrategyRunner

__all__ = ["checkpoint_path", "load_checkpoint", "save_checkpoint"]

_ARRAYS = ("date_ns", "open", "high", "low", "close", "enter_long", "exit_long", "enter_short",
           "exit_short", "emergency_exit", "enter_tag", "exit_tag", "tick_dec")


def checkpoint_path(directory: Path, strategy_id: str) -> Path:
    """``<directory>/<strategy_id>.npz`` (the id's unsafe characters replaced)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in strategy_id)
    return Path(directory) / f"{safe}.npz"


def _json_default(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if np.isnan(v) else float(v)
    return str(v)


def save_checkpoint(path: Path, runner: StrategyRunner) -> None:
    """Write ``runner``'s state to ``path`` atomically.

    Raises
    ------
    PersistenceError
        The file cannot be written (the previous checkpoint is left intact).
    """
    st = runner.stepper
    data: dict[str, np.ndarray] = {}
    for p, pair in enumerate(st.pairs):
        lo, n = int(st.pair_start[p]), int(st.pair_len[p])
        for name in _ARRAYS:
            data[f"a/{p}/{name}"] = st.a[name][lo:lo + n]
        hist = runner._hist[pair]
        data[f"h/{p}/date"] = pd.DatetimeIndex(hist["date"]).asi8
        data[f"h/{p}/ohlcv"] = hist[["open", "high", "low", "close", "volume"]].to_numpy(np.float64)
    n_out = int(st.loop_f[rec.LF_N_OUT])
    data["ts"], data["loop_i"], data["loop_f"] = st.ts, st.loop_i, st.loop_f
    data["out"] = st.out[:n_out]
    meta = {"pairs": list(st.pairs), "next_t": st.next_t, "last_ns": runner.last_ns, "tags": st.tags,
            "signals": runner.signals}
    data["meta"] = np.frombuffer(json.dumps(meta, default=_json_default).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **data)  # type: ignore[arg-type]
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise PersistenceError(f"checkpoint {path}: cannot write: {exc}") from exc


def load_checkpoint(path: Path, runner: StrategyRunner) -> bool:
    """Restore ``runner`` from ``path``; False when there is no checkpoint.

    Raises
    ------
    PersistenceError
        The file is unreadable or belongs to other pairs.
    """
    if not path.exists():
        return False
    try:
        with np.load(path) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(bytes(data["meta"]).decode())
    except (OSError, ValueError, KeyError) as exc:
        raise PersistenceError(f"checkpoint {path}: unreadable: {exc}") from exc
    st = runner.stepper
    if list(st.pairs) != meta["pairs"]:
        raise PersistenceError(f"checkpoint {path}: pairs {meta['pairs']} differ from the bot's "
                               f"{list(st.pairs)}")
    for p, pair in enumerate(st.pairs):
        lo = int(st.pair_start[p])
        n = len(data[f"a/{p}/date_ns"])
        for name in _ARRAYS:
            st.a[name][lo:lo + n] = data[f"a/{p}/{name}"]
        st.pair_len[p] = n
        ohlcv = data[f"h/{p}/ohlcv"]
        runner._hist[pair] = pd.DataFrame({
            "date": pd.to_datetime(data[f"h/{p}/date"], utc=True), "open": ohlcv[:, 0],
            "high": ohlcv[:, 1], "low": ohlcv[:, 2], "close": ohlcv[:, 3], "volume": ohlcv[:, 4]})
    st.ts[:] = data["ts"]
    st.loop_i[:] = data["loop_i"]
    st.loop_f[:] = data["loop_f"]
    out = data["out"]
    if st.out.shape[0] < len(out) + 2 * len(st.pairs) + 2:
        st.out = np.zeros((2 * (len(out) + len(st.pairs) + 2), st.out.shape[1]))
    st.out[: len(out)] = out
    st.next_t = int(meta["next_t"])
    st.tags[:] = list(meta["tags"])
    st._tag_ids = {t: i for i, t in enumerate(st.tags)}
    runner.last_ns = int(meta["last_ns"])
    runner.signals = {k: dict(v) for k, v in meta["signals"].items()}
    return True
