"""``IStrategy``: the freqtrade interface-version-3 strategy base class.

User strategies subclass it exactly as in freqtrade: class attributes (``timeframe``,
``minimal_roi``, ``stoploss``, trailing settings, ...), ``populate_indicators`` /
``populate_entry_trend`` / ``populate_exit_trend`` on pandas frames, and optional callbacks
(:mod:`atb.strategy.callbacks`). atb's own framework methods on this user-subclassed base carry
the prefix ``atb_`` (freqtrade uses ``ft_`` for the same reason) so they never clash with user
code:

* ``__init__(config)`` resolves attributes like freqtrade's resolver (parameter file, config
  overrides, normalisation, validation) and loads hyperoptable parameter values;
* :meth:`IStrategy.atb_analyze` computes indicators and signals for one pair;
* :meth:`IStrategy.atb_overridden` tells the engine which callbacks the strategy implements;
* :meth:`IStrategy.atb_set_dataprovider` attaches ``self.dp``.

Example
-------
>>> import pandas as pd
>>> class Up(IStrategy):
...     timeframe = "1h"
...     stoploss = -0.1
...     def populate_indicators(self, df, metadata):
...         return df
...     def populate_entry_trend(self, df, metadata):
...         df.loc[df["close"] > df["open"], "enter_long"] = 1
...         return df
>>> candles = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC"),
...                         "open": [1.0, 2, 3], "high": [2.0, 3, 4], "low": [0.5, 1, 2],
...                         "close": [2.0, 1, 4], "volume": [1.0, 1, 1]})
>>> Up({}).atb_analyze(candles, {"pair": "A/USDT"})["enter_long"].tolist()
[1.0, nan, 1.0]
"""

from __future__ import annotations

import inspect
from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar

import pandas as pd

from atb.compat import freqtrade_compat
from atb.errors import StrategyError
from atb.strategy.callbacks import CALLBACK_NAMES, StrategyCallbacks
from atb.strategy.informative import merge_informatives
from atb.strategy.params import BaseParameter, load_parameters, read_params_file
from atb.strategy.settings import apply_config, apply_params_file, normalise_and_validate

__all__ = ["IStrategy"]

_SIGNAL_COLUMNS = ("enter_long", "exit_long", "enter_short", "exit_short")


