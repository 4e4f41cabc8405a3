"""Exit brackets on the venue: OCO stoploss + take-profit levels, and the trailing stop.

:class:`OcoBracket` keeps one stop-limit order and one limit order per take-profit level resting
for a position, and re-shapes them whenever something filled so that

* the stop always covers exactly the bracket's remaining amount, and
* the take-profit orders together never exceed it (far levels are cut first).

Its state is the order store: orders carry the tags ``oco:<bracket_id>:sl`` and
``oco:<bracket_id>:tp<k>``; the immutable :class:`BracketSpec` is the caller's (a live trade
rebuilds it on restart). :meth:`OcoBracket.sync` is idempotent, so after a crash a new bracket on
the same store converges to the same orders. Orders are cancelled before their replacement is
placed (never more on the venue than the position), each replacement under a new client id.

:class:`TrailingStop` computes the stop exactly as the backtest kernel does (freqtrade's
``trailing_stop``, ``trailing_stop_positive``, ``trailing_stop_positive_offset``,
``trailing_only_offset_is_reached``; ``../shared/parity/SPEC.md`` section 5.2) by calling the
kernel's ``profit_ratio_nb`` and ``adjust_stop_loss_nb`` on a trade-state row, and moves the
bracket's stop when the level improves by at least one price tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import numpy as np

from atb.backtest.kernels.records import (
    TS_AMOUNT,
    TS_FEE_CLOSE,
    TS_FEE_OPEN,
    TS_IS_SHORT,
    TS_LEVERAGE,
    TS_LIQ_PRICE,
    TS_N,
    TS_OPEN_RATE,
    TS_OPEN_VALUE,
    TS_STOP,
    TS_TICK,
    TS_TRAILING,
)
from atb.backtest.kernels.stops_nb import adjust_stop_loss_nb, profit_ratio_nb
from atb.core.enums import OrderSide, OrderType
from atb.errors import ConfigError
from atb.execution.order_manager import OrderManager, round_down
from atb.orders.models import Order
from atb.orders.state import is_terminal

__all__ = ["BracketSpec", "BracketStatus", "OcoBracket", "TakeProfitLevel", "TrailingConfig", "TrailingStop"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeProfitLevel:
    """One take-profit level: a limit ``price`` (quote currency) closing ``fraction`` of the entry amount."""

    price: Decimal
    fraction: Decimal

    def __post_init__(self) -> None:
        if not self.price.is_finite() or self.price <= 0:
            raise ConfigError(f"take-profit: invalid value for 'price': {self.price!r}")
        if not (0 < self.fraction <= 1):
            raise ConfigError(f"take-profit: invalid value for 'fraction': {self.fraction!r} (0 < f <= 1)")


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketSpec:
    """What a bracket protects (immutable; the caller persists it with its trade).

    Attributes
    ----------
    bracket_id : str
        Short unique id (letters, digits, ``-``), part of the order tags.
    pair : str
        ``BASE/QUOTE``.
    amount : Decimal
        Position amount at entry, base currency.
    stop_price : Decimal
        Initial stop trigger, quote currency.
    take_profits : tuple of TakeProfitLevel
        Nearest first; fractions add up to at most 1.
    is_short : bool
        Short position (exit orders buy).
    stop_limit_ratio : Decimal
        Limit price of the stop order as a ratio of its trigger (freqtrade's
        ``stoploss_on_exchange_limit_ratio``, 0.99: 1 % below the trigger for a long).
    """

    bracket_id: str
    pair: str
    amount: Decimal
    stop_price: Decimal
    take_profits: tuple[TakeProfitLevel, ...] = ()
    is_short: bool = False
    stop_limit_ratio: Decimal = Decimal("0.99")

    def __post_init__(self) -> None:
        if not self.bracket_id or ":" in self.bracket_id:
            raise ConfigError(f"bracket: invalid value for 'bracket_id': {self.bracket_id!r}")
        if self.amount <= 0 or self.stop_price <= 0:
            raise ConfigError(f"bracket {self.bracket_id}: 'amount' and 'stop_price' must be > 0")
        if sum((t.fraction for t in self.take_profits), _ZERO) > 1:
            raise ConfigError(f"bracket {self.bracket_id}: invalid value for 'take_profits': fractions add "
                              "up to more than 1")
        if not (0 < self.stop_limit_ratio <= 1):
            raise ConfigError(f"bracket {self.bracket_id}: invalid value for 'stop_limit_ratio'")

    @property
    def exit_side(self) -> OrderSide:
        """Side of the exit orders."""
        return OrderSide.BUY if self.is_short else OrderSide.SELL

    def stop_tag(self) -> str:
        """Tag of the stop orders."""
        return f"oco:{self.bracket_id}:sl"

    def tp_tag(self, k: int) -> str:
        """Tag of level ``k``'s orders."""
        return f"oco:{self.bracket_id}:tp{k}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketStatus:
    """The bracket as the store sees it after :meth:`OcoBracket.sync`.

    ``remaining`` is the amount still protected (base currency); ``stop`` and ``take_profits``
    are the live orders (None where there is none); ``closed`` once nothing remains.
    """

    remaining: Decimal
    stop_price: Decimal
    stop: Order | None
    take_profits: tuple[Order | None, ...]
    closed: bool


