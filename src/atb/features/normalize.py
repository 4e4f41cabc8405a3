"""Feature scaling fitted on a training window only, stored beside the model.

Fit the :class:`Normalizer` on the TRAINING rows of a walk-forward window and apply the fitted
statistics unchanged to validation, test and live rows: statistics computed over rows that are
predicted later would leak their distribution into training (lookahead). A fitted normaliser is
a frozen record; :meth:`Normalizer.to_dict` / :meth:`Normalizer.from_dict` round-trip it through
JSON so that live inference uses exactly the training statistics.

=========  ==================================  ======================================================
method     center                              scale
=========  ==================================  ======================================================
zscore     mean                                population std (ddof=0)
robust     median                              interquartile range q75 - q25 (linear interpolation,
                                               ``numpy.nanpercentile``)
minmax     min                                 max - min (maps the training range onto [0, 1])
=========  ==================================  ======================================================

``transform(x) = (x - center) / scale``. NaN values are ignored when fitting and stay NaN. A
column whose scale is 0 or undefined (constant, or all NaN) gets scale 1, and an all-NaN column
center 0, so no inf/NaN is produced from finite inputs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from atb._typing import Float64Array
from atb.errors import ConfigError, DataError, ModelError

__all__ = ["NORMALIZE_METHODS", "Normalizer"]

#: Accepted values of ``Normalizer.method``.
NORMALIZE_METHODS: tuple[str, ...] = ("zscore", "robust", "minmax")

_FORMAT = "atb.features.Normalizer/1"


def _stats(x: Float64Array, method: str) -> tuple[Float64Array, Float64Array]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN columns
        if method == "zscore":
            center, scale = np.nanmean(x, axis=0), np.nanstd(x, axis=0)
        elif method == "robust":
            q25, center, q75 = np.nanpercentile(x, [25.0, 50.0, 75.0], axis=0)
            scale = q75 - q25
        else:
            center = np.nanmin(x, axis=0) if len(x) else np.full(x.shape[1], np.nan)
            scale = (np.nanmax(x, axis=0) if len(x) else center) - center
    center = np.where(np.isfinite(center), center, 0.0)
    scale = np.where(np.isfinite(scale) & (scale > 0.0), scale, 1.0)
    return np.asarray(center, dtype=np.float64), np.asarray(scale, dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Normalizer:
    """Per-column affine scaling ``(x - center) / scale`` (frozen; :meth:`fit` returns a new one).

    Attributes
    ----------
    method : {"zscore", "robust", "minmax"}
        Statistic used by :meth:`fit`; default ``"zscore"``.
    columns : tuple of str
        Fitted column names, in order; empty until fitted.
    center, scale : tuple of float
        Fitted per-column statistics (``scale > 0``, finite).

    Examples
    --------
    >>> train = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    >>> norm = Normalizer().fit(train)
    >>> norm.transform(pd.DataFrame({"a": [4.0], "b": [5.0]})).round(4).to_dict("list")
    {'a': [2.4495], 'b': [0.0]}
    """

    method: Literal["zscore", "robust", "minmax"] = "zscore"
    columns: tuple[str, ...] = ()
    center: tuple[float, ...] = ()
    scale: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in NORMALIZE_METHODS:
            raise ConfigError(f"Normalizer.method: {self.method!r} is not one of "
                              f"{', '.join(NORMALIZE_METHODS)}")
        if not len(self.columns) == len(self.center) == len(self.scale):
            raise ModelError("Normalizer: columns, center and scale differ in length")
        if any(not math.isfinite(s) or s <= 0.0 for s in self.scale) or \
                any(not math.isfinite(c) for c in self.center):
            raise ModelError("Normalizer: center must be finite and scale finite and > 0")

    @property
    def fitted(self) -> bool:
        """True once :meth:`fit` has produced statistics."""
        return bool(self.columns)

    def fit(self, train: pd.DataFrame) -> Normalizer:
        """Compute the statistics on the training rows only.

        Parameters
        ----------
        train : DataFrame
            Training-window features, numeric columns; NaN ignored.

        Returns
        -------
        Normalizer
            A new fitted normaliser with the same ``method``.

        Raises
        ------
        DataError
            ``train`` has no columns, duplicate or non-numeric columns.
        """
        if train.shape[1] == 0:
            raise DataError("Normalizer.fit: the training frame has no columns")
        if train.columns.has_duplicates:
            dup = train.columns[train.columns.duplicated()][0]
            raise DataError(f"Normalizer.fit: duplicate column {dup!r}")
        try:
            x = train.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"Normalizer.fit: non-numeric column in the training frame: {exc}") from exc
        center, scale = _stats(x, self.method)
        return Normalizer(method=self.method, columns=tuple(str(c) for c in train.columns),
                          center=tuple(float(v) for v in center), scale=tuple(float(v) for v in scale))

    def transform(self, values: pd.DataFrame) -> pd.DataFrame:
        """Scale ``values`` with the fitted (training) statistics.

        Parameters
        ----------
        values : DataFrame
            Must hold exactly the fitted columns (any order); index kept.

        Returns
        -------
        DataFrame
            float64, columns in fitted order.

        Raises
        ------
        ModelError
            Not fitted.
        DataError
            A fitted column is missing or an unknown column is present (names it).
        """
        if not self.fitted:
            raise ModelError("Normalizer.transform: not fitted; call fit(train) first")
        missing = [c for c in self.columns if c not in values.columns]
        if missing:
            raise DataError(f"Normalizer.transform: missing column {missing[0]!r}")
        extra = [c for c in values.columns if c not in set(self.columns)]
        if extra:
            raise DataError(f"Normalizer.transform: column {extra[0]!r} was not fitted")
        x = values.loc[:, list(self.columns)].to_numpy(dtype=np.float64)
        out = (x - np.asarray(self.center)) / np.asarray(self.scale)
        return pd.DataFrame(out, index=values.index, columns=list(self.columns))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (store it beside the model)."""
        return {"format": _FORMAT, "method": self.method, "columns": list(self.columns),
                "center": list(self.center), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normalizer:
        """Rebuild a normaliser from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            Wrong format tag, missing keys or inconsistent statistics.
        """
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ModelError(f"Normalizer.from_dict: not a {_FORMAT} record")
        try:
            return cls(method=data["method"], columns=tuple(str(c) for c in data["columns"]),
                       center=tuple(float(v) for v in data["center"]),
                       scale=tuple(float(v) for v in data["scale"]))
        except (KeyError, TypeError, ValueError, ConfigError, ModelError) as exc:
            raise ModelError(f"Normalizer.from_dict: malformed record: {exc}") from exc
