"""RiskEngine for live and paper trading: the only gate from an order intent to an order.

It calls the very same compiled rules as the backtest kernel (:mod:`atb.risk.rules`,
:mod:`atb.risk.sizing`) on values read from a :class:`PortfolioView`, so a decision taken live
equals the one the backtest would take on identical inputs. There is no switch that turns the
checks off: a deployment without limits must say so rule by rule in its risk config.

Typical loop (one candle close)::

    engine.mark()                          # equity -> state machine, maybe FlattenRequested
    decision = engine.check(intent)        # OrderDenied / OrderReduced recorded and emitted
    if decision.approved: place(decision.stake)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import numpy as np

from atb.orders.events import (
    FlattenRequested,
    OrderDenied,
    OrderReduced,
    RiskEvent,
    TradingStateChanged,
)
from atb.orders.models import OrderIntent
from atb.risk import layout as L
from atb.risk.config import RiskConfig
from atb.risk.rules import (
    evaluate_entry,
    final_notional,
    new_rstate,
    orders_in_window,
    pearson_corr,
    step_trading_state,
)
from atb.risk.sizing import PositionSizer, propose_notional

__all__ = ["OpenPosition", "PortfolioView", "RiskDecision", "RiskEngine", "TradingState"]


class TradingState(StrEnum):
    """nautilus_trader's trading states: entries allowed, exits only, nothing new."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """An open position as the risk engine sees it.

    ``notional`` is amount x current price (quote currency, mark-to-market).
    """

    pair: str
    notional: float
    is_short: bool = False


class PortfolioView(Protocol):
    """What the engine reads from the portfolio (nautilus ``PortfolioFacade``)."""

    def equity(self) -> float:
        """Mark-to-market account equity, quote currency."""
        ...

    def positions(self) -> Sequence[OpenPosition]:
        """Open positions (pending entry orders included at their order notional)."""
        ...


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Outcome of :meth:`RiskEngine.check`.

    ``stake`` is the approved stake (quote currency, 0 when denied); ``rule`` names the rule
    that denied or reduced the intent (None when approved unchanged).
    """

    intent: OrderIntent
    approved: bool
    stake: float
    rule: str | None = None
    reduced: bool = False

    @property
    def notional(self) -> float:
        """Approved stake x leverage."""
        return self.stake * self.intent.leverage


def _ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000


