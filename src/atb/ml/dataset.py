"""Walk-forward windows and the purging that keeps label information out of training.

Time convention (row = candle, in chronological order)
------------------------------------------------------
* Features of row ``t`` are known at the close of candle ``t``; a prediction "at row ``t``" uses them.
* ``known_at[i]`` is the row at whose close the label of row ``i`` becomes known (e.g. ``i + h`` for a
  forward return over ``h`` candles); ``-1`` (any negative value) means never known in the data.
* A model used for the prediction rows ``[predict_start, predict_end)`` is trained before the first of
  them, so a training label must be known at the close of row ``predict_start - 1`` at the latest:
  ``known_at[i] <= predict_start - 1``, i.e. ``known_at[i] < predict_start``. An ``embargo`` of ``e``
  rows moves that limit ``e`` rows earlier: ``known_at[i] < predict_start - e``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from atb.errors import ConfigError, DataError

__all__ = [
    "WalkForwardWindow",
    "check_no_leakage",
    "complete_rows",
    "purged_train_rows",
    "walk_forward_windows",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class WalkForwardWindow:
    """One retraining step: train on ``[train_start, train_end)``, predict ``[predict_start, predict_end)``.

    Attributes
    ----------
    index : int
        Window number from 0 (the ``model_version`` of its predictions).
    train_start, train_end : int
        Row range of the training candidates (end exclusive); ``train_end == predict_start``.
    predict_start, predict_end : int
        Rows this window's model predicts (end exclusive).
    """

    index: int
    train_start: int
    train_end: int
    predict_start: int
    predict_end: int

    def __post_init__(self) -> None:
        if not 0 <= self.train_start < self.train_end <= self.predict_start < self.predict_end:
            raise ConfigError(
                f"window {self.index}: need 0 <= train_start < train_end <= predict_start < predict_end, "
                f"got {self.train_start}, {self.train_end}, {self.predict_start}, {self.predict_end}")


def walk_forward_windows(n_rows: int, *, train_size: int, retrain_every: int,
                         mode: Literal["rolling", "expanding"] = "rolling", min_train: int | None = None,
                         start: int = 0) -> list[WalkForwardWindow]:
    """Split ``n_rows`` rows into consecutive walk-forward windows.

    The first prediction row is ``start + min_train`` (``min_train`` defaults to ``train_size``);
    each window predicts the next ``retrain_every`` rows (the last one fewer), then the model is
    retrained. ``rolling`` trains on the last ``train_size`` rows before the prediction rows (fewer
    while fewer exist after ``start``); ``expanding`` on every row from ``start``.

    Parameters
    ----------
    n_rows : int
        Rows in the data.
    train_size : int
        Rolling training length in rows (>= 1).
    retrain_every : int
        Prediction rows per window (>= 1).
    mode : {"rolling", "expanding"}
    min_train : int, optional
        Rows of history required before the first prediction (>= 1).
    start : int
        First row that may be used (e.g. after indicator warm-up).

    Raises
    ------
    ConfigError
        A non-positive size, an unknown mode, or no prediction row left.

    Examples
    --------
    >>> [(w.train_start, w.train_end, w.predict_end) for w in walk_forward_windows(10, train_size=4,
    ...  retrain_every=3)]
    [(0, 4, 7), (3, 7, 10)]
    """
    if mode not in ("rolling", "expanding"):
        raise ConfigError(f"mode must be 'rolling' or 'expanding', got {mode!r}")
    for name, value in (("train_size", train_size), ("retrain_every", retrain_every)):
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}")
    first = train_size if min_train is None else min_train
    if first < 1:
        raise ConfigError(f"min_train must be >= 1, got {min_train}")
    if start < 0:
        raise ConfigError(f"start must be >= 0, got {start}")
    if start + first >= n_rows:
        raise ConfigError(f"no prediction row: start ({start}) + min_train ({first}) >= n_rows ({n_rows})")
    windows = []
    for k, p0 in enumerate(range(start + first, n_rows, retrain_every)):
        t0 = start if mode == "expanding" else max(start, p0 - train_size)
        windows.append(WalkForwardWindow(index=k, train_start=t0, train_end=p0, predict_start=p0,
                                         predict_end=min(p0 + retrain_every, n_rows)))
    return windows


def complete_rows(X: Any) -> np.ndarray:
    """Boolean mask ``(n,)`` of the rows whose features are all finite (no NaN/inf)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(f"features must be 2-D (rows, features), got shape {arr.shape}")
    return np.asarray(np.isfinite(arr).all(axis=1))


