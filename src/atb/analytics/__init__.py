"""Performance analytics: pure functions over trade lists, balances and return series.

``performance`` (freqtrade's per-trade summary ratios), ``drawdown`` (account drawdown and the
underwater curve), ``returns`` (textbook ratios of a periodic return series) and ``tables``
(per-pair / exit-reason / enter-tag rows).
"""

from atb.analytics.drawdown import (
    DrawdownResult,
    drawdown_series,
    max_drawdown,
    max_drawdown_of_returns,
    underwater,
)
from atb.analytics.performance import (
    average_duration,
    cagr,
    calmar,
    expectancy,
    market_change,
    profit_factor,
    sharpe,
    sortino,
    sqn,
    sqn_p_value,
    win_draw_loss,
)
from atb.analytics.returns import (
    annual_return,
    calmar_ratio,
    daily_profit,
    daily_returns,
    sharpe_ratio,
    sortino_ratio,
)
from atb.analytics.tables import group_row, group_table

__all__ = [
    "DrawdownResult",
    "annual_return",
    "average_duration",
    "cagr",
    "calmar",
    "calmar_ratio",
    "daily_profit",
    "daily_returns",
    "drawdown_series",
    "expectancy",
    "group_row",
    "group_table",
    "market_change",
    "max_drawdown",
    "max_drawdown_of_returns",
    "profit_factor",
    "sharpe",
    "sharpe_ratio",
    "sortino",
    "sortino_ratio",
    "sqn",
    "sqn_p_value",
    "underwater",
    "win_draw_loss",
]
