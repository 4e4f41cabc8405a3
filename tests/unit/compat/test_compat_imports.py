"""freqtrade / technical import names resolve to atb objects only while compat is active."""

import sys

import pytest

from atb.compat import freqtrade_compat, install
from atb.indicators import qtpylib
from atb.strategy.interface import IStrategy
from atb.strategy.params import DecimalParameter, IntParameter
from atb.strategy.trade import Order, Trade


def test_imports_resolve_and_are_removed():
    assert "freqtrade" not in sys.modules
    with freqtrade_compat():
        import freqtrade.vendor.qtpylib.indicators as q
        from freqtrade.enums import CandleType, ExitType, RunMode, SignalDirection
        from freqtrade.exchange import timeframe_to_minutes, timeframe_to_prev_date
        from freqtrade.persistence import Order as O  # noqa: E741
        from freqtrade.persistence import Trade as T
        from freqtrade.strategy import (
            DecimalParameter as D,
        )
        from freqtrade.strategy import (
            IntParameter as P,
        )
        from freqtrade.strategy import (
            IStrategy as I,  # noqa: E741
        )
        from freqtrade.strategy import (
            PairLocks,
            informative,
            merge_informative_pair,
            stoploss_from_absolute,
            stoploss_from_open,
        )
        from freqtrade.strategy.interface import IStrategy as I2

        if getattr(sys.modules.get("technical"), "__atb_compat__", False):
            from technical import qtpylib as tq

            assert tq is qtpylib
        assert timeframe_to_minutes("1h") == 60 and callable(timeframe_to_prev_date)
        assert (RunMode.BACKTEST.value, CandleType.SPOT.value, ExitType.ROI.value,
                SignalDirection.LONG.value) == ("backtest", "spot", "roi", "long")
        assert not PairLocks.is_pair_locked("BTC/USDT")
        assert all(callable(f) for f in (informative, merge_informative_pair, stoploss_from_open,
                                         stoploss_from_absolute))
    assert I is IStrategy and I2 is IStrategy and T is Trade and O is Order and q is qtpylib
    assert P is IntParameter and D is DecimalParameter
    assert not any(k == "freqtrade" or k.startswith("freqtrade.") for k in sys.modules)


def test_unknown_submodule_fails_clearly():
    with freqtrade_compat(), pytest.raises(ModuleNotFoundError, match="freqtrade.nothing"):
        import freqtrade.nothing  # noqa: F401


def test_install_restores_previous_entries():
    marker = object()
    sys.modules["freqtrade"] = marker  # type: ignore[assignment]
    try:
        undo = install()
        assert sys.modules["freqtrade"] is not marker
        with freqtrade_compat():  # nesting keeps the outer set
            pass
        assert sys.modules["freqtrade"] is not marker and "freqtrade.strategy" in sys.modules
        undo()
        assert sys.modules["freqtrade"] is marker and "freqtrade.strategy" not in sys.modules
    finally:
        sys.modules.pop("freqtrade", None)
