"""Integer constants and record layouts shared by the backtest kernels (numba-friendly).

Exit reason codes, trade-state column indices and the closed-trade record dtype. Kept free of
pandas and objects so that ``@njit`` code can use them as compile-time constants.
"""

from __future__ import annotations

__all__ = ["EXIT_REASON_NAMES"]

# --- exit reason codes (names are freqtrade's ExitType values) -------------------------------
EXIT_NONE = 0
EXIT_ROI = 1
EXIT_STOP_LOSS = 2
EXIT_TRAILING_STOP_LOSS = 3
EXIT_SIGNAL = 4
EXIT_FORCE = 5
EXIT_CUSTOM = 6
EXIT_LIQUIDATION = 7
EXIT_EMERGENCY = 8
EXIT_TAKE_PROFIT = 9

#: Code -> freqtrade exit reason string.
EXIT_REASON_NAMES: dict[int, str] = {
    EXIT_ROI: "roi",
    EXIT_STOP_LOSS: "stop_loss",
    EXIT_TRAILING_STOP_LOSS: "trailing_stop_loss",
    EXIT_SIGNAL: "exit_signal",
    EXIT_FORCE: "force_exit",
    EXIT_CUSTOM: "custom_exit",
    EXIT_LIQUIDATION: "liquidation",
    EXIT_EMERGENCY: "emergency_exit",
    EXIT_TAKE_PROFIT: "take_profit",
}

# --- columns of the per-pair open-trade state matrix ``ts`` (float64, shape (n_pairs, TS_N)) ---
TS_OPEN_ROW = 0  # flat row index of the entry candle
TS_OPEN_RATE = 1  # entry price, quote currency
TS_AMOUNT = 2  # base amount
TS_STAKE = 3  # stake amount (amount * open_rate / leverage)
TS_FEE_OPEN = 4
TS_FEE_CLOSE = 5
TS_IS_SHORT = 6  # 0.0 / 1.0
TS_LEVERAGE = 7
TS_STOP = 8  # current stop price (nan = not set)
TS_INITIAL_STOP = 9
TS_STOP_PCT = 10  # stop distance of the last stop update (negative ratio)
TS_TRAILING = 11  # 1.0 once the stop was moved after the initial set
TS_MAX_RATE = 12
TS_MIN_RATE = 13
TS_TICK = 14  # price tick of the entry month
TS_OPEN_VALUE = 15  # amount * open_rate * (1 + fee) (long) / (1 - fee) (short)
TS_ENTER_TAG = 16  # tag id (0 = none)
TS_OPEN_DATE = 17  # entry candle open time, UTC ns (as float64; exact below 2**53)
TS_EXIT_OPEN = 18  # 1.0 while an exit order is open
TS_EXIT_PRICE = 19
TS_EXIT_AMOUNT = 20
TS_EXIT_REASON = 21  # exit reason code of the open exit order
TS_EXIT_TAG = 22  # tag id of the open exit order's reason (0 = use the code's name)
TS_LIQ_PRICE = 23  # liquidation price (nan = none)
TS_ENTRY_OPEN = 24  # 1.0 while the entry order is unfilled
TS_SEQ = 25  # opening sequence number (orders pairs with open trades)
TS_N = 26

TS_EXIT_DATE = 26  # UTC ns when the open exit order was placed
TS_ENTRY_ORDER_PRICE = 27  # price of the entry order (the raw open for entries at the open)
TS_ATR = 28  # ATR of the signal candle at entry, quote currency (risk engine; nan = off)
TS_TP_HIT = 29  # take-profit levels already filled (brackets)
TS_INITIAL_AMOUNT = 30  # amount at entry, before partial exits
TS_REALIZED = 31  # profit of partial exits, quote currency
TS_PENDING_STOP = 32  # stop level a take-profit fill moves to from the next candle (nan = none)
TS_N = 33

