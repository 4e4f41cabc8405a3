"""Import compatibility: ``freqtrade.*`` and ``technical.*`` names served by atb's objects.

Inside :func:`freqtrade_compat`, ``from freqtrade.strategy import IStrategy``,
``import freqtrade.vendor.qtpylib.indicators as qtpylib``, ``from freqtrade.persistence import
Trade`` and ``from technical import qtpylib`` resolve to atb modules, whether or not freqtrade is
installed (atb's engine needs atb's ``IStrategy``). ``technical`` is only provided when the real
package is not installed. Nothing happens at import time of this module.
"""

from atb.compat.shim import freqtrade_compat

__all__ = ["freqtrade_compat"]
