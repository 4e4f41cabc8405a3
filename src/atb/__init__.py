"""atb: AI-assisted algorithmic trading with freqtrade-compatible, numba-fast backtests.

The names in ``__all__`` are the public entry points; they are imported on first access so
``import atb`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "AtbError": "atb.errors",
    "BacktestInputs": "atb.backtest.engine",
    "BacktestResult": "atb.backtest.results",
    "IStrategy": "atb.strategy.interface",
    "compute_metrics": "atb.backtest.metrics",
    "load_data": "atb.data.history",
    "load_freqtrade_config": "atb.config.freqtrade",
    "load_strategy": "atb.strategy.loader",
    "run_backtest": "atb.backtest.engine",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'atb' has no attribute {name!r}")
