"""The ``@informative`` decorator: extra timeframes / pairs merged into the strategy frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from atb.errors import StrategyError
from atb.strategy.helpers import merge_informative_pair

__all__ = ["InformativeData", "informative"]


@dataclass(frozen=True, slots=True)
class InformativeData:
    """One ``@informative`` declaration."""

    asset: str
    timeframe: str
    fmt: str | Callable[..., str] | None
    ffill: bool
    candle_type: str | None


def informative(timeframe: str, asset: str = "", fmt: str | Callable[..., str] | None = None, *,
                candle_type: str | None = None, ffill: bool = True) -> Callable[[Any], Any]:
    """Mark a ``populate_indicators_*`` method as computing an informative frame.

    The method receives the candles of ``asset`` (default: the current pair; ``{stake}`` is
    replaced by the stake currency) at ``timeframe``; its columns are merged into the main frame
    without lookahead, named by ``fmt`` (default ``{column}_{timeframe}``, or
    ``{base}_{quote}_{column}_{timeframe}`` for another asset). Decorators stack.
    """

    def decorator(fn: Any) -> Any:
        infos = list(getattr(fn, "_ft_informative", []))
        infos.append(InformativeData(asset, timeframe, fmt, ffill, candle_type))
        fn._ft_informative = infos
        return fn

    return decorator


def _format_columns(df: pd.DataFrame, info: InformativeData, asset: str, stake: str) -> pd.DataFrame:
    base, _, quote = asset.partition("/")
    fmt = info.fmt
    if fmt is None:
        fmt = "{column}_{timeframe}" if not info.asset else "{base}_{quote}_{column}_{timeframe}"
    out = df.copy()
    names = {}
    for col in out.columns:
        values = dict(column=col, timeframe=info.timeframe, base=base.lower(), BASE=base,
                      quote=quote.lower(), QUOTE=quote, asset=asset, stake=stake)
        names[col] = fmt(**values) if callable(fmt) else fmt.format(**values)
    return out.rename(columns=names)


def merge_informatives(strategy: Any, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """Run every ``@informative`` method of ``strategy`` and merge the results."""
    dp = getattr(strategy, "dp", None)
    stake = str(strategy.config.get("stake_currency", ""))
    for name in dir(type(strategy)):
        fn = getattr(type(strategy), name, None)
        for info in getattr(fn, "_ft_informative", []) or []:
            if dp is None:
                raise StrategyError(f"@informative on {name} needs a data provider")
            asset = (info.asset or metadata["pair"]).replace("{stake}", stake)
            inf = dp.get_pair_dataframe(asset, info.timeframe, info.candle_type or "")
            inf = getattr(strategy, name)(inf, {**metadata, "pair": asset})
            renamed = _format_columns(inf, info, asset, stake)
            new_date = [c for c, o in zip(renamed.columns, inf.columns, strict=True) if o == "date"][0]
            dataframe = merge_informative_pair(
                dataframe, renamed, strategy.timeframe, info.timeframe, info.ffill,
                append_timeframe=False, date_column=new_date,
            )
    return dataframe
