"""Risk engine: the only path from an order intent to an order, in backtest and live.

* :mod:`atb.risk.rules` - pure pre-trade rules and the trading-state machine (``@njit``);
* :mod:`atb.risk.sizing` - position sizing formulas (``@njit``);
* :mod:`atb.risk.config` - the validated ``risk`` config section;
* :mod:`atb.risk.engine` - :class:`RiskEngine` for live/paper code (same compiled rules);
* :mod:`atb.risk.var`, :mod:`atb.risk.metrics` - VaR/CVaR and portfolio risk metrics.
"""
