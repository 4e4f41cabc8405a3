"""Backtest orchestration: candles -> strategy signals -> arrays -> kernel -> BacktestResult.

This module owns no trading rules: those live in ``backtest/kernels``. It loads data with
freqtrade's semantics, runs the strategy's vectorised ``populate_*`` per pair, prepares rows
(startup trim, signal shift, price ticks) and picks the compiled kernel, or the Python slow path
when the strategy overrides per-trade callbacks.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atb.backtest.kernels import records as rec
from atb.backtest.markets import MarketInfo, default_market
from atb.backtest.parallel import fork_available, run_forked
from atb.backtest.prepare import shift_signals, trim_startup
from atb.backtest.results import BacktestResult
from atb.backtest.settings import SimulationSettings
from atb.backtest.ticks import tick_decimals_for
from atb.core.timeframe import timeframe_to_seconds
from atb.errors import DataError, MissingDataError, StrategyError

__all__ = ["BacktestInputs", "analyze_pair", "config_hash", "run_backtest"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestInputs:
    """What to backtest, besides the config and the strategy.

    Attributes
    ----------
    datadir : Path
        Folder in freqtrade's layout (``<BASE>_<QUOTE>-<tf>.feather`` ...).
    pairs : tuple of str
        Whitelist, in order (order matters when ``max_open_trades`` binds).
    timeframe : str
    timerange : TimeRange or None
        ``atb.data.timerange.TimeRange``; ``None`` = all data.
    markets : mapping pair -> MarketInfo, optional
        Market rules (default: amount step 1e-8, no limits).
    data_format : str or None
        ``feather``/``parquet``/``json``/``jsongz``; ``None`` = detect.
    candle_type : str
        ``spot`` or ``futures``.
    keep_candles : bool
        Keep the simulated OHLCV per pair on the result (for the HTML report).
    workers : int
        Processes computing signals (2 = one forked worker besides this process; 1 = none).
    """

    datadir: Path
    pairs: tuple[str, ...]
    timeframe: str
    timerange: Any = None
    markets: Mapping[str, MarketInfo] | None = None
    data_format: str | None = None
    candle_type: str = "spot"
    keep_candles: bool = True
    workers: int = 2


_INPUT_FIELDS = ("datadir", "pairs", "timeframe", "timerange", "markets", "data_format",
                 "candle_type", "keep_candles", "workers")


def _attach_dataprovider(strategy: Any, inputs: BacktestInputs, startup: int, load_data: Any) -> None:
    """Give the strategy ``self.dp`` for informative pairs (same range as the backtest)."""
    from atb.strategy.dataprovider import DataProvider

    def loader(pair: str, timeframe: str, candle_type: str) -> pd.DataFrame:
        ctype = inputs.candle_type if candle_type in ("", "spot") else candle_type
        return load_data(inputs.datadir, [pair], timeframe, timerange=inputs.timerange,
                         startup_candles=startup, candle_type=ctype,
                         data_format=inputs.data_format)[pair]

    if hasattr(strategy, "atb_set_dataprovider"):
        strategy.atb_set_dataprovider(
            DataProvider(loader, inputs.pairs, "backtest", inputs.timeframe))


def config_hash(config: Mapping[str, Any], strategy_source: str) -> str:
    """SHA-256 hex digest of the canonical JSON of ``config`` plus the strategy source hash."""
    canon = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256((canon + "\n" + strategy_source).encode()).hexdigest()


def analyze_pair(strategy: Any, df: pd.DataFrame, pair: str) -> pd.DataFrame:
    """Run the strategy's ``populate_*`` on ``df`` (a copy) for ``pair``.

    Raises
    ------
    StrategyError
        The strategy raised (one line naming the pair) or changed the number of rows.
    """
    rows = len(df)
    try:
        out = strategy.atb_analyze(df.copy(), {"pair": pair})
    except StrategyError:
        raise
    except Exception as exc:  # user code: report the pair and the error in one line
        raise StrategyError(
            f"strategy {type(strategy).__name__} failed on {pair}: {type(exc).__name__}: {exc}"
        ) from exc
    if len(out) != rows:
        raise StrategyError(
            f"strategy {type(strategy).__name__} changed the number of rows of {pair} "
            f"({rows} -> {len(out)})"
        )
    return out


def _prepare_pairs(
    strategy: Any,
    data: Mapping[str, pd.DataFrame],
    inputs: BacktestInputs,
    startup: int,
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], dict[str, pd.DataFrame],
           dict[str, dict[str, dict[str, Any]]]]:
    """Signals, startup trim, shift, ticks and strategy report rows for every pair with data left."""
    tr = inputs.timerange
    start = getattr(tr, "startdt", None) if tr is not None else None
    stop = getattr(tr, "stopdt", None) if tr is not None else None
    frames: dict[str, pd.DataFrame] = {}
    ticks: dict[str, np.ndarray] = {}
    candles: dict[str, pd.DataFrame] = {}
    reports: dict[str, dict[str, dict[str, Any]]] = {}
    for pair in inputs.pairs:
        df = data.get(pair)
        if df is None or df.empty:
            continue
        market = (inputs.markets or {}).get(pair) or default_market()
        dec = tick_decimals_for(df, market.price_step)
        analyzed = analyze_pair(strategy, df, pair).reset_index(drop=True)
        report_for = getattr(strategy, "atb_report_for", None)
        if report_for is not None:
            reports[pair] = report_for(pair)
        trimmed = trim_startup(analyzed, startup, start, stop)
        if len(trimmed) < 2:
            logger.warning("%s has no data left after the startup candles, skipping", pair)
            continue
        prepared = shift_signals(trimmed)
        frames[pair] = prepared
        ticks[pair] = dec[trimmed.index.to_numpy()][1:]
        candles[pair] = (
            trimmed[["date", "open", "high", "low", "close", "volume"]].reset_index(drop=True)
            if inputs.keep_candles else trimmed[["close"]].iloc[[0, -1]]
        )
    return frames, ticks, candles, reports


def _market_change(candles: Mapping[str, pd.DataFrame]) -> float:
    """Mean over pairs of last close / first close - 1 (freqtrade ``calculate_market_change``)."""
    changes = []
    for df in candles.values():
        if len(df) and df["close"].iloc[0] > 0:
            changes.append(df["close"].iloc[-1] / df["close"].iloc[0] - 1.0)
    return float(np.mean(changes)) if changes else 0.0


def run_backtest(
    config: dict[str, Any],
    strategy: Any,
    inputs: BacktestInputs,
    *,
    load_data: Any,
    trade_cls: type | None = None,
    strategy_source_hash: str = "",
    preload: Any = None,
    risk: Any = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``inputs`` with freqtrade 2026.9 semantics.

    Parameters
    ----------
    config : dict
        Validated freqtrade config (``atb.config.freqtrade.validate_freqtrade_config``).
    strategy : IStrategy
        Loaded strategy (config overrides already applied).
    inputs : BacktestInputs
    load_data : callable
        ``load_data(datadir, pairs, timeframe, *, timerange, startup_candles, candle_type,
        data_format) -> dict[pair, DataFrame]`` (``atb.data.history.load_data``).
    trade_cls : type, optional
        ``Trade`` class for callbacks (``atb.strategy.trade.Trade``); required for the slow path.
    strategy_source_hash : str
        Included in the config hash.
    preload : callable, optional
        Run by this process while a forked worker may still be computing signals (the CLI
        imports the report and run-store modules there, off the critical path).
    risk : RiskConfig, optional
        Risk section (``atb.risk.config``); default: ``config["risk"]`` when present. Without
        one, no risk rule runs and the simulation is freqtrade's.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ConfigError
        Invalid risk section (checked before any data is loaded).
    DataError
        No pair has data in the requested range.
    StrategyError
        The strategy failed while computing signals.
    """
    t0 = time.perf_counter()
    if risk is None and config.get("risk") is not None:
        from atb.risk.config import load_risk_config

        risk = load_risk_config(config["risk"], "config.risk")
    if risk is not None:
        risk.check_pairs(inputs.pairs)
    startup = int(getattr(strategy, "startup_candle_count", 0) or 0)
    from atb.backtest.callbacks import callback_flags

    flags = callback_flags(strategy)
    _attach_dataprovider(strategy, inputs, startup, load_data)

    def prepare(pairs: list[str]) -> tuple[dict, dict, dict, dict, float, list[MissingDataError]]:
        missing: list[MissingDataError] = []
        t = time.perf_counter()
        try:
            data = load_data(
                inputs.datadir, pairs, inputs.timeframe, timerange=inputs.timerange,
                startup_candles=startup, candle_type=inputs.candle_type,
                data_format=inputs.data_format, skip_missing=True,
            )
        except MissingDataError as exc:  # none of these pairs has candles
            missing.append(exc)
            data = {}
        loaded = time.perf_counter() - t
        sub = BacktestInputs(**{**{f: getattr(inputs, f) for f in _INPUT_FIELDS},
                                "pairs": tuple(pairs)})
        return (*_prepare_pairs(strategy, data, sub, startup), loaded, missing)

    pairs = list(inputs.pairs)
    # Signals are per pair and independent: without per-trade callbacks (whose strategy state
    # must stay in this process) a forked worker computes the first pairs while this process
    # loads the compiled kernel and computes the rest.
    split = int(np.ceil(len(pairs) * 0.7)) if (
        inputs.workers > 1 and not flags and len(pairs) >= 2 and fork_available()) else 0
    join = run_forked(lambda: prepare(pairs[:split])) if split else None
    from atb.backtest.simulation import build_input, warm_up

    warm_up()
    try:
        frames, ticks, candles, reports, load_s, missing = prepare(pairs[split:])
    except Exception:
        if join is not None:
            join()  # an error of an earlier pair (the worker's) is reported first
        raise
    if preload is not None:
        preload()
    if join is not None:
        f0, t0_, c0, r0, l0, m0 = join()
        frames, ticks, candles = ({**f0, **frames}, {**t0_, **ticks}, {**c0, **candles})
        reports = {**r0, **reports}
        load_s = max(load_s, l0)
        missing = m0 + missing  # the worker had the earlier pairs
    order = [p for p in pairs if p in frames]
    frames = {p: frames[p] for p in order}
    if not frames and missing:
        raise missing[0]
    if not frames:
        raise DataError(
            f"no candles left to backtest for {', '.join(inputs.pairs)} {inputs.timeframe} in "
            f"{inputs.datadir} after the {startup} startup candles"
            + (f" and timerange {inputs.timerange}" if inputs.timerange is not None else "")
        )
    t2 = time.perf_counter()
    settings = SimulationSettings.from_config({**config, "timeframe": inputs.timeframe}, strategy)
    sim_in = build_input(frames, ticks, inputs.markets, inputs.timeframe)
    tf_ns = timeframe_to_seconds(inputs.timeframe) * 1_000_000_000
    risk_arrays, regime = _risk_inputs(risk, inputs, candles, load_data, sim_in, settings, tf_ns)
    _attach_sizer(strategy, risk_arrays, risk)
    out = _simulate(sim_in, settings, flags, strategy, trade_cls, risk_arrays)
    risk_outcome = None
    if risk is not None and risk_arrays is not None:
        from atb.backtest.risk_run import decode_risk

        risk_outcome = decode_risk(risk_arrays, sim_in.pairs, sim_in.start_ns, tf_ns, risk, regime)
    t3 = time.perf_counter()
    trades = out.trades  # in closing order, as freqtrade lists them
    return BacktestResult(
        strategy=type(strategy).__name__,
        timeframe=inputs.timeframe,
        pairs=tuple(frames),
        stake_currency=str(config.get("stake_currency", "")),
        starting_balance=float(config.get("dry_run_wallet", 0.0)),
        max_open_trades=-1 if settings.max_open_trades == float("inf") else int(
            settings.max_open_trades
        ),
        backtest_start=_to_dt(out.start),
        backtest_end=_to_dt(out.end),
        trades=trades,
        config=_jsonable(config),
        config_hash=config_hash(_jsonable(config), strategy_source_hash),
        rejected_signals=out.rejected_signals,
        market_change=_market_change(candles),
        candles=candles if inputs.keep_candles else None,
        skipped_pairs=tuple(p for p in inputs.pairs if p not in frames),
        risk=risk_outcome,
        strategy_report=_strategy_report(reports, list(frames)),
        timings={
            "load_data": load_s,
            "signals": t2 - t0 - load_s,
            "simulation": t3 - t2,
            "total": t3 - t0,
        },
    )