class RiskEngine:
    """The risk gate of live/paper trading (same rules as the backtest kernel).

    Parameters
    ----------
    config : RiskConfig
    portfolio : PortfolioView
    max_open_trades : float
        freqtrade's limit, used when ``max_open_positions`` is unset.
    stoploss : float
        The strategy's stoploss ratio (e.g. -0.10), the stop distance of intents without one.
    returns : callable, optional
        ``returns(pair) -> float64 array`` of the pair's recent log returns on a common candle
        grid (same length and end for every pair) for the correlation rule.
    clock : callable
        Returns the current UTC datetime.
    listeners : sequence of callables
        Called with every :data:`~atb.orders.events.RiskEvent`.
    sectors : mapping, optional
        Overrides ``config.sectors`` (pair -> sector name).
    """

    def __init__(
        self,
        config: RiskConfig,
        portfolio: PortfolioView,
        *,
        max_open_trades: float = math.inf,
        stoploss: float = math.nan,
        returns: Callable[[str], np.ndarray] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        listeners: Sequence[Callable[[RiskEvent], None]] = (),
    ) -> None:
        self.config = config
        self._portfolio = portfolio
        self._rp = config.to_vector(max_open_trades)
        self._stoploss = stoploss
        self._returns = returns
        self._clock = clock
        self._listeners = list(listeners)
        self._rstate = new_rstate(float(portfolio.equity()))
        self._order_times = np.zeros(max(config.max_orders_per_window or 1, 1) + 1)
        self._profits = np.zeros(config.sizing.kelly_window)
        self.events: list[RiskEvent] = []
        self.regime_scale = 1.0

    @property
    def position_sizer(self) -> PositionSizer:
        """Sizing with this engine's config, equity, drawdown and closed trades (for strategies)."""
        def profits() -> np.ndarray:
            n = int(min(self._rstate[L.RS_N_PROFITS], len(self._profits)))
            return self._profits[:n]

        return PositionSizer(self.config, lambda: float(self._portfolio.equity()),
                             lambda: self.drawdown, profits)

    # --- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> TradingState:
        """Current trading state."""
        return TradingState(L.STATE_NAMES[int(self._rstate[L.RS_STATE])])

    @property
    def drawdown(self) -> float:
        """Equity drawdown from the peak at the last mark (ratio)."""
        peak = self._rstate[L.RS_PEAK]
        return 1.0 - self._rstate[L.RS_EQUITY] / peak if peak > 0 else 0.0

    def _emit(self, event: RiskEvent) -> None:
        self.events.append(event)
        for listener in self._listeners:
            listener(event)

    def mark(self, equity: float | None = None, at: datetime | None = None) -> bool:
        """Mark the account to market and step the state machine (call at every candle close).

        Returns True when open positions must be flattened now (a
        :class:`~atb.orders.events.FlattenRequested` was emitted).
        """
        at = at or self._clock()
        eq = float(self._portfolio.equity() if equity is None else equity)
        old = self.state
        changed, flatten = step_trading_state(self._rstate, eq, _ns(at), self._rp)
        rule = L.RULE_NAMES.get(int(self._rstate[L.RS_RULE]), "none")
        if changed:
            self._emit(TradingStateChanged(old.value, self.state.value, rule, eq, at))
        if flatten and self._portfolio.positions():
            self._emit(FlattenRequested(rule, eq, at))
            return True
        return False

    def emergency_exit(self, pairs: tuple[str, ...] = (), *, rule: str = "critical_event",
                       at: datetime | None = None) -> bool:
        """Request an emergency exit of ``pairs`` (all open positions when empty).

        Called by signal sources that see a danger the account numbers cannot, e.g. a CRITICAL
        news event (``atb.signals``); the backtest kernel does the same on an ``emergency_exit``
        signal column. Emits :class:`~atb.orders.events.FlattenRequested` naming the pairs that
        are open; returns False (and emits nothing) when none of them is open.
        """
        at = at or self._clock()
        open_pairs = {p.pair for p in self._portfolio.positions()}
        targets = tuple(p for p in (pairs or tuple(sorted(open_pairs))) if p in open_pairs)
        if not targets:
            return False
        self._emit(FlattenRequested(rule, float(self._portfolio.equity()), at, pairs=targets))
        return True

    def kill(self, at: datetime | None = None) -> bool:
        """Engage the kill switch: HALTED from now on (flatten when ``flatten_on_halt``)."""
        self._rp[L.R_KILL_SWITCH] = 1.0
        return self.mark(at=at)

    def reset(self, at: datetime | None = None) -> None:
        """Manual reset after a halt: kill switch off, ACTIVE, peak = current equity."""
        at = at or self._clock()
        self._rp[L.R_KILL_SWITCH] = 1.0 if self.config.kill_switch else 0.0
        eq = float(self._portfolio.equity())
        old = self.state
        self._rstate[L.RS_STATE] = L.STATE_ACTIVE
        self._rstate[L.RS_RULE] = L.RULE_NONE
        self._rstate[L.RS_PEAK] = eq
        self._rstate[L.RS_EQUITY] = eq
        if old is not TradingState.ACTIVE:
            self._emit(TradingStateChanged(old.value, "ACTIVE", "reset", eq, at))

    def record_closed_trade(self, profit_ratio: float) -> None:
        """Feed a closed trade's profit ratio (for Kelly sizing)."""
        n = int(self._rstate[L.RS_N_PROFITS])
        self._profits[n % len(self._profits)] = profit_ratio
        self._rstate[L.RS_N_PROFITS] = n + 1

    # --- checks --------------------------------------------------------------------------------
    def _exposures(self, intent: OrderIntent) -> tuple[float, float, float, float, int]:
        base = intent.pair.split("/")[0]
        sector = self.config.sector_of(intent.pair)
        asset = sect = total = 0.0
        corr = math.nan
        positions = list(self._portfolio.positions())
        window = self.config.correlation_window
        mine = self._returns(intent.pair) if (
            self._returns is not None and not math.isinf(self._rp[L.R_MAX_CORRELATION])) else None
        for pos in positions:
            n = abs(pos.notional)
            total += n
            if pos.pair.split("/")[0] == base:
                asset += n
            if sector is not None and self.config.sector_of(pos.pair) == sector:
                sect += n
            if mine is not None and pos.pair != intent.pair and self._returns is not None:
                other = self._returns(pos.pair)
                m = min(len(mine), len(other))
                c = pearson_corr(np.ascontiguousarray(mine[-m:], dtype=np.float64),
                                 np.ascontiguousarray(other[-m:], dtype=np.float64), m, window)
                if not math.isnan(c) and (math.isnan(corr) or abs(c) > corr):
                    corr = abs(c)
        return asset, sect, total, corr, len(positions)

    def _deny(self, intent: OrderIntent, rule: int, eq: float, at: datetime) -> RiskDecision:
        name = L.RULE_NAMES.get(rule, "none")
        self._emit(OrderDenied(intent, name, f"{intent.kind} {intent.pair} denied by {name}", eq, at))
        return RiskDecision(intent, False, 0.0, name)

    def check(self, intent: OrderIntent, exchange_min_stake: float = math.nan) -> RiskDecision:
        """Approve, reduce or deny ``intent`` (events recorded in :attr:`events` and emitted).

        Exits and decreases always pass (they reduce risk). Entries and increases are sized
        (``sizing``) and checked in the kernel's order with the kernel's functions.
        """
        at = intent.created_at if intent.created_at.year > 1970 else self._clock()
        if not intent.opens_risk:
            return RiskDecision(intent, True, intent.stake)
        eq = float(self._portfolio.equity())
        lev = intent.leverage
        stop_d = intent.stop_distance
        if not (stop_d > 0.0):
            atr_mult = self._rp[L.R_STOP_ATR]
            if not math.isnan(atr_mult) and intent.volatility > 0.0:
                stop_d = atr_mult * intent.volatility
            else:
                stop_d = abs(self._stoploss) / lev
        asset, sect, total, corr, n_open = self._exposures(intent)
        n_ord = int(min(self._rstate[L.RS_N_ORDERS], len(self._order_times)))
        in_window = orders_in_window(self._order_times, n_ord, _ns(at), self._rp[L.R_ORDER_WINDOW_NS])
        deny, cap, cap_rule = evaluate_entry(
            int(self._rstate[L.RS_STATE]), eq, n_open, asset, sect, total, stop_d,
            intent.volatility, corr, in_window, self._rp)
        if deny:
            return self._deny(intent, deny, eq, at)
        n_prof = int(min(self._rstate[L.RS_N_PROFITS], len(self._profits)))
        peak = max(self._rstate[L.RS_PEAK], eq)
        dd = 1.0 - eq / peak if peak > 0 else 0.0
        requested = propose_notional(intent.notional, eq, stop_d, intent.volatility, dd,
                                     self._profits, n_prof, self.regime_scale, self._rp)
        notional, deny, reduce_rule = final_notional(requested, cap, cap_rule,
                                                     exchange_min_stake * lev, self._rp)
        if deny:
            return self._deny(intent, deny, eq, at)
        n = int(self._rstate[L.RS_N_ORDERS])
        self._order_times[n % len(self._order_times)] = _ns(at)
        self._rstate[L.RS_N_ORDERS] = n + 1
        if reduce_rule:
            name = L.RULE_NAMES[reduce_rule]
            self._emit(OrderReduced(intent, name, requested, notional, eq, at))
            return RiskDecision(intent, True, notional / lev, name, True)
        return RiskDecision(intent, True, notional / lev)
