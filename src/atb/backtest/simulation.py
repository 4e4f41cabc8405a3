"""From prepared per-pair frames to closed trades: arrays in, kernel, trades DataFrame out."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from atb.backtest.kernels import records as rec
from atb.backtest.kernels.simulate_nb import simulate_nb
from atb.backtest.markets import MarketInfo, default_market
from atb.backtest.results import TRADE_COLUMNS
from atb.backtest.settings import SimulationSettings
from atb.core.timeframe import timeframe_to_seconds

__all__ = [
    "SimulationInput", "SimulationOutput", "build_input", "exit_reason_name", "market_arrays",
    "new_loop_state", "run_simulation", "warm_up",
]

_SIGNALS = ("enter_long", "exit_long", "enter_short", "exit_short", "emergency_exit")


@dataclass(frozen=True, slots=True)
class SimulationInput:
    """Flat kernel arrays for all pairs plus the lookups needed to decode the output."""

    pairs: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    start_ns: int
    end_ns: int
    tags: tuple[str, ...]  # tag id -> string (id 0 = "")
    capacity: int


@dataclass(frozen=True, slots=True)
class SimulationOutput:
    """Closed trades (columns :data:`TRADE_COLUMNS`) and the rejected-signal count."""

    trades: pd.DataFrame
    rejected_signals: int
    start: pd.Timestamp
    end: pd.Timestamp


def new_loop_state(n_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """A fresh resumable loop state for ``simulate_nb``: ``(loop_i, loop_f)``.

    ``loop_i`` is int64[n_pairs, LI_N] (cursors 0, no trades, first-seen -1), ``loop_f`` is
    float64[LF_N] zeros (see ``records.LI_*``/``LF_*``).
    """
    loop_i = np.zeros((n_pairs, rec.LI_N), dtype=np.int64)
    loop_i[:, rec.LI_FIRST_SEEN] = -1
    return loop_i, np.zeros(rec.LF_N, dtype=np.float64)


def _step_decimals(step: float) -> int:
    d = -math.log10(step)
    return int(round(d))


def market_arrays(pairs: Sequence[str], markets: Mapping[str, MarketInfo] | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Kernel market inputs per pair: ``amount_dec`` int64[n] and ``pair_limits`` float64[n, 5].

    ``pair_limits`` columns: min cost, min amount, max cost, max amount (nan = none), max
    leverage; pairs without market rules get :func:`default_market` (step 1e-8, no limits).
    """
    mk = [(markets or {}).get(p) or default_market() for p in pairs]
    amount_dec = np.asarray([_step_decimals(m.amount_step) for m in mk], dtype=np.int64)
    limits = np.asarray([[
        math.nan if m.min_cost is None else m.min_cost,
        math.nan if m.min_amount is None else m.min_amount,
        math.nan if m.max_cost is None else m.max_cost,
        math.nan if m.max_amount is None else m.max_amount,
        m.max_leverage] for m in mk], dtype=np.float64).reshape(len(mk), 5)
    return amount_dec, limits


def exit_reason_name(code: int, tag_id: int, tags: Sequence[str]) -> str:
    """Exit reason of a closed trade: the code's name, or the exit tag of a signal/custom exit."""
    if code in (rec.EXIT_SIGNAL, rec.EXIT_CUSTOM) and tag_id > 0:
        return tags[tag_id]
    return rec.EXIT_REASON_NAMES.get(code, "other")


