"""The environment's account: fills at candle opens, fees on traded notional, mark to market.

Fill and fee model (the backtest's, ``../shared/parity/SPEC.md`` section 7 and
:func:`atb.backtest.profit.exact_profit`): an action decided at the close of candle ``t`` fills at
the OPEN of candle ``t + 1``. Opening a position of size ``s`` with equity ``E`` buys (long) or
sells (short) ``amount = s * E / open`` base units, i.e. a stake of ``s * E`` as freqtrade's
``stake_amount`` with the fee rate charged on top of the notional:

* long: ``open_value = amount * open * (1 + fee)``, closing receives ``close_value = amount *
  close * (1 - fee)``;
* short: ``open_value = amount * open * (1 - fee)``, closing pays ``close_value = amount * close *
  (1 + fee)``.

The round trip changes equity by freqtrade's ``profit_abs`` and ``profit_abs / open_value`` is its
``profit_ratio``. Equity is ``cash + signed_amount * price``, marked at each close.
"""

from __future__ import annotations

import math

import numpy as np

from atb.rl.actions import next_position
from atb.rl.models import EnvTrade

__all__ = ["TIME_CAP", "Account", "observation_vector"]

#: ``time_in_trade`` in the observation is ``min(candles_held / window, TIME_CAP)``.
TIME_CAP = 4.0


class Account:
    """Cash, position and closed trades of one episode (equity starts at ``equity``).

    Parameters
    ----------
    fee : float
        Fee rate per side (ratio).
    equity : float
        Starting equity (quote currency units; the environment uses 1.0).
    """

    def __init__(self, fee: float, equity: float = 1.0) -> None:
        self.fee = float(fee)
        self.cash = float(equity)
        self.amount = 0.0  # signed base units
        self.position = 0.0  # signed fraction of equity at entry
        self.open_index = -1
        self.open_rate = math.nan
        self.open_value = 0.0
        self.entry_equity = math.nan
        self.entry_fee = 0.0
        self.fees_paid = 0.0
        self.trades: list[EnvTrade] = []

    def equity(self, price: float) -> float:
        """Equity marked at ``price`` (quote currency)."""
        return self.cash + self.amount * price

    def execute(self, target: float, price: float, index: int) -> EnvTrade | None:
        """Act on ``target`` at the open ``price`` of candle row ``index``.

        Returns
        -------
        EnvTrade or None
            The trade this fill closed, if any (a reversal closes one and opens the next).
        """
        new = next_position(self.position, target)
        if new == self.position:
            return None
        closed = self._close(price, index) if self.position != 0.0 else None
        if new != 0.0:
            self._open(new, price, index)
        return closed

    def _open(self, size: float, price: float, index: int) -> None:
        equity = self.cash  # flat: equity is cash
        notional = abs(size) * equity
        amount = notional / price
        fee = notional * self.fee
        if size > 0.0:
            self.cash -= notional + fee
            self.amount = amount
            self.open_value = notional + fee
        else:
            self.cash += notional - fee
            self.amount = -amount
            self.open_value = notional - fee
        self.position = size
        self.open_index = index
        self.open_rate = price
        self.entry_equity = equity
        self.entry_fee = fee
        self.fees_paid += fee

    def _close(self, price: float, index: int) -> EnvTrade:
        amount = abs(self.amount)
        notional = amount * price
        fee = notional * self.fee
        is_short = self.amount < 0.0
        if is_short:
            close_value = notional + fee
            self.cash -= close_value
            profit = self.open_value - close_value
        else:
            close_value = notional - fee
            self.cash += close_value
            profit = close_value - self.open_value
        self.fees_paid += fee
        trade = EnvTrade(
            open_index=self.open_index, close_index=index, is_short=is_short,
            size=abs(self.position), amount=amount, open_rate=self.open_rate, close_rate=price,
            open_value=self.open_value, close_value=close_value, fee_paid=self.entry_fee + fee,
            profit_abs=profit, profit_ratio=profit / self.open_value if self.open_value else 0.0,
        )
        self.trades.append(trade)
        self.amount = 0.0
        self.position = 0.0
        self.open_index = -1
        self.open_rate = math.nan
        self.open_value = 0.0
        self.entry_equity = math.nan
        self.entry_fee = 0.0
        return trade

    def state(self, close: float, row: int, window: int) -> tuple[float, float, float]:
        """``(position, unrealised_return, time_in_trade)`` at the close of candle ``row``.

        ``unrealised_return = equity(close) / equity_before_entry - 1`` (entry fee included, exit
        fee not); ``time_in_trade = min((row - open_index + 1) / window, 4)``; all 0 when flat.
        """
        if self.position == 0.0:
            return 0.0, 0.0, 0.0
        unrealised = self.equity(close) / self.entry_equity - 1.0
        held = min((row - self.open_index + 1) / window, TIME_CAP)
        return self.position, unrealised, held


def observation_vector(features: np.ndarray, row: int, window: int,
                       state: tuple[float, float, float]) -> np.ndarray:
    """Observation at the close of candle ``row`` (layout :class:`~atb.rl.models.ObservationSpec`).

    Parameters
    ----------
    features : ndarray
        Shape ``(n_candles, n_features)``, float64, causal.
    row : int
        Decision candle; needs ``row >= window - 1``.
    window : int
    state : tuple of float
        :meth:`Account.state`.

    Returns
    -------
    ndarray
        Shape ``(window * n_features + 3,)``, float32.
    """
    block = features[row - window + 1: row + 1].ravel()
    return np.concatenate([block, np.asarray(state, dtype=np.float64)]).astype(np.float32)
