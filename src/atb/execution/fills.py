"""Fill, fee and slippage model shared by the backtest kernels, the paper exchange and live checks.

One implementation of the backtest's arithmetic (``../shared/parity/SPEC.md`` sections 4, 6, 7):

* amounts are ``stake / price * leverage`` truncated to the amount step
  (:func:`amount_for_stake`, calls the kernel's ``truncate_tick_nb``);
* prices round to the tick half away from zero, stop prices up (long) / down (short)
  (:func:`round_price`, :func:`round_stop_price`, the kernel's ``round_tick*_nb``);
* the fee of a fill is ``fee_rate x (amount x price)`` in quote currency, charged on both sides;
  what a fill moves in cash is :func:`fill_value` (the kernel's ``close_value_nb``).

Float functions take tick/step *decimals* (``d`` for a step of ``10**-d``) and return exactly the
kernel's doubles. The ``Decimal`` functions are the order path: a power-of-ten step goes through
the kernel on the float; any other step (``0.5``, ``5``) is quantised in ``Decimal``, which agrees
with the kernel wherever both apply (tested on random inputs).

Slippage (:class:`SlippageModel`, paper trading only; the backtest has none): a market order
fills at ``reference x (1 +- (fixed_bps + impact_bps x participation**impact_exponent) / 1e4)``,
worse for the taker (buys up, sells down), rounded to the tick away from the taker's favour;
``participation = amount / candle volume`` (square-root impact law with the default exponent).

Limit and stop rules against a candle (:func:`limit_fill_price`, :func:`stop_trigger_price`) are
the backtest's: an order fills at its price when ``low <= price <= high``; a candle that traded
entirely through the price (gap) fills at the open (the backtest never sees that case for its own
orders; a venue fills at the open).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal

import numpy as np

from atb.backtest.kernels.precision_nb import (
    round_tick_down_nb,
    round_tick_nb,
    round_tick_up_nb,
    truncate_tick_nb,
)
from atb.backtest.kernels.records import TS_AMOUNT, TS_FEE_CLOSE, TS_IS_SHORT, TS_N
from atb.backtest.kernels.stops_nb import close_value_nb
from atb.core.enums import OrderSide
from atb.errors import ConfigError

__all__ = [
    "SlippageModel",
    "amount_for_stake",
    "amount_to_step",
    "fee_amount",
    "fee_of",
    "fill_value",
    "limit_fill_price",
    "market_fill_price",
    "participation_cap",
    "price_to_tick",
    "round_price",
    "round_stop_price",
    "step_decimals",
    "stop_trigger_price",
    "to_decimal",
]

_ONE = Decimal(1)
_BPS = Decimal(10_000)


def to_decimal(x: float | int | str | Decimal) -> Decimal:
    """``Decimal`` of a float's shortest repr (ccxt's and freqtrade's ``Decimal(str(x))``)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(float(x)))  # float(): numpy scalars repr as "np.float64(...)"
    return Decimal(x)


def step_decimals(step: Decimal | float) -> int | None:
    """``d`` when ``step == 10**-d`` (``d`` may be negative for 10, 100, ...), else None.

    Examples
    --------
    >>> step_decimals(Decimal("0.001")), step_decimals(0.01), step_decimals(Decimal("0.5"))
    (3, 2, None)
    """
    s = to_decimal(step)
    if not s.is_finite() or s <= 0:
        raise ConfigError(f"step: invalid value {step!r} (must be > 0)")
    s = s.normalize()
    sign, digits, exp = s.as_tuple()
    if digits == (1,) and isinstance(exp, int):
        return -exp
    return None


# --- float twins of the kernel arithmetic (exact equality with the backtest) ----------------


def amount_for_stake(stake: float, price: float, amount_decimals: int, leverage: float = 1.0) -> float:
    """Base amount bought with ``stake`` at ``price``, as the backtest's entry kernel computes it.

    Parameters
    ----------
    stake : float
        Stake (margin) in quote currency.
    price : float
        Entry price in quote currency.
    amount_decimals : int
        The amount step is ``10**-amount_decimals`` (base currency).
    leverage : float
        >= 1; the amount is ``stake / price * leverage``.

    Returns
    -------
    float
        ``truncate_tick_nb(stake / price * leverage, amount_decimals)`` (ccxt TRUNCATE).

    Examples
    --------
    >>> amount_for_stake(0.05, 0.08681736, 8)  # SPEC.md section 7's first ETH/BTC trade
    0.57592168
    """
    return float(truncate_tick_nb(stake / price * leverage, amount_decimals))


def round_price(price: float, tick_decimals: int) -> float:
    """Entry/exit price rounded half away from zero to a tick of ``10**-tick_decimals``."""
    return float(round_tick_nb(price, tick_decimals))