def _risk_inputs(risk: Any, inputs: BacktestInputs, candles: Any, load_data: Any, sim_in: Any,
                 settings: SimulationSettings, tf_ns: int) -> tuple[Any, Any]:
    """Risk-engine kernel inputs and regime labels, or ``(None, None)`` without a risk section."""
    if risk is None:
        return None, None
    from atb.backtest.risk_run import build_risk_arrays, regime_for_run

    regime, scale = regime_for_run(risk, inputs, candles, load_data, sim_in.start_ns,
                                   sim_in.end_ns, tf_ns)
    arrays = build_risk_arrays(sim_in.pairs, sim_in.arrays, sim_in.start_ns, sim_in.end_ns, tf_ns,
                               risk, settings.max_open_trades, scale,
                               float(settings.params_vector()[rec.P_STARTING_BALANCE]))
    return arrays, regime


def _attach_sizer(strategy: Any, risk_arrays: Any, risk: Any) -> None:
    """``strategy.position_sizer`` for ``custom_stake_amount`` (None without a risk section)."""
    sizer = None
    if risk_arrays is not None:
        from atb.backtest.risk_run import sizer_for

        sizer = sizer_for(risk_arrays, risk)
    try:
        strategy.position_sizer = sizer
    except AttributeError:  # a strategy with __slots__ or a read-only property
        pass


