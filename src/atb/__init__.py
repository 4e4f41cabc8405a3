"""atb: AI-assisted algorithmic trading with freqtrade-compatible, numba-fast backtests."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