def round_stop_price(price: float, tick_decimals: int, is_short: bool) -> float:
    """Stop price rounded up (long) / down (short) to the tick, as ``adjust_stop_loss_nb``."""
    if is_short:
        return float(round_tick_down_nb(price, tick_decimals))
    return float(round_tick_up_nb(price, tick_decimals))


def fee_of(amount: float, price: float, fee_rate: float) -> float:
    """Fee of a fill in quote currency: ``(amount x price) x fee_rate`` (the kernels' product)."""
    return (amount * price) * fee_rate


def fill_value(amount: float, price: float, fee_rate: float, side: OrderSide) -> float:
    """Quote currency a fill moves, fee included, as the backtest kernels compute it.

    A buy costs ``v + v x fee`` (the kernel's long ``open_value``, short ``close_value``), a
    sell yields ``v - v x fee`` (long ``close_value``), ``v = amount x price``. Evaluated by
    the kernel's ``close_value_nb`` (a short's exit is a buy), so there is one implementation.
    """
    st = np.zeros(TS_N, dtype=np.float64)
    st[TS_AMOUNT] = amount
    st[TS_FEE_CLOSE] = fee_rate
    st[TS_IS_SHORT] = 1.0 if side == OrderSide.BUY else 0.0
    return float(close_value_nb(st, price))


# --- Decimal order path ----------------------------------------------------------------------


