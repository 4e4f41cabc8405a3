"""Shared type aliases used across atb."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Float64Array: TypeAlias = npt.NDArray[np.float64]
Int64Array: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
TimestampMs: TypeAlias = int
TimestampNs: TypeAlias = int
PairStr: TypeAlias = str