# --- columns of the closed-trade output matrix (float64, shape (capacity, OUT_N)) ----------
OUT_PAIR = 0
OUT_OPEN_ROW = 1
OUT_CLOSE_ROW = 2
OUT_OPEN_RATE = 3
OUT_CLOSE_RATE = 4
OUT_AMOUNT = 5
OUT_STAKE = 6
OUT_FEE_OPEN = 7
OUT_FEE_CLOSE = 8
OUT_IS_SHORT = 9
OUT_LEVERAGE = 10
OUT_EXIT_REASON = 11
OUT_EXIT_TAG = 12
OUT_ENTER_TAG = 13
OUT_MAX_RATE = 14
OUT_MIN_RATE = 15
OUT_PROFIT_ABS = 16
OUT_OPEN_DATE = 17
OUT_CLOSE_DATE = 18
OUT_ENTRY_ORDER_PRICE = 19
OUT_INITIAL_AMOUNT = 20  # amount at entry (differs from OUT_AMOUNT after partial exits)
OUT_REALIZED = 21  # profit of partial exits, quote currency
OUT_PARTIAL_EXITS = 22
OUT_N = 23

# --- indices into the scalar parameter vector ``params`` (float64) --------------------------
P_STOPLOSS = 0  # negative ratio, e.g. -0.10
P_TRAILING_STOP = 1  # 0/1
P_TRAILING_POSITIVE = 2  # ratio or nan (not set)
P_TRAILING_OFFSET = 3  # ratio
P_ONLY_OFFSET = 4  # 0/1
P_USE_EXIT_SIGNAL = 5
P_EXIT_PROFIT_ONLY = 6
P_EXIT_PROFIT_OFFSET = 7
P_IGNORE_ROI_IF_ENTRY = 8
P_FEE = 9  # ratio charged on entry and exit value
P_STAKE_AMOUNT = 10  # quote currency; nan = "unlimited"
P_STARTING_BALANCE = 11
P_TRADABLE_RATIO = 12
P_MAX_OPEN_TRADES = 13  # inf = unlimited
P_CAN_SHORT = 14
P_USE_CUSTOM_STOPLOSS = 15
P_ENTRY_TIMEOUT_NS = 16  # <= 0: none
P_EXIT_TIMEOUT_NS = 17
P_TIMEFRAME_MIN = 18
P_AMOUNT_RESERVE = 19  # freqtrade amount_reserve_percent (0.05)
P_LIQUIDATION_BUFFER = 20
P_MAINT_MARGIN = 21  # maintenance margin ratio for the liquidation price
P_IS_FUTURES = 22  # 0 spot, 1 margin/futures
P_ENTRY_LIMIT = 23  # 1 when order_types['entry'] == 'limit'
P_EXIT_LIMIT = 24  # 1 when order_types['exit'] == 'limit'
P_N = 25

# --- callback flags (bit mask) ----------------------------------------------------------------
CB_CUSTOM_STOPLOSS = 1
CB_CUSTOM_EXIT = 2
CB_CUSTOM_STAKE = 4
CB_CONFIRM_ENTRY = 8
CB_CONFIRM_EXIT = 16
CB_ENTRY_PRICE = 32
CB_EXIT_PRICE = 64
CB_LEVERAGE = 128
CB_ENTRY_TIMEOUT = 256
CB_EXIT_TIMEOUT = 512

# --- resumable loop state (simulate_nb's ``loop_i``/``loop_f``) -------------------------------
# int64[n_pairs, LI_N]: per-pair cursor and flags kept between calls, so the live engine can run
# the loop one candle at a time with exactly the backtest's semantics.
LI_PTR = 0  # next row (0-based within the pair) to visit
LI_HAS_TRADE = 1  # 1 when the pair has an open trade (its state is in ``ts[p]``)
LI_OPEN_ORDER = 2  # pairs with open trades, by opening (first n_open entries valid)
LI_FIRST_SEEN = 3  # order in which pairs were first processed (-1 = not yet)
LI_FLAT = 4  # 1 when an emergency exit is pending for the pair
LI_N = 5
# float64[LF_N]: loop scalars
LF_N_OPEN = 0
LF_N_SEEN = 1
LF_CLOSED_PROFIT = 2  # realised profit of closed trades, quote currency
LF_TIED_UP = 3  # stake in open trades, quote currency
LF_N_OUT = 4  # closed trades written to ``out``
LF_REJECTED = 5  # entry signals rejected by max_open_trades
LF_SEQ = 6  # entries so far
LF_N = 7