def _quantize(x: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (x / step).to_integral_value(rounding=rounding) * step


def amount_to_step(amount: Decimal, step: Decimal) -> Decimal:
    """Truncate a base amount to a multiple of ``step`` (ccxt TRUNCATE / TICK_SIZE).

    Power-of-ten steps go through the kernel's ``truncate_tick_nb`` on the float (the
    backtest's arithmetic); other steps are truncated in ``Decimal``.
    """
    d = step_decimals(step)
    if d is not None and d >= 0 and amount > 0:
        return to_decimal(float(truncate_tick_nb(float(amount), d)))
    return _truncate_decimal(amount, step)


def _truncate_decimal(amount: Decimal, step: Decimal) -> Decimal:
    """``Decimal`` truncation to ``step`` (the fallback of :func:`amount_to_step`)."""
    if amount <= 0:
        return amount
    return _quantize(amount, step, ROUND_DOWN).normalize()


def price_to_tick(price: Decimal, tick: Decimal, mode: str = "round") -> Decimal:
    """Round a price (quote currency) to ``tick``: ``"round"`` (half away), ``"up"`` or ``"down"``.

    ``"round"``/``"up"``/``"down"`` are the backtest's entry/exit, long-stop and short-stop
    rules; power-of-ten ticks use the kernels on the float, other ticks ``Decimal``.
    """
    d = step_decimals(tick)
    if d is not None and d >= 0 and price > 0:
        f = float(price)
        fn = {"round": round_tick_nb, "up": round_tick_up_nb, "down": round_tick_down_nb}.get(mode)
        if fn is None:
            raise ConfigError(f"price_to_tick: invalid value for 'mode': {mode!r}")
        return to_decimal(float(fn(f, d)))
    return _price_to_tick_decimal(price, tick, mode)


def _price_to_tick_decimal(price: Decimal, tick: Decimal, mode: str) -> Decimal:
    """``Decimal`` rounding to ``tick`` (the fallback of :func:`price_to_tick`)."""
    if price <= 0:
        return price
    rounding = {"round": ROUND_HALF_UP, "up": ROUND_CEILING, "down": ROUND_FLOOR}.get(mode)
    if rounding is None:
        raise ConfigError(f"price_to_tick: invalid value for 'mode': {mode!r}")
    return _quantize(price, tick, rounding).normalize()


def fee_amount(price: Decimal, amount: Decimal, fee_rate: Decimal) -> Decimal:
    """Fee of a fill in quote currency: ``price x amount x fee_rate``, exact in ``Decimal``.

    Equals freqtrade's ``FtPrecise`` fee on the decimal reprs (``atb.backtest.profit``).

    Examples
    --------
    >>> fee_amount(Decimal("42283.58"), Decimal("0.002"), Decimal("0.001"))
    Decimal('0.08456716')
    """
    return price * amount * fee_rate


def participation_cap(remaining: Decimal, volume: Decimal | None, max_participation: float | None,
                      step: Decimal) -> Decimal:
    """Amount (base) one order may fill on one candle: ``min(remaining, volume x cap)`` to step.

    Parameters
    ----------
    remaining : Decimal
        Unfilled amount of the order, base currency.
    volume : Decimal or None
        The candle's traded volume, base currency (None: unknown, no cap).
    max_participation : float or None
        Largest fraction of the volume one order may take per candle (None: no cap).
    step : Decimal
        The market's amount step; the cap is truncated to it.
    """
    if max_participation is None or volume is None:
        return remaining
    cap = amount_to_step(volume * to_decimal(float(max_participation)), step)
    return min(remaining, max(cap, Decimal(0)))


@dataclass(frozen=True, slots=True, kw_only=True)
class SlippageModel:
    """Market-order slippage: a fixed part plus a volume-participation impact.

    ``slip_bps = fixed_bps + impact_bps x (amount / candle_volume) ** impact_exponent``; a buy
    fills at ``reference x (1 + slip_bps / 1e4)``, a sell at ``reference x (1 - slip_bps / 1e4)``.
    The default (all zero) is the backtest's: no slippage, the reference price unchanged.

    Attributes
    ----------
    fixed_bps : float
        Slippage in basis points on every market fill (>= 0).
    impact_bps : float
        Impact in basis points at 100 % participation (>= 0).
    impact_exponent : float
        Exponent of the participation (0.5: square-root law), > 0.
    """

    fixed_bps: float = 0.0
    impact_bps: float = 0.0
    impact_exponent: float = 0.5

    def __post_init__(self) -> None:
        for name in ("fixed_bps", "impact_bps"):
            v = getattr(self, name)
            if not (v >= 0.0) or math.isinf(v):
                raise ConfigError(f"slippage: invalid value for '{name}': {v!r} (must be >= 0)")
        if not (self.impact_exponent > 0.0) or math.isinf(self.impact_exponent):
            raise ConfigError(f"slippage: invalid value for 'impact_exponent': {self.impact_exponent!r}")

    @property
    def is_zero(self) -> bool:
        """True when the model never moves the price."""
        return self.fixed_bps == 0.0 and self.impact_bps == 0.0

    def slip_bps(self, amount: Decimal, volume: Decimal | None) -> Decimal:
        """Slippage in basis points for ``amount`` (base) against a candle ``volume`` (base)."""
        bps = to_decimal(float(self.fixed_bps))
        if self.impact_bps > 0.0 and volume is not None and volume > 0:
            part = float(amount / volume)
            bps += to_decimal(float(self.impact_bps * part**self.impact_exponent))
        return bps


def market_fill_price(reference: Decimal, side: OrderSide, amount: Decimal, volume: Decimal | None,
                      slippage: SlippageModel, tick: Decimal) -> Decimal:
    """Fill price (quote currency) of a market order against a reference price.

    Parameters
    ----------
    reference : Decimal
        The price the backtest would use: the candle open (next-open fills) or the last price.
    side : OrderSide
        Buys slip up, sells down.
    amount : Decimal
        Amount filled, base currency.
    volume : Decimal or None
        Volume of the candle the fill belongs to, base currency (impact; None: fixed part only).
    slippage : SlippageModel
        The model; with zero slippage ``reference`` is returned unchanged (backtest parity).
    tick : Decimal
        Price tick; a slipped price is rounded to it against the taker (up for buys).

    Examples
    --------
    >>> market_fill_price(Decimal("100"), OrderSide.BUY, Decimal("1"), None,
    ...                   SlippageModel(fixed_bps=5.0), Decimal("0.01"))
    Decimal('100.05')
    """
    if slippage.is_zero:
        return reference
    bps = slippage.slip_bps(amount, volume)
    if bps == 0:
        return reference
    if side == OrderSide.BUY:
        return _price_to_tick_decimal(reference * (_ONE + bps / _BPS), tick, "up")
    return _price_to_tick_decimal(reference * (_ONE - bps / _BPS), tick, "down")


def limit_fill_price(side: OrderSide, limit: Decimal, open_: Decimal, high: Decimal,
                     low: Decimal) -> Decimal | None:
    """Fill price of a resting limit order on one candle, or None when the candle misses it.

    The backtest's rule (SPEC.md section 7): fills at the limit when ``low <= limit <= high``.
    A candle entirely on the order's favourable side of the limit (a buy limit above the high, a
    sell limit below the low: the market gapped through it) fills at the open.
    """
    if low <= limit <= high:
        return limit
    if side == OrderSide.BUY and limit > high:
        return open_
    if side == OrderSide.SELL and limit < low:
        return open_
    return None


def stop_trigger_price(side: OrderSide, stop: Decimal, open_: Decimal, high: Decimal,
                       low: Decimal) -> Decimal | None:
    """Price at which a stop is triggered on one candle, or None when not triggered.

    A sell stop triggers when ``low <= stop``, a buy stop when ``high >= stop``. The trigger
    price is the stop itself, or the open when the whole candle traded beyond it (the backtest's
    ``stop_close_rate_nb``: a gap fills at the open).
    """
    if side == OrderSide.SELL:
        if low > stop:
            return None
        return open_ if stop > high else stop
    if high < stop:
        return None
    return open_ if stop < low else stop