def _simulate(sim_in: Any, settings: SimulationSettings, flags: int, strategy: Any,
              trade_cls: type | None, risk_arrays: Any) -> Any:
    """Run the compiled kernel, or the Python slow path when the strategy has callbacks."""
    from atb.backtest.simulation import run_simulation

    if not flags:
        return run_simulation(sim_in, settings, risk=risk_arrays)
    from atb.backtest.callbacks import CallbackAdapter, make_python_kernel

    state = np.full((len(sim_in.pairs), rec.TS_N), np.nan)
    tags = list(sim_in.tags)
    if trade_cls is None:
        raise StrategyError("strategy callbacks need a Trade class (atb.strategy.trade.Trade)")
    adapter = CallbackAdapter(strategy, sim_in.pairs, sim_in.arrays["date_ns"], tags, state,
                              trade_cls)
    kernel = make_python_kernel(adapter.bindings())
    ctx = getattr(trade_cls, "atb_trades_context", None)
    if ctx is not None:
        with ctx(adapter.open_trades):
            return run_simulation(sim_in, settings, kernel, flags, state, tags, risk_arrays)
    return run_simulation(sim_in, settings, kernel, flags, state, tags, risk_arrays)


def _strategy_report(reports: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     pairs: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Section title -> one row per pair (whitelist order) with a leading ``pair`` column."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for pair in pairs:
        for title, row in reports.get(pair, {}).items():
            sections.setdefault(title, []).append({"pair": pair, **row})
    return {title: pd.DataFrame(rows) for title, rows in sections.items()}


def _to_dt(ts: Any) -> datetime:
    return pd.Timestamp(ts).to_pydatetime()


def _jsonable(obj: Any) -> Any:
    """A JSON-serialisable deep copy: non-finite floats and unknown objects become strings."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else str(obj)
    return str(obj)


def whitelist_from_config(config: Mapping[str, Any]) -> Sequence[str]:
    """Pairs of ``exchange.pair_whitelist`` minus ``pair_blacklist``, order kept."""
    ex = config.get("exchange") or {}
    black = set(ex.get("pair_blacklist") or [])
    return [p for p in (ex.get("pair_whitelist") or []) if p not in black]
