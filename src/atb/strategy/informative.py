"""The ``@informative`` decorator: indicators of other timeframes / pairs merged into the frame.

Usage, as in freqtrade::

    @informative("1h")
    def populate_indicators_1h(self, dataframe, metadata):
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        return dataframe             # merged as rsi_1h (no lookahead)

    @informative("1h", "BTC/{stake}")  # another pair: btc_usdt_rsi_1h
    @informative("4h")                 # decorators stack: each one is merged
    def populate_indicators_btc(self, dataframe, metadata): ...

During :meth:`IStrategy.atb_analyze`, before ``populate_indicators``, every decorated method is
called with the informative pair's candles from ``self.dp`` and its columns are merged with
:func:`atb.strategy.helpers.merge_informative_pair` (``append_timeframe=False``, names from
``fmt``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from atb.core.timeframe import timeframe_to_minutes
from atb.errors import StrategyError
from atb.strategy.helpers import merge_informative_pair

__all__ = ["InformativeData", "informative", "informative_methods", "merge_informatives"]

_RESERVED = "date_merge"


@dataclass(frozen=True, slots=True, kw_only=True)
class InformativeData:
    """One ``@informative`` declaration.

    Attributes
    ----------
    asset : str
        Pair (format string allowed: ``{stake}``, ``{base}``, ``{quote}``); ``""`` = current pair.
    timeframe : str
        Informative timeframe (equal to or longer than the strategy's).
    fmt : str or callable or None
        Column name format (``{column}``, ``{timeframe}``, ``{asset}``, ``{base}``, ``{BASE}``,
        ``{quote}``, ``{QUOTE}``) or ``fmt(column=..., **those)``; None = freqtrade's default.
    ffill : bool
        Forward-fill after merging.
    candle_type : str or None
        ``"spot"``, ``"futures"``, ...; None/"" = the trading mode's candles.
    """

    asset: str
    timeframe: str
    fmt: str | Callable[..., str] | None
    ffill: bool
    candle_type: str | None


def informative(timeframe: str, asset: str = "", fmt: str | Callable[..., str] | None = None, *,
                candle_type: Any = None, ffill: bool = True,
                cache: bool = True) -> Callable[[Any], Any]:
    """Mark a ``populate_indicators_*`` method as computing an informative frame (stackable).

    Parameters
    ----------
    timeframe : str
        Informative timeframe, e.g. ``"1h"``.
    asset : str
        Other pair (``"BTC/USDT"``, ``"BTC/{stake}"``); empty for the current pair.
    fmt : str or callable, optional
        Column names; default ``{column}_{timeframe}``, or ``{base}_{quote}_{column}_{timeframe}``
        with ``asset``.
    candle_type : str, optional
    ffill : bool
    cache : bool
        Accepted for compatibility (freqtrade caches informative frames in live mode).
    """
    info = InformativeData(asset=asset, timeframe=timeframe, fmt=fmt, ffill=ffill,
                           candle_type=str(candle_type) if candle_type else None)

    def decorator(fn: Any) -> Any:
        infos = list(getattr(fn, "_ft_informative", []))
        infos.append(info)
        fn._ft_informative = infos
        return fn

    return decorator


def informative_methods(strategy_cls: type) -> Iterator[tuple[str, InformativeData]]:
    """``(method name, declaration)`` for each ``@informative`` of ``strategy_cls`` (name order)."""
    for name in dir(strategy_cls):
        fn = getattr(strategy_cls, name, None)
        infos = getattr(fn, "_ft_informative", None) if callable(fn) else None
        if isinstance(infos, list):
            for info in infos:
                yield name, info


def _pair_parts(pair: str) -> tuple[str, str]:
    base, _, rest = pair.partition("/")
    return base, rest.partition(":")[0]


def _resolve_asset(info: InformativeData, pair: str, stake: str) -> str:
    if not info.asset:
        return pair
    base, quote = _pair_parts(pair)
    return info.asset.format(stake_currency=stake, stake=stake, base=base.lower(),
                             BASE=base.upper(), quote=quote.lower(), QUOTE=quote.upper()).upper()


def _renamer(info: InformativeData, asset: str) -> Callable[[Any], str]:
    fmt = info.fmt or ("{base}_{quote}_{column}_{timeframe}" if info.asset
                       else "{column}_{timeframe}")
    base, quote = _pair_parts(asset)
    args = {"base": base.lower(), "BASE": base.upper(), "quote": quote.lower(),
            "QUOTE": quote.upper(), "asset": asset, "timeframe": info.timeframe}

    def rename(column: Any) -> str:
        name = fmt(column=column, **args) if callable(fmt) else fmt.format(column=column, **args)
        if name == _RESERVED:
            raise StrategyError(f"informative column name {_RESERVED!r} is reserved")
        return name

    return rename


def merge_informatives(strategy: Any, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """Run every ``@informative`` method of ``strategy`` on ``dataframe``'s pair and merge it.

    Raises
    ------
    StrategyError
        Without a data provider, for an informative timeframe shorter than the strategy's, an
        empty informative frame, a method not returning a DataFrame, or clashing column names.
    """
    stake = str(strategy.config.get("stake_currency", ""))
    default_ctype = str(strategy.config.get("candle_type_def", "") or "")
    for name, info in informative_methods(type(strategy)):
        where = f"{type(strategy).__name__}.{name} (@informative {info.timeframe!r})"
        if timeframe_to_minutes(info.timeframe) < timeframe_to_minutes(strategy.timeframe):
            raise StrategyError(f"{where}: informative timeframe must be equal to or longer than "
                                f"the strategy timeframe {strategy.timeframe}")
        if strategy.dp is None:
            raise StrategyError(f"{where}: needs a data provider (atb_set_dataprovider)")
        asset = _resolve_asset(info, metadata["pair"], stake)
        inf = strategy.dp.get_pair_dataframe(asset, info.timeframe, info.candle_type or default_ctype)
        if inf is None or inf.empty:
            raise StrategyError(f"{where}: no {info.timeframe} candles for {asset}")
        inf = getattr(strategy, name)(inf.copy(), {"pair": asset, "timeframe": info.timeframe})
        if not isinstance(inf, pd.DataFrame):
            raise StrategyError(f"{where} returned {type(inf).__name__}, not a DataFrame")
        rename = _renamer(info, asset)
        date_col = rename("date")
        if date_col in dataframe.columns:
            raise StrategyError(f"{where}: column {date_col!r} already exists; make names unique")
        dataframe = merge_informative_pair(dataframe, inf.rename(columns=rename), strategy.timeframe,
                                           info.timeframe, ffill=info.ffill, append_timeframe=False,
                                           date_column=date_col)
    return dataframe
