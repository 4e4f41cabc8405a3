"""The immutable result of one backtest run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

__all__ = ["TRADE_COLUMNS", "BacktestResult"]

#: Columns of :attr:`BacktestResult.trades`, in order. The first 15 are exactly the fields of
#: freqtrade's exported trades (``../shared/parity/cases/*/trades.json``).
TRADE_COLUMNS: tuple[str, ...] = (
    "pair",  # str, "BASE/QUOTE"
    "open_date",  # datetime64[ns, UTC], candle open time of the entry candle
    "close_date",  # datetime64[ns, UTC], candle open time of the exit candle
    "open_rate",  # float64, entry price in quote currency
    "close_rate",  # float64, exit price in quote currency
    "amount",  # float64, base-currency amount (truncated to the market amount step)
    "profit_ratio",  # float64, profit_abs / open_value (ratio, not percent)
    "profit_abs",  # float64, profit in stake currency, rounded to 8 decimals
    "exit_reason",  # str: roi, stop_loss, trailing_stop_loss, exit_signal, force_exit, custom tag
    "enter_tag",  # str ("" when none)
    "is_short",  # bool
    "stake_amount",  # float64, amount * open_rate / leverage, in stake currency
    "fee_open",  # float64, fee ratio charged on entry
    "fee_close",  # float64, fee ratio charged on exit
    "trade_duration",  # int64, minutes between open_date and close_date
    "leverage",  # float64
    "max_rate",  # float64, highest price seen while open
    "min_rate",  # float64, lowest price seen while open
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Everything one backtest produced.

    Attributes
    ----------
    strategy : str
        Strategy class name.
    timeframe : str
        Candle timeframe, e.g. ``"1h"``.
    pairs : tuple of str
        Whitelist in the order used by the simulation.
    stake_currency : str
        Quote currency of stakes and profits.
    starting_balance : float
        ``dry_run_wallet`` in stake currency.
    max_open_trades : int
        Configured limit (``-1`` means unlimited).
    backtest_start, backtest_end : datetime
        UTC open time of the first and last candle of the simulated range (after startup trim).
    trades : pandas.DataFrame
        One row per closed trade, ordered by close (then as the loop closed them), columns
        :data:`TRADE_COLUMNS`.
    config : dict
        The effective configuration (JSON-serialisable) the run used.
    config_hash : str
        SHA-256 hex digest of the canonical JSON of ``config`` plus the strategy source.
    rejected_signals : int
        Entry signals not taken because ``max_open_trades`` was reached.
    market_change : float
        Mean over pairs of (last close / first close - 1) in the backtest range (ratio).
    candles : pandas.DataFrame or None
        Optional per-pair OHLCV used for plotting (``pair`` column added); may be ``None``.
    timings : dict
        Seconds spent per phase (``load_data``, ``indicators``, ``simulation``, ``total``).
    skipped_pairs : tuple of str
        Whitelisted pairs left out for lack of candles in the range (freqtrade skips them too).
    risk : RiskOutcome or None
        What the risk engine did (``atb.backtest.risk_run.RiskOutcome``); None without a risk
        section.
    strategy_report : dict[str, DataFrame]
        Extra report sections the strategy computed while analysing (e.g. out-of-sample ML
        metrics, fusion contributions): title -> one row per pair with a ``pair`` column.
    """

    strategy: str
    timeframe: str
    pairs: tuple[str, ...]
    stake_currency: str
    starting_balance: float
    max_open_trades: int
    backtest_start: datetime
    backtest_end: datetime
    trades: pd.DataFrame
    config: dict[str, Any]
    config_hash: str
    rejected_signals: int = 0
    market_change: float = 0.0
    candles: dict[str, pd.DataFrame] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    skipped_pairs: tuple[str, ...] = ()
    risk: Any = None
    strategy_report: dict[str, pd.DataFrame] = field(default_factory=dict)
