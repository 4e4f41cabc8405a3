"""Exact trade profit as freqtrade reports it (decimal arithmetic on the floats' repr)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["exact_profit", "exact_stake"]


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def exact_profit(
    amount: float,
    open_rate: float,
    close_rate: float,
    fee_open: float,
    fee_close: float,
    is_short: bool,
    leverage: float = 1.0,
    entry_order_price: float | None = None,
) -> tuple[float, float]:
    """Return ``(profit_abs, profit_ratio)`` of a closed trade.

    ``open_value = amount * open_rate * (1 + fee_open)`` and ``close_value = amount * close_rate *
    (1 - fee_close)`` (fees with the opposite sign for shorts) are computed exactly on the
    decimal repr of each float and converted to float, as freqtrade's ``FtPrecise`` does;
    ``profit_abs = round(close_value - open_value, 8)`` (quote currency) and ``profit_ratio =
    profit_abs / (open_value / leverage)`` (ratio). Source: ``../shared/parity/SPEC.md`` section 7.
    ``entry_order_price`` (default ``open_rate``) is the price the position is valued at.
    """
    # freqtrade values the position at the entry order's price (the raw candle open for entries
    # at the open) while reporting the open rate rounded to the tick
    price = open_rate if entry_order_price is None else entry_order_price
    open_trade = _d(amount) * _d(price)
    open_fee = open_trade * _d(fee_open)
    close_trade = _d(amount) * _d(close_rate)
    close_fee = close_trade * _d(fee_close)
    if is_short:
        open_value = float(open_trade - open_fee)
        close_value = float(close_trade + close_fee)
        diff = open_value - close_value
    else:
        open_value = float(open_trade + open_fee)
        close_value = float(close_trade - close_fee)
        diff = close_value - open_value
    profit_abs = float(f"{diff:.8f}")
    if open_value == 0:
        return profit_abs, 0.0
    return profit_abs, profit_abs / (open_value / leverage)


def exact_stake(amount: float, entry_order_price: float, leverage: float = 1.0) -> float:
    """Stake of a trade as freqtrade reports it, quote currency.

    ``amount * price / leverage`` computed on the decimal reprs, rounded to 8 decimals.
    """
    return round(float(_d(amount) * _d(entry_order_price)) / leverage, 8)
