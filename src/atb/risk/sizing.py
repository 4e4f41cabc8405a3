"""Position sizing formulas (``@njit``, shared by the backtest kernel and live code).

Every function returns a *notional* in quote currency (stake x leverage) or a ratio. Sizing
proposes a size; the rules in :mod:`atb.risk.rules` then cap it. Methods (``sizing.method``):

* ``fixed`` - freqtrade's ``stake_amount`` unchanged;
* ``fixed_fractional`` - lose ``risk_fraction`` of equity if the stop is hit;
* ``kelly`` - fractional Kelly from the rolling win rate and payoff of closed trades, capped;
* ``volatility_target`` - size so that one ATR move is ``target_volatility`` of equity.

Drawdown-aware scaling and a regime multiplier apply on top of any method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from atb.risk.layout import (
    R_DRAWDOWN_FLOOR,
    R_DRAWDOWN_SCALING,
    R_KELLY_CAP,
    R_KELLY_MIN_TRADES,
    R_KELLY_MULTIPLIER,
    R_MAX_DRAWDOWN,
    R_RISK_FRACTION,
    R_SIZING_METHOD,
    R_TARGET_VOLATILITY,
    SIZING_FIXED_FRACTIONAL,
    SIZING_KELLY,
    SIZING_NAMES,
    SIZING_VOLATILITY_TARGET,
)

__all__ = [
    "PositionSizer",
    "drawdown_scale",
    "fixed_fractional_notional",
    "kelly_fraction",
    "kelly_inputs",
    "propose_notional",
    "volatility_target_notional",
]


@njit(cache=True)
def fixed_fractional_notional(equity: float, risk_fraction: float, stop_distance: float) -> float:
    """Notional that loses ``risk_fraction`` of equity at a stop ``stop_distance`` away.

    ``equity * risk_fraction / stop_distance`` (Van Tharp, *Definitive Guide to Position
    Sizing*, 2008, "percent risk model"). nan when the stop distance is not positive.
    """
    if not (stop_distance > 0.0):
        return math.nan
    return max(equity, 0.0) * risk_fraction / stop_distance


@njit(cache=True)
def kelly_fraction(win_rate: float, payoff: float) -> float:
    """Kelly fraction ``f* = W - (1 - W) / R`` for win rate ``W`` and payoff ratio ``R``.

    ``R`` = average win / average loss (both positive). Source: Kelly (1956), "A New
    Interpretation of Information Rate"; the trading form as in Thorp (2006), "The Kelly
    Criterion in Blackjack, Sports Betting and the Stock Market", section 7. Negative edges
    return 0 (no bet); nan inputs return nan.
    """
    if math.isnan(win_rate) or math.isnan(payoff):
        return math.nan
    if payoff <= 0.0:
        return 0.0 if win_rate < 1.0 else 1.0
    return max(win_rate - (1.0 - win_rate) / payoff, 0.0)


@njit(cache=True)
def kelly_inputs(profits: np.ndarray, n: int) -> tuple[float, float]:
    """Win rate and payoff ratio of the first ``n`` closed-trade profit ratios.

    Draws (0) count as neither win nor loss. Payoff = mean win / mean |loss|; inf when there
    are wins and no loss; nan win rate when there is no decided trade.
    """
    wins = 0
    losses = 0
    sw = 0.0
    sl = 0.0
    for i in range(n):
        x = profits[i]
        if x > 0.0:
            wins += 1
            sw += x
        elif x < 0.0:
            losses += 1
            sl -= x
    if wins + losses == 0:
        return math.nan, math.nan
    w = wins / (wins + losses)
    if losses == 0:
        return w, math.inf
    if wins == 0:
        return w, 0.0
    return w, (sw / wins) / (sl / losses)


@njit(cache=True)
def volatility_target_notional(equity: float, target_volatility: float, volatility: float) -> float:
    """Notional whose one-ATR move equals ``target_volatility`` of equity.

    ``equity * target_volatility / volatility`` with ``volatility`` = ATR / close (per candle);
    the volatility-parity rule of e.g. Carver, *Systematic Trading* (2015), ch. 9. nan when
    the volatility is not positive.
    """
    if not (volatility > 0.0):
        return math.nan
    return max(equity, 0.0) * target_volatility / volatility


@njit(cache=True)
def drawdown_scale(drawdown: float, max_drawdown: float, floor: float) -> float:
    """Linear de-risking: ``max(floor, 1 - drawdown / max_drawdown)``; 1 when off or no drawdown."""
    if not (max_drawdown > 0.0) or math.isinf(max_drawdown) or not (drawdown > 0.0):
        return 1.0
    return max(floor, 1.0 - drawdown / max_drawdown)


@njit(cache=True)
def propose_notional(
    base_notional: float, equity: float, stop_distance: float, volatility: float,
    drawdown: float, profits: np.ndarray, n_profits: int, regime_scale: float, rp: np.ndarray,
) -> float:
    """The configured sizing method's notional, scaled for drawdown and regime.

    ``base_notional`` is freqtrade's stake x leverage; it is returned for ``fixed`` and
    whenever the method lacks an input (no stop distance, no volatility, fewer closed trades
    than ``kelly_min_trades``). Kelly uses ``min(f* x kelly_multiplier, kelly_cap)`` of equity.
    """
    method = int(rp[R_SIZING_METHOD])
    n = base_notional
    if method == SIZING_FIXED_FRACTIONAL:
        v = fixed_fractional_notional(equity, rp[R_RISK_FRACTION], stop_distance)
        if not math.isnan(v):
            n = v
    elif method == SIZING_KELLY:
        if n_profits >= rp[R_KELLY_MIN_TRADES]:
            w, r = kelly_inputs(profits, n_profits)
            f = kelly_fraction(w, r)
            if not math.isnan(f):
                n = max(equity, 0.0) * min(f * rp[R_KELLY_MULTIPLIER], rp[R_KELLY_CAP])
    elif method == SIZING_VOLATILITY_TARGET:
        v = volatility_target_notional(equity, rp[R_TARGET_VOLATILITY], volatility)
        if not math.isnan(v):
            n = v
    if rp[R_DRAWDOWN_SCALING] > 0.5:
        n *= drawdown_scale(drawdown, rp[R_MAX_DRAWDOWN], rp[R_DRAWDOWN_FLOOR])
    if not math.isnan(regime_scale):
        n *= regime_scale
    return n


class PositionSizer:
    """The configured sizing, callable from strategy code (``custom_stake_amount``) and live code.

    The backtest engine sets ``strategy.position_sizer`` to one of these when a risk section
    is configured (its equity is the kernel's mark-to-market equity at the decision);
    :attr:`atb.risk.engine.RiskEngine.position_sizer` gives the live one. Example::

        def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake,
                                min_stake, max_stake, leverage, entry_tag, side, **kwargs):
            return self.position_sizer.stake(proposed_stake, stop_distance=0.03,
                                             method="fixed_fractional", leverage=leverage)

    Parameters
    ----------
    config : RiskConfig
    equity : callable
        Returns the account equity (quote currency) now.
    drawdown : callable, optional
        Returns the equity drawdown from its peak (ratio) now.
    closed_profits : callable, optional
        Returns the recent closed-trade profit ratios (for Kelly).
    """

    def __init__(self, config: Any, equity: Callable[[], float],
                 drawdown: Callable[[], float] = lambda: 0.0,
                 closed_profits: Callable[[], np.ndarray] = lambda: np.zeros(0)) -> None:
        self._rp = config.to_vector()
        self._equity = equity
        self._drawdown = drawdown
        self._profits = closed_profits

    def stake(self, proposed_stake: float, *, stop_distance: float = math.nan,
              volatility: float = math.nan, leverage: float = 1.0, method: str | None = None,
              regime_scale: float = 1.0) -> float:
        """Stake (quote currency) the sizing method gives; ``proposed_stake`` when it lacks inputs.

        ``stop_distance`` (price move to the stop) and ``volatility`` (ATR / close) are ratios;
        ``method`` overrides the configured one (``fixed``, ``fixed_fractional``, ``kelly``,
        ``volatility_target``).

        Raises
        ------
        ValueError
            Unknown ``method``.
        """
        rp = self._rp
        if method is not None:
            codes = {v: k for k, v in SIZING_NAMES.items()}
            if method not in codes:
                raise ValueError(f"unknown sizing method {method!r}; known: {', '.join(codes)}")
            rp = rp.copy()
            rp[R_SIZING_METHOD] = codes[method]
        profits = np.ascontiguousarray(self._profits(), dtype=np.float64)
        n = propose_notional(proposed_stake * leverage, float(self._equity()), stop_distance,
                             volatility, float(self._drawdown()), profits, len(profits),
                             regime_scale, rp)
        return n / leverage
