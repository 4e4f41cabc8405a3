"""Integer codes and parameter-vector layout shared by the risk rules, the kernel and live code.

Kept free of objects so that ``@njit`` code (the backtest kernel) and Python (the live
:class:`~atb.risk.engine.RiskEngine`) read the very same constants.
"""

from __future__ import annotations

__all__ = ["RULE_NAMES", "STATE_NAMES", "SIZING_NAMES"]

# --- trading states (nautilus_trader's TradingState) -------------------------------------------
STATE_ACTIVE = 0  # entries and exits
STATE_REDUCING = 1  # exits only
STATE_HALTED = 2  # no new orders; open positions flattened when configured

STATE_NAMES: dict[int, str] = {STATE_ACTIVE: "ACTIVE", STATE_REDUCING: "REDUCING", STATE_HALTED: "HALTED"}

# --- rule codes: why an order intent was denied or reduced, or why the state changed ----------
RULE_NONE = 0
RULE_KILL_SWITCH = 1
RULE_HALTED = 2
RULE_REDUCING = 3
RULE_MAX_OPEN_POSITIONS = 4
RULE_ORDER_RATE = 5
RULE_VOLATILITY = 6
RULE_CORRELATION = 7
RULE_POSITION_RISK = 8
RULE_ASSET_EXPOSURE = 9
RULE_SECTOR_EXPOSURE = 10
RULE_TOTAL_EXPOSURE = 11
RULE_MIN_NOTIONAL = 12
RULE_MAX_NOTIONAL = 13
RULE_DAILY_LOSS = 14
RULE_MAX_DRAWDOWN = 15
RULE_DRAWDOWN_REDUCE = 16
RULE_REGIME = 17
RULE_EVENT = 18  # emergency exit requested by a signal (e.g. a CRITICAL news event)

#: Rule code -> config-style rule name (used in events, reports and the config's rule list).
RULE_NAMES: dict[int, str] = {
    RULE_KILL_SWITCH: "kill_switch",
    RULE_HALTED: "trading_halted",
    RULE_REDUCING: "trading_reducing",
    RULE_MAX_OPEN_POSITIONS: "max_open_positions",
    RULE_ORDER_RATE: "order_rate",
    RULE_VOLATILITY: "volatility",
    RULE_CORRELATION: "correlation",
    RULE_POSITION_RISK: "position_risk",
    RULE_ASSET_EXPOSURE: "asset_exposure",
    RULE_SECTOR_EXPOSURE: "sector_exposure",
    RULE_TOTAL_EXPOSURE: "total_exposure",
    RULE_MIN_NOTIONAL: "min_notional",
    RULE_MAX_NOTIONAL: "max_notional",
    RULE_DAILY_LOSS: "daily_loss",
    RULE_MAX_DRAWDOWN: "max_drawdown",
    RULE_DRAWDOWN_REDUCE: "drawdown_reduce",
    RULE_REGIME: "regime",
    RULE_EVENT: "critical_event",
}

# --- sizing methods ------------------------------------------------------------------------------
SIZING_FIXED = 0
SIZING_FIXED_FRACTIONAL = 1
SIZING_KELLY = 2
SIZING_VOLATILITY_TARGET = 3

SIZING_NAMES: dict[int, str] = {
    SIZING_FIXED: "fixed",
    SIZING_FIXED_FRACTIONAL: "fixed_fractional",
    SIZING_KELLY: "kelly",
    SIZING_VOLATILITY_TARGET: "volatility_target",
}

# --- indices into the risk parameter vector ``rp`` (float64; nan / inf = rule off) -------------
R_ENABLED = 0  # 1.0 when a risk section is configured
R_KILL_SWITCH = 1
R_MAX_POSITION_RISK = 2  # equity fraction lost if the stop is hit
R_MAX_ASSET_EXPOSURE = 3  # notional per asset / equity
R_MAX_SECTOR_EXPOSURE = 4
R_MAX_TOTAL_EXPOSURE = 5
R_MAX_OPEN_POSITIONS = 6
R_MIN_NOTIONAL = 7  # quote currency
R_MAX_NOTIONAL = 8
R_VOLATILITY_THRESHOLD = 9  # ATR / close of the signal candle
R_MAX_CORRELATION = 10
R_CORRELATION_WINDOW = 11  # candles
R_DAILY_LOSS_LIMIT = 12  # equity fraction lost since the UTC day's start
R_DAILY_LOSS_FLATTEN = 13
R_MAX_DRAWDOWN = 14  # equity fraction below the peak
R_REDUCE_AT_DRAWDOWN = 15
R_HALT_COOLDOWN_NS = 16  # inf = halted until reset
R_FLATTEN_ON_HALT = 17
R_MAX_ORDERS = 18  # entry orders per window
R_ORDER_WINDOW_NS = 19
R_SIZING_METHOD = 20
R_RISK_FRACTION = 21
R_KELLY_MULTIPLIER = 22
R_KELLY_CAP = 23
R_KELLY_WINDOW = 24
R_KELLY_MIN_TRADES = 25
R_TARGET_VOLATILITY = 26
R_DRAWDOWN_SCALING = 27
R_DRAWDOWN_FLOOR = 28
R_STOP_ATR = 29  # ATR multiple of the dynamic stop (nan = strategy stoploss)
R_TP_COUNT = 30
R_TP_ATR_0 = 31  # up to 4 take-profit levels: ATR multiples ...
R_TP_FRACTION_0 = 35  # ... and the fraction of the initial amount each closes
R_TRAIL_AFTER_TP = 39  # 1.0: stop moves to break-even after TP1, to TP(k-1) after TP(k)
R_N = 40
TP_MAX = 4

# --- risk-engine state vector ``rstate`` (float64[RS_N]), shared by kernel and live engine ----
RS_STATE = 0
RS_RULE = 1
RS_PEAK = 2
RS_DAY = 3  # UTC day number of the last mark (nan before the first)
RS_DAY_START = 4  # equity at the last mark of the previous UTC day
RS_HALTED_AT = 5  # UTC ns of the last transition to HALTED
RS_EQUITY = 6  # equity at the last mark
RS_N_LOG = 7  # kernel: records in the risk log
RS_N_ORDERS = 8  # entry orders recorded in the order-time ring
RS_N_PROFITS = 9  # closed trades recorded in the profit ring
RS_FLATTEN = 10  # kernel: 1.0 while an emergency flatten is pending
RS_N = 11
