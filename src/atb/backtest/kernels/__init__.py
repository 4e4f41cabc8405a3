"""Pure numba kernels of the backtest: they import only numpy, numba and ``records``."""
