"""One strategy on its pairs, candle by candle: analysis, the shared trade loop, the risk gate.

:class:`StrategyRunner` is what the paper and live engines run for each strategy instance. On
every closed candle it

1. appends the candle to each pair's history and to the :class:`~atb.live.stepper.CandleStepper`
   row with the signals of the previous candle (the backtest's row layout);
2. runs the backtest loop for that candle (:meth:`CandleStepper.step`) and puts every entry it
   decides through ``gate`` (the risk engine). A denied entry is undone: the loop state is
   restored and the candle re-run with that pair's entry signal cleared, so the wallet, the
   open-trade count and the other pairs see exactly what a denial means; a reduced entry keeps its
   trade with the approved amount;
3. analyses each pair's history with the strategy (``populate_*`` through ``atb_analyze``) and
   keeps the newest candle's signals for the next candle.

Live mode splits the same loop step at the real order of events: :meth:`StrategyRunner.open_candle`
at the candle's open (entries and exit signals at the open price), :meth:`on_price` for prices
inside the candle (stoploss, trailing stop and ROI by the kernel's exit decision on the candle seen
so far) and :meth:`close_candle` when it closes (the whole candle applied, then the analysis).

The strategy sees only candles that have closed (its history ends at the candle just closed;
informative timeframes are resampled from complete periods only), so nothing after the decision
time can reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from atb.backtest.engine import analyze_pair
from atb.backtest.kernels import records as rec
from atb.backtest.markets import MarketInfo
from atb.backtest.settings import SimulationSettings
from atb.core.timeframe import timeframe_to_seconds
from atb.errors import DataError, StrategyError
from atb.live.stepper import CandleStepper, EntryDecision, ExitDecision, StepResult
from atb.strategy.dataprovider import DataProvider

__all__ = ["EntryGate", "StrategyRunner"]

#: ``gate(entry) -> approved amount`` (base currency; 0 denies, less than ``entry.amount`` reduces).
EntryGate = Callable[[EntryDecision], float]

_SIGNAL_COLS = ("enter_long", "exit_long", "enter_short", "exit_short", "emergency_exit",
                "enter_tag", "exit_tag")
_OHLCV = ["date", "open", "high", "low", "close", "volume"]


def _last_signals(frame: pd.DataFrame) -> dict[str, object]:
    row = frame.iloc[-1]
    return {c: row[c] for c in _SIGNAL_COLS if c in frame.columns}


class StrategyRunner:
    """Drive one strategy instance over closed candles with the backtest's semantics.

    Parameters
    ----------
    strategy : IStrategy
        Loaded strategy (config applied).
    config : dict
        The validated freqtrade-style config (stake, wallet, fees, ROI, stoploss overrides).
    history : mapping pair -> DataFrame
        Warm-up candles per pair (columns ``date`` (UTC), open, high, low, close, volume), all
        closed, ending at the same candle; at least the strategy's ``startup_candle_count``.
    markets : mapping pair -> MarketInfo, optional
        Amount steps and limits (from the venue's markets).
    tick_decimals : mapping pair -> int, or callable ``(pair, candle_open_ns) -> int``, optional
        Decimals of each pair's price tick (default 8). Live: the venue's price precision. A
        replay that must equal the backtest passes the backtest's per-month ticks
        (:func:`atb.backtest.ticks.tick_decimals_for`).
    gate : EntryGate, optional
        The risk gate (default: approve everything; engines always pass the risk engine's).
    window : int, optional
        Candles kept per pair for the analysis (None: the whole history, as the backtest sees).
    capacity : int
        Rows kept in the stepper per pair.

    Raises
    ------
    DataError
        A pair has no warm-up candles or the pairs' histories end at different candles.
    """

    def __init__(self, strategy: Any, config: Mapping[str, Any], history: Mapping[str, pd.DataFrame], *,
                 markets: Mapping[str, MarketInfo] | None = None,
                 tick_decimals: Mapping[str, int] | Callable[[str, int], int] | None = None,
                 gate: EntryGate | None = None, window: int | None = None, capacity: int = 50_000) -> None:
        if not history:
            raise DataError("runner: no pairs")
        self.strategy = strategy
        self.timeframe = str(getattr(strategy, "timeframe", None) or config.get("timeframe"))
        self.tf_ns = timeframe_to_seconds(self.timeframe) * 1_000_000_000
        self.pairs = tuple(history)
        self._hist: dict[str, pd.DataFrame] = {}
        last: set[int] = set()
        for pair, df in history.items():
            if df is None or df.empty:
                raise DataError(f"runner: no warm-up candles for {pair}")
            frame = df[_OHLCV].reset_index(drop=True)
            self._hist[pair] = frame
            last.add(int(pd.Timestamp(frame["date"].iloc[-1]).value))
        if len(last) != 1:
            raise DataError("runner: warm-up histories must end at the same candle")
        self.last_ns = last.pop()
        self.window = window
        self._ticks = tick_decimals if callable(tick_decimals) else dict(tick_decimals or {})
        self._gate = gate
        settings = SimulationSettings.from_config(dict(config), strategy)
        self.stepper = CandleStepper(self.pairs, settings, start_ns=self.last_ns, markets=markets,
                                     capacity=capacity)
        self.signals: dict[str, dict[str, object]] = {}
        self.analyzed: dict[str, pd.DataFrame] = {}
        self._forming: dict[str, list[float]] = {}
        for pair in self.pairs:
            self._analyze(pair)

    # -- analysis ------------------------------------------------------------------------------
    def _loader(self, pair: str, timeframe: str, candle_type: str) -> pd.DataFrame:
        base = self._hist.get(pair)
        if base is None:
            raise StrategyError(f"runner: {pair} is not traded by this runner; add it to the "
                                "pair whitelist to use it as an informative pair")
        if timeframe in ("", self.timeframe):
            return base
        tf_s = timeframe_to_seconds(timeframe)
        if tf_s < timeframe_to_seconds(self.timeframe):
            raise StrategyError(f"runner: informative timeframe {timeframe} is below the "
                                f"strategy's {self.timeframe}")
        rule = f"{tf_s}s"
        g = base.set_index("date").resample(rule, origin="epoch", label="left", closed="left")
        agg = g.agg({"open": "first", "high": "max", "low": "min", "close": "last",
                     "volume": "sum"}).dropna()
        counts = g["close"].count()
        need = tf_s // timeframe_to_seconds(self.timeframe)
        complete = counts[counts >= need].index
        out = agg.loc[agg.index.isin(complete)].reset_index()
        return out[_OHLCV]

    def _analyze(self, pair: str) -> None:
        df = self._hist[pair]
        if self.window is not None and len(df) > self.window:
            df = df.iloc[-self.window:].reset_index(drop=True)
        dp = DataProvider(self._loader, self.pairs, "dry_run", self.timeframe)
        if hasattr(self.strategy, "atb_set_dataprovider"):
            self.strategy.atb_set_dataprovider(dp)
        out = analyze_pair(self.strategy, df, pair)
        self.analyzed[pair] = out
        self.signals[pair] = _last_signals(out)

    # -- one candle ----------------------------------------------------------------------------
    def on_candles(self, at_ns: int, candles: Mapping[str, Sequence[float]]) -> StepResult:
        """Process the candles that opened at ``at_ns`` (UTC ns) and have just closed.

        ``candles`` maps pair -> ``(open, high, low, close, volume)``; a pair without a candle
        (a venue gap) is simply not processed for this time, as in the backtest.

        Raises
        ------
        DataError
            ``at_ns`` is not the candle after the previous one.
        """
        if at_ns != self.last_ns + self.tf_ns:
            raise DataError(f"runner: candle {pd.Timestamp(at_ns, tz='UTC')} is not the next "
                            f"{self.timeframe} candle after {pd.Timestamp(self.last_ns, tz='UTC')}")
        date = pd.Timestamp(at_ns, tz="UTC")
        for pair, (o, h, lo, c, v) in candles.items():
            if pair not in self._hist:
                raise DataError(f"runner: candle for unknown pair {pair}")
            self.stepper.append(pair, at_ns, float(o), float(h), float(lo), float(c),
                                signals=self.signals.get(pair), tick_dec=self._tick(pair, at_ns))
            self._append_history(pair, date, o, h, lo, c, v)
        result = self._gated_step(at_ns)
        self.last_ns = at_ns
        for pair in candles:
            self._analyze(pair)
        return result

    # -- live mode: provisional step at the open, prices inside the candle, close ------------------
    def open_candle(self, at_ns: int, prices: Mapping[str, float]) -> StepResult:
        """Live mode: candle ``at_ns`` (UTC ns) has just opened at ``prices`` (pair -> price).

        Runs the loop on a provisional row holding only the open price, with the signals of the
        candle that just closed: entries and exit signals act now, at the open, through the risk
        gate (:meth:`CandleStepper.step` with ``provisional=True``).

        Raises
        ------
        DataError
            ``at_ns`` is not the candle after the last closed one.
        """
        if at_ns != self.last_ns + self.tf_ns:
            raise DataError(f"runner: candle {pd.Timestamp(at_ns, tz='UTC')} does not follow "
                            f"{pd.Timestamp(self.last_ns, tz='UTC')}")
        for pair, price in prices.items():
            px = float(price)
            self.stepper.append(pair, at_ns, px, px, px, px, signals=self.signals.get(pair),
                                tick_dec=self._tick(pair, at_ns))
            self._forming[pair] = [at_ns, px, px, px, px]
        return self._gated_step(at_ns, provisional=True)

    def on_price(self, pair: str, price: float) -> ExitDecision | None:
        """Live mode: a traded price inside the current candle of ``pair``.

        Keeps the candle seen so far (open, high, low, last); when the price makes a new high or
        low and the pair has an open trade, the kernel's exit decision runs on that candle. An
        exit it takes is applied (the trade is closed in the loop) and returned, priced as the
        loop prices it; the caller sends the order.
        """
        f = self._forming.get(pair)
        if f is None:  # after a restart: the current candle's provisional row holds its open
            t = self.stepper.next_t - self.tf_ns
            if t <= self.last_ns or pair not in self._hist:
                return None
            st, p = self.stepper, self.pairs.index(pair)
            r = int(st.pair_start[p] + st.pair_len[p] - 1)
            if st.pair_len[p] == 0 or int(st.a["date_ns"][r]) != t:
                return None
            o = float(st.a["open"][r])
            f = self._forming[pair] = [t, o, o, o, o]
        px = float(price)
        extreme = px > f[2] or px < f[3]
        f[2], f[3], f[4] = max(f[2], px), min(f[3], px), px
        if not extreme or not self.stepper.has_trade(pair):
            return None
        hit = self.stepper.probe_exit(pair, int(f[0]), f[1], f[2], f[3], f[4])
        if hit is None:
            return None
        return self.stepper.finish_candle(pair, int(f[0]), f[1], f[2], f[3], f[4])

    def close_candle(self, at_ns: int, candles: Mapping[str, Sequence[float]]) -> list[ExitDecision]:
        """Live mode: candle ``at_ns`` closed with ``candles`` (pair -> OHLCV).

        The whole candle is applied to the open trades (exits the loop takes inside it are
        returned), the history grows, and every pair is analysed for the next candle's signals.
        """
        exits = []
        date = pd.Timestamp(at_ns, tz="UTC")
        for pair, (o, h, lo, c, v) in candles.items():
            if pair not in self._hist:
                raise DataError(f"runner: candle for unknown pair {pair}")
            self.stepper.set_last_ohlc(pair, float(o), float(h), float(lo), float(c))
            x = self.stepper.finish_candle(pair, at_ns, float(o), float(h), float(lo), float(c))
            if x is not None:
                exits.append(x)
            self._append_history(pair, date, o, h, lo, c, v)
            self._forming.pop(pair, None)
        self.last_ns = at_ns
        for pair in candles:
            self._analyze(pair)
        return exits

    def _append_history(self, pair: str, date: pd.Timestamp, o: float, h: float, lo: float, c: float,
                        v: float) -> None:
        """Add a closed candle to ``pair``'s history; with a window, keep at most twice it."""
        frame = self._hist[pair]
        frame.loc[len(frame)] = [date, float(o), float(h), float(lo), float(c), float(v)]
        if self.window is not None and len(frame) > 2 * self.window:
            self._hist[pair] = frame.iloc[-self.window:].reset_index(drop=True)

    def _tick(self, pair: str, at_ns: int) -> int:
        if callable(self._ticks):
            return int(self._ticks(pair, at_ns))
        return int(self._ticks.get(pair, 8))

    def _gated_step(self, at_ns: int, *, provisional: bool = False) -> StepResult:
        st = self.stepper
        saved = (st.ts.copy(), st.loop_i.copy(), st.loop_f.copy(), st.next_t)
        denied: set[str] = set()
        while True:
            result = st.step(at_ns, provisional=provisional)
            if self._gate is None:
                return result
            approved: dict[str, float] = {}
            newly_denied = set()
            for entry in result.entries:
                amount = float(self._gate(entry))
                if not amount > 0.0:
                    newly_denied.add(entry.pair)
                elif amount < entry.amount:
                    approved[entry.pair] = amount
            if not newly_denied:
                entries = []
                for e in result.entries:
                    if e.pair in approved and st.has_trade(e.pair):
                        st.apply_entry_fill(e.pair, open_rate=e.price, amount=approved[e.pair])
                        e = replace(e, amount=approved[e.pair], stake=approved[e.pair] * e.price / e.leverage)
                    entries.append(e)
                return replace(result, entries=tuple(entries))
            denied |= newly_denied
            st.ts[:], st.loop_i[:], st.loop_f[:] = saved[0], saved[1], saved[2]
            st.next_t = saved[3]
            for pair in denied:
                self._clear_entry(pair)

    def _clear_entry(self, pair: str) -> None:
        st = self.stepper
        p = self.pairs.index(pair)
        r = int(st.pair_start[p] + st.pair_len[p] - 1)
        st.a["enter_long"][r] = 0
        st.a["enter_short"][r] = 0

    # -- state for engines -----------------------------------------------------------------------
    def open_trade_state(self, pair: str) -> dict[str, float] | None:
        """Open rate, amount, stake and stop of ``pair``'s open trade (None: no trade)."""
        if not self.stepper.has_trade(pair):
            return None
        s = self.stepper.ts[self.pairs.index(pair)]
        return {"open_rate": float(s[rec.TS_OPEN_RATE]), "amount": float(s[rec.TS_AMOUNT]),
                "stake": float(s[rec.TS_STAKE]), "stop": float(s[rec.TS_STOP]),
                "is_short": float(s[rec.TS_IS_SHORT])}

    def wallet(self) -> dict[str, float]:
        """The loop's wallet: realised profit and the stake tied up in open trades (quote)."""
        return {"closed_profit": float(self.stepper.loop_f[rec.LF_CLOSED_PROFIT]),
                "tied_up": float(self.stepper.loop_f[rec.LF_TIED_UP])}