def _round_price(price: Decimal, tick: Decimal, up: bool) -> Decimal:
    if tick <= 0:
        return price
    return (price / tick).to_integral_value(rounding=ROUND_UP if up else ROUND_DOWN) * tick


class OcoBracket:
    """Client-side OCO of one stop and several take-profit levels (module docstring).

    Parameters
    ----------
    manager : OrderManager
        Places and cancels the orders (write-ahead, under new client ids).
    spec : BracketSpec
    max_rounds : int
        Cancel/replace rounds per :meth:`sync` (a cancel racing a fill needs another round).
    """

    def __init__(self, manager: OrderManager, spec: BracketSpec, *, max_rounds: int = 6) -> None:
        self.manager = manager
        self.spec = spec
        self.max_rounds = max_rounds

    def orders(self) -> list[Order]:
        """Every stored order of this bracket, oldest first."""
        prefix = f"oco:{self.spec.bracket_id}:"
        return [o for o in self.manager.store.orders(self.manager.strategy_id, self.spec.pair)
                if (o.tag or "").startswith(prefix)]

    def remaining(self, orders: list[Order] | None = None) -> Decimal:
        """Entry amount minus everything the bracket's orders filled, capped at the stored position."""
        orders = self.orders() if orders is None else orders
        left = self.spec.amount - sum((o.filled for o in orders), _ZERO)
        pos = self.manager.store.position(self.manager.strategy_id, self.spec.pair).amount
        held = -pos if self.spec.is_short else pos
        return max(min(left, max(held, _ZERO)), _ZERO)

    def stop_price(self, orders: list[Order] | None = None) -> Decimal:
        """Current stop trigger: the newest stop order's, else the spec's (quote currency)."""
        orders = self.orders() if orders is None else orders
        stops = [o for o in orders if o.tag == self.spec.stop_tag() and o.request.stop_price is not None]
        if not stops:
            return self.spec.stop_price
        newest = max(stops, key=lambda o: (o.created_at, o.client_order_id))
        return newest.request.stop_price or self.spec.stop_price

    def status(self) -> BracketStatus:
        """The bracket's remaining amount, stop price and live orders (from the store)."""
        orders = self.orders()
        live = [o for o in orders if not is_terminal(o.status)]
        rem = self.remaining(orders)

        def first(tag: str) -> Order | None:
            return next((o for o in live if o.tag == tag), None)

        return BracketStatus(remaining=rem, stop_price=self.stop_price(orders),
                             stop=first(self.spec.stop_tag()), take_profits=tuple(first(self.spec.tp_tag(k))
                                                for k in range(len(self.spec.take_profits))),
                             closed=rem <= 0)

    async def sync(self) -> BracketStatus:
        """Cancel, reduce and (re)place the bracket's orders until they match the position."""
        market = await self.manager.market(self.spec.pair)
        step = market.amount_step if market else _ZERO
        tick = market.price_tick if market else _ZERO
        for _ in range(self.max_rounds):
            if not await self._sync_once(step, tick):
                break
        return self.status()

    async def move_stop(self, new_stop: Decimal) -> bool:
        """Cancel the stop order and place one at ``new_stop`` (quote currency); False if closed.

        After a crash between the cancel and the new order, :meth:`sync` re-places the stop at the
        previous level (the trailing stop moves it again on its next update).
        """
        orders = self.orders()
        for o in orders:
            if o.tag == self.spec.stop_tag() and not is_terminal(o.status):
                await self.manager.cancel(o.client_order_id)
        market = await self.manager.market(self.spec.pair)
        tick = market.price_tick if market else _ZERO
        orders = self.orders()
        if any(o.tag == self.spec.stop_tag() and not is_terminal(o.status) for o in orders):
            return False  # the cancel is unresolved (venue unreachable / unknown): try again later
        rem = self.remaining(orders)
        if rem <= 0:
            await self.sync()
            return False
        await self._place_stop(rem, new_stop, tick)
        await self.sync()
        return True

    async def _place_stop(self, amount: Decimal, stop: Decimal, tick: Decimal) -> None:
        s = self.spec
        if s.is_short:
            limit = _round_price(stop * (2 - s.stop_limit_ratio), tick, up=True)
        else:
            limit = _round_price(stop * s.stop_limit_ratio, tick, up=False)
        await self.manager.submit(pair=s.pair, side=s.exit_side, order_type=OrderType.STOP_LIMIT,
                                  amount=amount, price=limit, stop_price=stop, reduce_only=True,
                                  tag=s.stop_tag())

    def _tp_targets(self, step: Decimal) -> list[Decimal]:
        s = self.spec
        targets = [round_down(s.amount * t.fraction, step) for t in s.take_profits]
        if targets and sum((t.fraction for t in s.take_profits), _ZERO) == 1:
            targets[-1] = s.amount - sum(targets[:-1], _ZERO)
        return targets

    async def _sync_once(self, step: Decimal, tick: Decimal) -> bool:
        """One round; True when something was cancelled or placed (another round is needed)."""
        s = self.spec
        orders = self.orders()
        live = [o for o in orders if not is_terminal(o.status)]
        rem = self.remaining(orders)
        if rem <= 0:
            for o in live:
                await self.manager.cancel(o.client_order_id)
            return False
        want: dict[str, Decimal] = {s.stop_tag(): rem}
        left = rem
        for k, target in enumerate(self._tp_targets(step)):
            done = sum((o.filled for o in orders if o.tag == s.tp_tag(k)), _ZERO)
            amt = round_down(max(min(target - done, left), _ZERO), step)
            left -= amt
            want[s.tp_tag(k)] = amt
        keep: dict[str, Order] = {}
        changed = False
        for o in live:  # cancel everything that does not match its wanted amount (or is a duplicate)
            tag = o.tag or ""
            if tag in want and tag not in keep and o.remaining == want[tag]:
                keep[tag] = o
            else:
                await self.manager.cancel(o.client_order_id)
                changed = True
        if changed:
            return True  # re-read: a cancel may have raced a fill
        if s.stop_tag() not in keep:
            await self._place_stop(rem, self.stop_price(orders), tick)
            changed = True
        for k, level in enumerate(s.take_profits):
            tag = s.tp_tag(k)
            if want[tag] > 0 and tag not in keep:
                await self.manager.submit(pair=s.pair, side=s.exit_side, order_type=OrderType.LIMIT,
                                          amount=want[tag], price=level.price, reduce_only=True, tag=tag)
                changed = True
        return changed


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailingConfig:
    """freqtrade's stoploss settings (ratios, not percent).

    Attributes
    ----------
    stoploss : float
        Negative ratio, e.g. -0.10.
    trailing_stop : bool
    trailing_stop_positive : float or None
        Trailing distance once the profit exceeds the offset (None: ``stoploss`` is used).
    trailing_stop_positive_offset : float
    trailing_only_offset_is_reached : bool
    """

    stoploss: float
    trailing_stop: bool = False
    trailing_stop_positive: float | None = None
    trailing_stop_positive_offset: float = 0.0
    trailing_only_offset_is_reached: bool = False


