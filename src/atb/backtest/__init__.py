"""Backtesting: freqtrade-semantics trade simulation in numba kernels, results and reports."""
