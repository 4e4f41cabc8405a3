"""Enumerations with freqtrade's string values (used on the compatibility surface too)."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CandleType", "ExitType", "MarginMode", "OrderSide", "OrderType", "RunMode", "SignalDirection",
    "TimeInForce", "TradingMode",
]


class RunMode(StrEnum):
    """How the bot runs."""

    LIVE = "live"
    DRY_RUN = "dry_run"
    BACKTEST = "backtest"
    HYPEROPT = "hyperopt"
    PLOT = "plot"
    WEBSERVER = "webserver"
    OTHER = "other"


class CandleType(StrEnum):
    """Kinds of candle series."""

    SPOT = "spot"
    FUTURES = "futures"
    MARK = "mark"
    INDEX = "index"
    PREMIUMINDEX = "premiumIndex"
    FUNDING_RATE = "funding_rate"


class ExitType(StrEnum):
    """Exit reasons."""

    ROI = "roi"
    STOP_LOSS = "stop_loss"
    STOPLOSS_ON_EXCHANGE = "stoploss_on_exchange"
    TRAILING_STOP_LOSS = "trailing_stop_loss"
    LIQUIDATION = "liquidation"
    EXIT_SIGNAL = "exit_signal"
    FORCE_EXIT = "force_exit"
    EMERGENCY_EXIT = "emergency_exit"
    CUSTOM_EXIT = "custom_exit"
    PARTIAL_EXIT = "partial_exit"
    NONE = ""


class SignalDirection(StrEnum):
    """Trade direction."""

    LONG = "long"
    SHORT = "short"


class TradingMode(StrEnum):
    """Spot, margin or futures trading."""

    SPOT = "spot"
    MARGIN = "margin"
    FUTURES = "futures"


class MarginMode(StrEnum):
    """Isolated or cross margin ("" for spot)."""

    CROSS = "cross"
    ISOLATED = "isolated"
    NONE = ""


class OrderSide(StrEnum):
    """Side of an order (ccxt's values)."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Order types of the exchange port (ccxt's values).

    ``stop_limit`` is a limit order armed at ``stop_price`` (ccxt's ``stopPrice`` parameter).
    """

    MARKET = "market"
    LIMIT = "limit"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    """Time in force (ccxt's values).

    Good till cancelled, immediate or cancel, fill or kill, post-only (maker only: rejected if
    it would take).
    """

    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    PO = "PO"