class IStrategy(StrategyCallbacks, metaclass=ABCMeta):
    """Base class of strategies (freqtrade interface version 3).

    Frames passed to the ``populate_*`` methods have columns ``date`` (UTC candle open),
    ``open, high, low, close`` (quote currency) and ``volume`` (base currency), one row per
    candle. Entry/exit signals are ``1`` in ``enter_long``/``exit_long``/``enter_short``/
    ``exit_short`` (legacy: ``buy``/``sell``), with optional ``enter_tag``/``exit_tag`` strings.

    Parameters
    ----------
    config : dict
        The (freqtrade) configuration. Keys of freqtrade's override list (``minimal_roi``,
        ``stoploss``, ``trailing_*``, ``timeframe``, ``order_types``, ``unfilledtimeout``,
        ``use_exit_signal``, ...) replace the class attributes; strategy values are copied into
        ``config`` where it lacks them (freqtrade does the same).

    Raises
    ------
    StrategyError
        For invalid attributes (see :func:`atb.strategy.settings.normalise_and_validate`), a bad
        parameter file or parameter declaration.
    """

    INTERFACE_VERSION: ClassVar[int] = 3

    timeframe: str
    stoploss: float
    minimal_roi: dict[Any, float] = {}
    use_custom_roi: bool = False
    max_open_trades: float | None = None
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False
    use_custom_stoploss: bool = False
    can_short: bool = False
    use_exit_signal: bool = True
    exit_profit_only: bool = False
    exit_profit_offset: float = 0.0
    ignore_roi_if_entry_signal: bool = False
    ignore_buying_expired_candle_after: int = 0
    process_only_new_candles: bool = True
    position_adjustment_enable: bool = False
    max_entry_position_adjustment: int = -1
    disable_dataframe_checks: bool = False
    startup_candle_count: int = 0
    order_types: dict[str, Any] = {
        "entry": "limit", "exit": "limit", "stoploss": "limit", "stoploss_on_exchange": False,
        "stoploss_on_exchange_interval": 60,
    }
    order_time_in_force: dict[str, str] = {"entry": "GTC", "exit": "GTC"}
    unfilledtimeout: dict[str, Any] | None = None
    protections: list[dict[str, Any]] = []
    plot_config: dict[str, Any] = {}

    def __init__(self, config: dict[str, Any]) -> None:
        if not isinstance(config, dict):
            raise StrategyError(f"{type(self).__name__}: config must be a dict, got {type(config).__name__}")
        self.config = config
        self.dp: Any = None
        self.wallets: Any = None
        #: :class:`atb.risk.sizing.PositionSizer` when a risk section is configured (else None).
        self.position_sizer: Any = None
        #: Report rows computed during analysis: section title -> pair -> row (see
        #: :meth:`atb_add_report_row`); printed by the backtest report.
        self.atb_report_rows: dict[str, dict[str, dict[str, Any]]] = {}
        file_params = read_params_file(self.atb_source_file(), type(self).__name__)
        apply_params_file(self, file_params)
        apply_config(self, config)
        normalise_and_validate(self, config)
        self.atb_parameters: dict[str, BaseParameter] = load_parameters(self, file_params)

    # -- framework methods used by the engines ----------------------------------------------
    @classmethod
    def atb_source_file(cls) -> str | None:
        """Path of the file defining the strategy class (None when unknown)."""
        try:
            return inspect.getfile(cls)
        except (TypeError, OSError):
            return None

    def atb_overridden(self, name: str) -> bool:
        """Whether the strategy's class overrides callback ``name`` of :class:`IStrategy`.

        Raises
        ------
        StrategyError
            If ``name`` is not a callback name (a typo in the engine).
        """
        if name not in CALLBACK_NAMES:
            raise StrategyError(f"{name!r} is not a strategy callback ({', '.join(CALLBACK_NAMES)})")
        return getattr(type(self), name, None) is not getattr(IStrategy, name)

    def atb_set_dataprovider(self, dp: Any) -> None:
        """Attach the data provider (``self.dp``; see :class:`atb.strategy.dataprovider.DataProvider`)."""
        self.dp = dp

    def atb_add_report_row(self, section: str, pair: str, row: dict[str, Any]) -> None:
        """Record a report row for ``pair`` under ``section`` (e.g. out-of-sample ML metrics).

        Rows are plain JSON-like values (numbers, strings); the backtest report prints one table
        per section with a row per pair.
        """
        self.atb_report_rows.setdefault(section, {})[pair] = dict(row)

    def atb_report_for(self, pair: str) -> dict[str, dict[str, Any]]:
        """The report rows recorded for ``pair``: section title -> row."""
        return {title: rows[pair] for title, rows in self.atb_report_rows.items() if pair in rows}

    def atb_analyze(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Indicators and entry/exit signals for one pair's candles.

        Runs the ``@informative`` merges, ``populate_indicators``, ``populate_entry_trend`` and
        ``populate_exit_trend`` (or the legacy ``populate_buy_trend``/``populate_sell_trend``,
        whose ``buy``/``sell``/``buy_tag`` columns are renamed) on a copy of ``dataframe``.

        Parameters
        ----------
        dataframe : DataFrame
            One pair's candles (``date, open, high, low, close, volume``), not modified.
        metadata : dict
            At least ``{"pair": "BTC/USDT"}``.

        Returns
        -------
        DataFrame
            Same rows and dates, plus indicator columns, ``enter_long, exit_long, enter_short,
            exit_short`` (as the strategy set them: usually 1/NaN; 0 when never set) and
            ``enter_tag``/``exit_tag`` (object: str, or None where no tag was set).

        Raises
        ------
        StrategyError
            If a ``populate_*`` method returns something other than a DataFrame with the same
            number of rows and the same dates.
        """
        if "date" not in dataframe.columns:
            raise StrategyError(f"{metadata.get('pair')}: candles have no 'date' column")
        with freqtrade_compat():  # strategies may import freqtrade names inside their methods
            return self._analyze(dataframe, metadata)

    def _analyze(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        dates = dataframe["date"].reset_index(drop=True)
        df = merge_informatives(self, dataframe.copy(), metadata)
        df = self._checked("populate_indicators", self.populate_indicators(df, metadata), dates)
        df.loc[:, "enter_tag"] = ""  # freqtrade starts tags as "" so strategies can append to them
        df = self._checked("populate_entry_trend", self.populate_entry_trend(df, metadata), dates)
        if "enter_long" not in df.columns:  # legacy columns
            if "buy_tag" in df.columns:
                df = df.drop(columns=["enter_tag"])
            df = df.rename(columns={"buy": "enter_long", "buy_tag": "enter_tag"})
        df.loc[:, "exit_tag"] = ""
        df = self._checked("populate_exit_trend", self.populate_exit_trend(df, metadata), dates)
        if "exit_long" not in df.columns:
            df = df.rename(columns={"sell": "exit_long"})
        for col in _SIGNAL_COLUMNS:
            if col not in df.columns:
                df[col] = 0
        for col in ("enter_tag", "exit_tag"):
            df[col] = _tags(df[col]) if col in df.columns else None
        return df

    def _checked(self, method: str, out: Any, dates: pd.Series) -> pd.DataFrame:
        where = f"{type(self).__name__}.{method}"
        if not isinstance(out, pd.DataFrame):
            raise StrategyError(f"{where} returned {type(out).__name__}, not a DataFrame")
        if len(out) != len(dates):
            raise StrategyError(f"{where} changed the number of rows ({len(dates)} -> {len(out)})")
        if "date" not in out.columns or not out["date"].reset_index(drop=True).equals(dates):
            raise StrategyError(f"{where} changed the candle dates (rows must stay as given)")
        return out

    # -- the user's methods ------------------------------------------------------------------
    @abstractmethod
    def populate_indicators(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Add indicator columns (every strategy implements this)."""

    def populate_buy_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Legacy entry signals (``buy`` column); used when populate_entry_trend is not overridden."""
        return dataframe

    def populate_entry_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Set ``enter_long``/``enter_short`` = 1 (and ``enter_tag``) where to enter."""
        return self.populate_buy_trend(dataframe, metadata)

    def populate_sell_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Legacy exit signals (``sell`` column); used when populate_exit_trend is not overridden."""
        return dataframe

    def populate_exit_trend(self, dataframe: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
        """Set ``exit_long``/``exit_short`` = 1 (and ``exit_tag``) where to exit."""
        return self.populate_sell_trend(dataframe, metadata)

    # -- small freqtrade helpers strategies call ---------------------------------------------
    def get_strategy_name(self) -> str:
        """The strategy class name."""
        return type(self).__name__

    def is_pair_locked(self, pair: str, *, candle_date: Any = None, side: str = "*") -> bool:
        """Pair locks (protections) are not simulated: always False."""
        return False

    def lock_pair(self, pair: str, until: Any, reason: str | None = None, side: str = "*") -> None:
        """Pair locks are not simulated: no effect."""

    def unlock_pair(self, pair: str) -> None:
        """Pair locks are not simulated: no effect."""

    def unlock_reason(self, reason: str) -> None:
        """Pair locks are not simulated: no effect."""


def _tags(col: pd.Series) -> pd.Series:
    """Tags as object values: strings kept, ``""``/NaN/None become None."""
    tags = col.astype(object)
    return tags.where(~(tags.isna() | (tags == "")), None)