def _known_at(known_at: Any, n_min: int) -> np.ndarray:
    k = np.asarray(known_at)
    if k.ndim != 1 or k.dtype.kind not in "iu":
        raise DataError(f"known_at must be a 1-D integer array, got dtype {k.dtype}, shape {k.shape}")
    if len(k) < n_min:
        raise DataError(f"known_at has {len(k)} rows, the window needs {n_min}")
    return k.astype(np.int64)


def purged_train_rows(window: WalkForwardWindow, known_at: Any, *, embargo: int = 0,
                      features: Any = None, labels: Any = None) -> np.ndarray:
    """Training rows of ``window`` whose label is known before its first prediction row.

    Row ``i`` in ``[train_start, train_end)`` is kept when
    ``0 <= known_at[i] < predict_start - embargo`` (see the module docstring), its features are
    complete (no NaN, if ``features`` is given) and its label is finite (if ``labels`` is given).

    Parameters
    ----------
    window : WalkForwardWindow
    known_at : numpy.ndarray
        int64 ``(n_rows,)``: row at whose close each label becomes known; negative = never.
    embargo : int
        Extra rows (>= 0) between the last usable label and the first prediction.
    features : array-like, optional
        ``(n_rows, k)`` feature matrix; rows with NaN are dropped.
    labels : array-like, optional
        ``(n_rows,)`` labels; rows with NaN are dropped.

    Returns
    -------
    numpy.ndarray
        int64 row indices, ascending.

    Examples
    --------
    >>> w = WalkForwardWindow(index=0, train_start=0, train_end=5, predict_start=5, predict_end=7)
    >>> purged_train_rows(w, np.array([2, 3, 4, 5, 6, 7, 8]))
    array([0, 1, 2])
    """
    if embargo < 0:
        raise ConfigError(f"embargo must be >= 0, got {embargo}")
    k = _known_at(known_at, window.train_end)
    rows = np.arange(window.train_start, window.train_end, dtype=np.int64)
    keep = (k[rows] >= 0) & (k[rows] < window.predict_start - embargo)
    if features is not None:
        keep &= complete_rows(features)[rows]
    if labels is not None:
        keep &= np.isfinite(np.asarray(labels, dtype=np.float64)[rows])
    return rows[keep]


def check_no_leakage(window: WalkForwardWindow, rows: Any, known_at: Any, *, embargo: int = 0) -> None:
    """Raise :class:`DataError` if a training row is outside the window or its label is not yet known.

    A row is legal when ``train_start <= i < train_end`` and ``0 <= known_at[i] < predict_start - embargo``.
    The message names the first offending row and its ``known_at``.
    """
    r = np.asarray(rows, dtype=np.int64)
    k = _known_at(known_at, window.train_end)
    outside = (r < window.train_start) | (r >= window.train_end)
    if outside.any():
        bad = int(r[outside][0])
        raise DataError(f"window {window.index}: training row {bad} is outside "
                        f"[{window.train_start}, {window.train_end})")
    late = (k[r] < 0) | (k[r] >= window.predict_start - embargo)
    if late.any():
        bad = int(r[late][0])
        raise DataError(f"lookahead: window {window.index} trains on row {bad} whose label is known at row "
                        f"{int(k[bad])}, not before prediction row {window.predict_start} "
                        f"(embargo {embargo})")
