"""Import compatibility: ``freqtrade.*`` and ``technical.*`` names served by atb's objects.

While :func:`freqtrade_compat` is active (atb's strategy loader and ``IStrategy.atb_analyze``
use it), ``from freqtrade.strategy import IStrategy, IntParameter, informative, ...``,
``import freqtrade.vendor.qtpylib.indicators as qtpylib``, ``from freqtrade.persistence import
Trade``, ``from freqtrade.enums import RunMode``, ``from freqtrade.exchange import
timeframe_to_minutes`` and ``from technical import qtpylib`` resolve to atb's modules, whether
or not freqtrade is installed (atb's engine needs atb's ``IStrategy``). ``technical`` is only
provided when the real package is not installed; ``talib`` is always the real TA-Lib. Nothing
happens when this package is imported.

Example
-------
>>> import sys
>>> with freqtrade_compat():
...     from freqtrade.strategy import IStrategy
>>> IStrategy.__module__
'atb.strategy.interface'
>>> "freqtrade.strategy" in sys.modules
False
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from atb.compat._modules import PairLocks, build_modules

__all__ = ["PairLocks", "freqtrade_compat", "install"]


def install() -> Callable[[], None]:
    """Put the stand-in modules into ``sys.modules``; returns a function that undoes it.

    Entries that existed before (e.g. a real ``freqtrade``) are restored by the returned
    function; entries that did not are removed.
    """
    mods = build_modules()
    saved = {name: sys.modules.get(name) for name in mods}
    sys.modules.update(mods)

    def uninstall() -> None:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous

    return uninstall


@contextlib.contextmanager
def freqtrade_compat() -> Iterator[None]:
    """Serve the stand-in modules while the ``with`` block runs (nesting is safe)."""
    uninstall = install()
    try:
        yield
    finally:
        uninstall()
