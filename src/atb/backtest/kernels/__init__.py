"""Pure numba kernels of the backtest.

They import only numpy, numba, ``records`` and the shared risk rules
(``atb.risk.rules``/``sizing``/``layout``).
"""

from atb.backtest.kernels._cache import invalidate_stale_cache

invalidate_stale_cache()