def build_input(
    frames: Mapping[str, pd.DataFrame],
    ticks: Mapping[str, np.ndarray],
    markets: Mapping[str, MarketInfo] | None,
    timeframe: str,
) -> SimulationInput:
    """Concatenate prepared frames into kernel arrays.

    Parameters
    ----------
    frames : mapping pair -> DataFrame
        Prepared rows (after startup trim and signal shift, see ``atb.backtest.prepare``), whitelist
        order, each with ``date``, OHLC, the signal columns (:data:`_SIGNALS`; ``emergency_exit``
        may be absent) and ``enter_tag``/``exit_tag``,
        plus a ``start_date`` attribute in ``df.attrs`` giving the first trimmed candle.
    ticks : mapping pair -> int64 array
        Tick decimals per row of the same frame.
    markets : mapping or None
        Market rules per pair (default: amount step 1e-8, no limits).
    timeframe : str
    """
    pairs = tuple(frames)
    tag_ids: dict[str, int] = {"": 0}

    def encode(col: pd.Series) -> np.ndarray:
        vals = col.to_numpy(dtype=object)
        mask = pd.notna(vals)
        outv = np.zeros(len(vals), dtype=np.int64)
        if not mask.any():
            return outv
        codes, uniques = pd.factorize(pd.Series(vals[mask]).astype(str))
        ids = np.array([tag_ids.setdefault(u, len(tag_ids)) if u != "" else 0 for u in uniques],
                       dtype=np.int64)
        outv[mask] = ids[codes]
        return outv

    parts: dict[str, list[np.ndarray]] = {k: [] for k in (
        "date_ns", "open", "high", "low", "close", *_SIGNALS, "enter_tag", "exit_tag", "tick_dec")}
    pair_start, pair_len = [], []
    pos = 0
    starts, ends = [], []
    for pair in pairs:
        df = frames[pair]
        n = len(df)
        pair_start.append(pos)
        pair_len.append(n)
        pos += n
        parts["date_ns"].append(
            df["date"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
            .astype(np.int64)
        )
        for c in ("open", "high", "low", "close"):
            parts[c].append(df[c].to_numpy(dtype=np.float64))
        for c in _SIGNALS:
            if c not in df.columns:
                parts[c].append(np.zeros(n, dtype=np.int8))
                continue
            s = pd.to_numeric(df[c], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
            parts[c].append((s == 1).astype(np.int8))
        for c in ("enter_tag", "exit_tag"):
            parts[c].append(encode(df[c]) if n else np.zeros(0, np.int64))
        parts["tick_dec"].append(np.asarray(ticks[pair], dtype=np.int64))
        starts.append(pd.Timestamp(df.attrs["start_date"]).value)
        if n:
            ends.append(int(parts["date_ns"][-1][-1]))
    arrays = {k: (np.concatenate(v) if v else np.zeros(0)) for k, v in parts.items()}
    for c in _SIGNALS:
        arrays[c] = arrays[c].astype(np.int8)
    for c in ("date_ns", "enter_tag", "exit_tag", "tick_dec"):
        arrays[c] = arrays[c].astype(np.int64)
    arrays["pair_start"] = np.asarray(pair_start, dtype=np.int64)
    arrays["pair_len"] = np.asarray(pair_len, dtype=np.int64)
    arrays["amount_dec"], arrays["pair_limits"] = market_arrays(pairs, markets)
    capacity = int(((arrays["enter_long"] == 1) | (arrays["enter_short"] == 1)).sum()) + 1
    tags = tuple(sorted(tag_ids, key=tag_ids.__getitem__))
    start_ns = min(starts) if starts else 0
    end_ns = max(ends) if ends else 0
    return SimulationInput(pairs, arrays, start_ns, end_ns, tags, capacity)


def run_simulation(
    sim_in: SimulationInput,
    settings: SimulationSettings,
    kernel: Callable[..., tuple[int, int]] | None = None,
    cb_flags: int = 0,
    state: np.ndarray | None = None,
    tags: Sequence[str] | None = None,
    risk: Any = None,
) -> SimulationOutput:
    """Run the simulation kernel and decode its closed trades.

    Parameters
    ----------
    sim_in : SimulationInput
    settings : SimulationSettings
    kernel : callable, optional
        ``simulate_nb`` (default, compiled) or the Python slow-path variant with callbacks bound.
    cb_flags : int
        Enabled callbacks (``records.CB_*``), only with the slow-path kernel.
    state : float64 array (n_pairs, TS_N), optional
        Open-trade state matrix shared with callback adapters.
    tags : sequence of str, optional
        Tag table to decode with (the adapter's, which may have grown during the run).
    risk : RiskArrays, optional
        Risk-engine inputs and buffers (``atb.backtest.risk_run``); None runs without it.
    """
    from atb.backtest.risk_run import disabled_risk_arrays

    a = sim_in.arrays
    n_pairs = len(sim_in.pairs)
    ts = state if state is not None else np.full((n_pairs, rec.TS_N), np.nan)
    out = np.zeros((sim_in.capacity + n_pairs, rec.OUT_N), dtype=np.float64)
    roi_keys, roi_vals = settings.roi_arrays()
    tf_ns = timeframe_to_seconds(settings.timeframe) * 1_000_000_000
    fn: Any = kernel or simulate_nb
    ra = risk if risk is not None else disabled_risk_arrays(n_pairs)
    loop_i, loop_f = new_loop_state(n_pairs)
    n, rejected = fn(
        a["date_ns"], a["open"], a["high"], a["low"], a["close"], a["enter_long"], a["exit_long"],
        a["enter_short"], a["exit_short"], a["emergency_exit"], a["enter_tag"], a["exit_tag"],
        a["tick_dec"],
        a["pair_start"], a["pair_len"], a["amount_dec"], a["pair_limits"], sim_in.start_ns,
        sim_in.end_ns, tf_ns, roi_keys, roi_vals, settings.params_vector(), cb_flags, ts, out,
        *ra.kernel_args(), loop_i, loop_f, sim_in.start_ns + tf_ns, True,
    )
    trades = decode_trades(out[:n], sim_in.pairs, tags if tags is not None else sim_in.tags)
    return SimulationOutput(
        trades=trades,
        rejected_signals=int(rejected),
        start=pd.Timestamp(sim_in.start_ns, tz="UTC"),
        end=pd.Timestamp(sim_in.end_ns, tz="UTC"),
    )


def decode_trades(out: np.ndarray, pairs: Sequence[str], tags: Sequence[str]) -> pd.DataFrame:
    """Turn the kernel's output matrix into the trades DataFrame (:data:`TRADE_COLUMNS`)."""
    from atb.backtest.profit import exact_profit, exact_stake

    rows: list[dict[str, Any]] = []
    for o in out:
        reason = exit_reason_name(int(o[rec.OUT_EXIT_REASON]), int(o[rec.OUT_EXIT_TAG]), tags)
        is_short = bool(o[rec.OUT_IS_SHORT] > 0.5)
        amount = float(o[rec.OUT_AMOUNT])
        realized = float(o[rec.OUT_REALIZED])
        open_rate = float(o[rec.OUT_OPEN_RATE])
        close_rate = float(o[rec.OUT_CLOSE_RATE])
        lev = float(o[rec.OUT_LEVERAGE])
        fee_o, fee_c = float(o[rec.OUT_FEE_OPEN]), float(o[rec.OUT_FEE_CLOSE])
        profit_abs, profit_ratio = exact_profit(
            amount, open_rate, close_rate, fee_o, fee_c, is_short, lev,
            float(o[rec.OUT_ENTRY_ORDER_PRICE]),
        )
        stake = exact_stake(amount, float(o[rec.OUT_ENTRY_ORDER_PRICE]), lev)
        if realized != 0.0:
            # partial exits (brackets): the trade is reported whole, as freqtrade does after
            # adjust_trade_position exits: initial amount, all legs' profit on the initial stake
            amount = float(o[rec.OUT_INITIAL_AMOUNT])
            stake = exact_stake(amount, float(o[rec.OUT_ENTRY_ORDER_PRICE]), lev)
            profit_abs = round(profit_abs + realized, 8)
            profit_ratio = profit_abs / stake if stake > 0 else 0.0
        open_ns, close_ns = int(o[rec.OUT_OPEN_DATE]), int(o[rec.OUT_CLOSE_DATE])
        rows.append({
            "pair": pairs[int(o[rec.OUT_PAIR])],
            "open_date": open_ns,
            "close_date": close_ns,
            "open_rate": open_rate,
            "close_rate": close_rate,
            "amount": amount,
            "profit_ratio": profit_ratio,
            "profit_abs": profit_abs,
            "exit_reason": reason,
            "enter_tag": tags[int(o[rec.OUT_ENTER_TAG])],
            "is_short": is_short,
            "stake_amount": stake,
            "fee_open": fee_o,
            "fee_close": fee_c,
            "trade_duration": (close_ns - open_ns) // 60_000_000_000,
            "leverage": lev,
            "max_rate": float(o[rec.OUT_MAX_RATE]),
            "min_rate": float(o[rec.OUT_MIN_RATE]),
        })
    df = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    df["open_date"] = pd.to_datetime(df["open_date"].astype("int64"), utc=True)
    df["close_date"] = pd.to_datetime(df["close_date"].astype("int64"), utc=True)
    df["trade_duration"] = df["trade_duration"].astype("int64")
    df["is_short"] = df["is_short"].astype(bool)
    return df.reset_index(drop=True)


def warm_up() -> None:
    """Load (or compile) the kernel for the argument types real runs use, on a tiny input."""
    dates = pd.date_range("2024-01-01", periods=3, freq="1h", tz="UTC")
    df = pd.DataFrame({"date": dates, "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0,
                       "enter_long": [1.0, 0.0, 0.0], "exit_long": 0.0, "enter_short": 0.0,
                       "exit_short": 0.0, "enter_tag": [None] * 3, "exit_tag": [None] * 3})
    df.attrs["start_date"] = dates[0] - pd.Timedelta("1h")
    sim_in = build_input({"WARM/UP": df}, {"WARM/UP": np.zeros(3, dtype=np.int64)}, None, "1h")
    run_simulation(sim_in, SimulationSettings(timeframe="1h", minimal_roi=((0, 1.0),),
                                              stoploss=-0.5, stake_amount=1.0))