class TrailingStop:
    """The backtest kernel's stop rule for one live position.

    Parameters
    ----------
    config : TrailingConfig
    open_rate : float
        Entry price, quote currency.
    amount : float
        Base currency.
    fee : float
        Fee ratio of entry and exit (profit ratios include it, as the kernel's).
    price_decimals : int
        Price precision as decimals (tick ``10**-d``), as the kernel's ``TS_TICK``.
    is_short : bool
    leverage : float
    stop : float, optional
        Current stop (quote currency) when resuming; default: the initial stop from ``stoploss``.
    """

    def __init__(self, config: TrailingConfig, *, open_rate: float, amount: float, fee: float,
                 price_decimals: int, is_short: bool = False, leverage: float = 1.0,
                 stop: float = math.nan) -> None:
        self.config = config
        st = np.full(TS_N, np.nan)
        st[TS_OPEN_RATE] = open_rate
        st[TS_AMOUNT] = amount
        st[TS_FEE_OPEN] = st[TS_FEE_CLOSE] = fee
        st[TS_IS_SHORT] = 1.0 if is_short else 0.0
        st[TS_LEVERAGE] = leverage
        st[TS_TRAILING] = 0.0
        st[TS_TICK] = price_decimals
        v = amount * open_rate
        st[TS_OPEN_VALUE] = v - v * fee if is_short else v + v * fee
        st[TS_LIQ_PRICE] = math.nan
        adjust_stop_loss_nb(st, open_rate, config.stoploss, True)
        if not math.isnan(stop):
            st[TS_STOP] = stop
        self.state = st

    @property
    def stop(self) -> float:
        """Current stop price, quote currency."""
        return float(self.state[TS_STOP])

    @property
    def tick(self) -> Decimal:
        """Price tick, quote currency."""
        return Decimal(1).scaleb(-int(self.state[TS_TICK]))

    def update(self, best: float, worst: float | None = None) -> float:
        """Step the stop with the best price since the last update (long: high; short: low).

        ``worst`` (long: low) gates the move as in the kernel: the stop moves only while it is not
        hit (long: stop < low). Returns the new stop (quote currency).
        """
        c = self.config
        st = self.state
        short = st[TS_IS_SHORT] > 0.5
        worst = best if worst is None else worst
        still_ok = st[TS_STOP] > worst if short else st[TS_STOP] < worst
        if c.trailing_stop and still_ok:
            profit_best = profit_ratio_nb(st, best)
            offset = c.trailing_stop_positive_offset
            if not (c.trailing_only_offset_is_reached and profit_best < offset):
                sl_value = c.stoploss
                positive = c.trailing_stop_positive
                if positive is not None and not math.isnan(positive) and profit_best > offset:
                    sl_value = positive
                adjust_stop_loss_nb(st, best, sl_value, False)
        return self.stop

    async def apply(self, bracket: OcoBracket, best: float, worst: float | None = None) -> bool:
        """:meth:`update`, then move ``bracket``'s stop if the level improved by >= one tick."""
        new = Decimal(repr(self.update(best, worst)))
        current = bracket.stop_price()
        better = current - new if bracket.spec.is_short else new - current
        if better < self.tick:
            return False
        return await bracket.move_stop(new)
