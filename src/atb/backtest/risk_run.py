"""Backtest side of the risk engine: kernel inputs from the prepared candles, decoded outcome.

Builds the arrays the kernel's risk glue reads (``kernels/risk_nb.py``): a time grid of closes
and log returns per pair, ATR / close of every row's signal candle, asset and sector ids, the
regime stake multiplier; and turns the kernel's risk log, equity and state series into a
:class:`RiskOutcome` for the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import talib

from atb.backtest.kernels import risk_nb as K
from atb.risk import layout as L
from atb.risk.config import RiskConfig
from atb.risk.rules import new_rstate

__all__ = [
    "RiskArrays", "RiskOutcome", "build_risk_arrays", "decode_risk", "disabled_risk_arrays", "sizer_for",
]


@dataclass(frozen=True)
class RiskArrays:
    """Kernel inputs and scratch buffers of the risk engine (see ``simulate_nb``'s docstring)."""

    rp: np.ndarray
    grid_close: np.ndarray
    grid_ret: np.ndarray
    vol_row: np.ndarray
    asset_id: np.ndarray
    sector_id: np.ndarray
    regime_scale: np.ndarray
    rstate: np.ndarray
    rin: np.ndarray
    order_times: np.ndarray
    profits: np.ndarray
    risk_log: np.ndarray
    equity_out: np.ndarray
    state_out: np.ndarray

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """Arguments in ``simulate_nb``'s order, after ``out``."""
        return (self.rp, self.grid_close, self.grid_ret, self.vol_row, self.asset_id,
                self.sector_id, self.regime_scale, self.rstate, self.rin, self.order_times, self.profits,
                self.risk_log, self.equity_out, self.state_out)


def disabled_risk_arrays(n_pairs: int) -> RiskArrays:
    """1-element dummies: the kernel runs with freqtrade semantics only."""
    rp = np.zeros(L.R_N)
    one = np.zeros(1)
    return RiskArrays(
        rp=rp, grid_close=np.zeros((max(n_pairs, 1), 1)), grid_ret=np.zeros((max(n_pairs, 1), 1)),
        vol_row=one, asset_id=np.zeros(max(n_pairs, 1), np.int64),
        sector_id=np.full(max(n_pairs, 1), -1, np.int64), regime_scale=np.ones(1),
        rstate=new_rstate(0.0), rin=np.zeros(K.RI_N), order_times=np.zeros(1), profits=np.zeros(1),
        risk_log=np.zeros((1, K.LOG_N)), equity_out=np.zeros(1), state_out=np.zeros(1),
    )


def base_asset(pair: str) -> str:
    """Base currency of ``BASE/QUOTE`` or ``BASE/QUOTE:SETTLE``."""
    return pair.split("/")[0]


def build_risk_arrays(
    pairs: Sequence[str],
    arrays: Mapping[str, np.ndarray],
    start_ns: int,
    end_ns: int,
    tf_ns: int,
    config: RiskConfig,
    max_open_trades: float,
    regime_scale: np.ndarray | None = None,
    starting_balance: float = 0.0,
) -> RiskArrays:
    """Kernel risk inputs for one run.

    Parameters
    ----------
    pairs : sequence of str
        Whitelist in kernel order.
    arrays : mapping
        ``SimulationInput.arrays`` (flat rows per pair: ``date_ns``, OHLC, ``pair_start``, ...).
    start_ns, end_ns, tf_ns : int
        Grid origin, last candle and timeframe, UTC ns.
    config : RiskConfig
    max_open_trades : float
        freqtrade's limit (default for ``max_open_positions``).
    regime_scale : float64[n_grid], optional
        Stake multiplier per grid row (regime); 1.0 when omitted.
    starting_balance : float
        Initial equity (peak and first day start), quote currency.
    """
    n_pairs = len(pairs)
    n_grid = int((end_ns - start_ns) // tf_ns) + 1
    grid_close = np.full((n_pairs, n_grid), np.nan)
    grid_ret = np.full((n_pairs, n_grid), np.nan)
    vol_row = np.full(len(arrays["close"]), np.nan)
    for p in range(n_pairs):
        a = int(arrays["pair_start"][p])
        b = a + int(arrays["pair_len"][p])
        if b <= a:
            continue
        close = arrays["close"][a:b]
        k = (arrays["date_ns"][a:b] - start_ns) // tf_ns
        ok = (k >= 0) & (k < n_grid)
        raw = np.full(n_grid, np.nan)
        raw[k[ok]] = close[ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            grid_ret[p, 1:] = np.log(raw[1:] / raw[:-1])
        grid_close[p] = pd.Series(raw).ffill().to_numpy()
        atr = talib.ATR(arrays["high"][a:b], arrays["low"][a:b], close, timeperiod=config.atr_period)
        ratio = atr / close
        vol_row[a + 1:b] = ratio[:-1]  # row r carries the signal candle r-1
    assets: dict[str, int] = {}
    asset_id = np.array([assets.setdefault(base_asset(p), len(assets)) for p in pairs], np.int64)
    sectors = list(config.sectors)
    sector_id = np.array(
        [sectors.index(s) if (s := config.sector_of(p)) is not None else -1 for p in pairs], np.int64)
    if regime_scale is None:
        regime_scale = np.ones(n_grid)
    n_signals = int(((arrays["enter_long"] == 1) | (arrays["enter_short"] == 1)).sum())
    return RiskArrays(
        rp=config.to_vector(max_open_trades), grid_close=grid_close, grid_ret=grid_ret,
        vol_row=vol_row, asset_id=asset_id, sector_id=sector_id,
        regime_scale=np.asarray(regime_scale, dtype=np.float64),
        rstate=new_rstate(starting_balance), rin=np.zeros(K.RI_N),
        order_times=np.zeros(max(config.max_orders_per_window or 1, 1) + 1),
        profits=np.zeros(config.sizing.kelly_window),
        risk_log=np.zeros((n_signals + 2 * n_grid + 8, K.LOG_N)),
        equity_out=np.full(n_grid, np.nan), state_out=np.zeros(n_grid),
    )


@dataclass(frozen=True)
class RiskOutcome:
    """What the risk engine did during a backtest.

    Attributes
    ----------
    config : dict
        The validated risk section (defaults filled in).
    events : DataFrame
        One row per denial, reduction, state change or flatten: ``date`` (UTC), ``pair``
        (None for account events), ``rule``, ``kind`` (denied/reduced/state/flatten),
        ``equity``, ``requested``/``approved`` notional (quote), ``state``.
    equity : Series
        Mark-to-market equity at each candle close (UTC index), quote currency.
    state : Series
        Trading state name at each candle close.
    halted_periods : list of (Timestamp, Timestamp)
        Spans (first close, last close) the engine spent HALTED.
    regime : Series or None
        Regime label per candle close of the reference pair, when configured.
    pair_closes : DataFrame or None
        Close of each pair at the last candle of every UTC day (columns: pairs), for the
        report's beta and correlations.
    """

    config: dict[str, Any]
    events: pd.DataFrame
    equity: pd.Series
    state: pd.Series
    halted_periods: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    regime: pd.Series | None = None
    pair_closes: pd.DataFrame | None = None

    def denials_by_rule(self) -> pd.DataFrame:
        """Counts per rule: ``denied`` and ``reduced`` intents, sorted by total."""
        ev = self.events[self.events["kind"].isin(["denied", "reduced"])]
        if ev.empty:
            return pd.DataFrame(columns=["rule", "denied", "reduced"])
        tab = ev.pivot_table(index="rule", columns="kind", values="date", aggfunc="count",
                             fill_value=0)
        for c in ("denied", "reduced"):
            if c not in tab:
                tab[c] = 0
        tab = tab[["denied", "reduced"]].astype(int)
        tab = tab.assign(_t=tab.sum(axis=1)).sort_values(["_t", "denied"], ascending=False)
        return tab.drop(columns="_t").reset_index()

    def max_drawdown(self) -> float:
        """Largest mark-to-market equity drawdown from its running peak (ratio)."""
        eq = self.equity.dropna()
        if eq.empty:
            return 0.0
        return float((1.0 - eq / eq.cummax()).max())


_KINDS = {K.KIND_DENIED: "denied", K.KIND_REDUCED: "reduced", K.KIND_STATE: "state",
          K.KIND_FLATTEN: "flatten"}


def decode_risk(ra: RiskArrays, pairs: Sequence[str], start_ns: int, tf_ns: int,
                config: RiskConfig, regime: pd.Series | None = None) -> RiskOutcome:
    """Turn the kernel's risk buffers into a :class:`RiskOutcome`."""
    n = int(ra.rstate[L.RS_N_LOG])
    log = ra.risk_log[:n]
    events = pd.DataFrame({
        "date": pd.to_datetime(log[:, K.LOG_T].astype(np.int64), utc=True),
        "pair": [pairs[int(x)] if x >= 0 else None for x in log[:, K.LOG_PAIR]],
        "rule": [L.RULE_NAMES.get(int(x), "none") for x in log[:, K.LOG_RULE]],
        "kind": [_KINDS[int(x)] for x in log[:, K.LOG_KIND]],
        "equity": log[:, K.LOG_EQUITY],
        "requested": log[:, K.LOG_REQUESTED],
        "approved": log[:, K.LOG_APPROVED],
        "state": [L.STATE_NAMES[int(x)] for x in log[:, K.LOG_STATE]],
    })
    n_grid = len(ra.equity_out)
    # equity_out[k] is the close of the candle opening at start + k*tf
    close_idx = pd.to_datetime(start_ns + (np.arange(n_grid) + 1) * tf_ns, utc=True)
    equity = pd.Series(ra.equity_out, index=close_idx, name="equity").iloc[1:]
    state_codes = pd.Series(ra.state_out, index=close_idx).iloc[1:]
    state = state_codes.map(lambda x: L.STATE_NAMES[int(x)]).rename("state")
    halted: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    is_h = (state_codes == L.STATE_HALTED).to_numpy()
    idx = state_codes.index
    i = 0
    while i < len(is_h):
        if is_h[i]:
            j = i
            while j + 1 < len(is_h) and is_h[j + 1]:
                j += 1
            halted.append((idx[i], idx[j]))
            i = j + 1
        else:
            i += 1
    closes = pd.DataFrame(ra.grid_close.T, index=close_idx, columns=list(pairs))
    daily = closes.resample("1D").last() if len(closes) else None
    return RiskOutcome(config=config.model_dump(mode="json"), events=events, equity=equity,
                       state=state, halted_periods=halted, regime=regime, pair_closes=daily)


def _detector(cfg: Any) -> Any:
    """The configured regime detector (``risk.regime.detector`` with ``risk.regime.params``)."""
    from atb.errors import ConfigError

    if cfg.detector == "hmm":
        from atb.regime.hmm import HmmRegimeDetector as cls
    elif cfg.detector == "volatility":
        from atb.regime.detectors import VolatilityRegimeDetector as cls  # type: ignore[assignment]
    else:
        from atb.regime.detectors import SmaTrendDetector as cls  # type: ignore[assignment]
    try:
        return cls(**cfg.params)
    except TypeError as exc:
        raise ConfigError(f"risk: invalid value for 'regime.params': {exc}") from exc


def regime_for_run(
    risk: RiskConfig, inputs: Any, candles: Mapping[str, pd.DataFrame], load_data: Any,
    start_ns: int, end_ns: int, tf_ns: int,
) -> tuple[pd.Series | None, np.ndarray | None]:
    """Regime labels of the reference pair and the stake multiplier on the kernel's time grid.

    The reference pair's whole history in ``inputs.datadir`` is used (labels are causal, so
    earlier candles only warm the detector up). Returns ``(labels, scale)``: labels indexed by
    candle *close* time (when each label becomes known), and ``scale[k]`` for the candle
    opening at ``start + k * tf`` (1.0 where no multiplier applies), or ``(None, None)``.

    Raises
    ------
    ConfigError
        No candles of the reference pair, or bad detector parameters.
    """
    from atb.errors import ConfigError, MissingDataError

    cfg = risk.regime
    if cfg is None:
        return None, None
    ref = cfg.reference_pair
    try:
        data = load_data(inputs.datadir, [ref], inputs.timeframe, timerange=None, startup_candles=0,
                         candle_type=inputs.candle_type, data_format=inputs.data_format)
    except MissingDataError as exc:
        raise ConfigError(
            f"risk: invalid value for 'regime.reference_pair': no {inputs.timeframe} candles for "
            f"{ref} in {inputs.datadir}") from exc
    df = data[ref].reset_index(drop=True)
    raw = _detector(cfg).detect(df)
    values = pd.Series(np.asarray(raw, dtype=object), index=pd.DatetimeIndex(df["date"]))
    values = values.where(pd.notna(values), None)
    labels = pd.Series(values.to_numpy(), index=values.index + pd.Timedelta(tf_ns, "ns"),
                       name="regime")
    n_grid = int((end_ns - start_ns) // tf_ns) + 1
    grid = pd.DatetimeIndex(pd.to_datetime(start_ns + np.arange(n_grid) * tf_ns, utc=True))
    on_grid = values.reindex(values.index.union(grid)).ffill().reindex(grid)
    scales: dict[str, float] = {str(k): float(v) for k, v in cfg.stake_scale.items()}
    scale = np.array([float(scales.get(str(x), 1.0)) if x is not None else 1.0
                      for x in on_grid.to_numpy()], dtype=np.float64)
    return labels, scale


def sizer_for(ra: RiskArrays, config: RiskConfig) -> Any:
    """A :class:`~atb.risk.sizing.PositionSizer` reading the kernel's state at each decision.

    Inside ``custom_stake_amount`` (slow path) the equity and drawdown are those of the entry
    being evaluated (``rin``, filled just before the callback).
    """
    from atb.risk.sizing import PositionSizer

    def profits() -> np.ndarray:
        n = int(min(ra.rstate[L.RS_N_PROFITS], len(ra.profits)))
        return ra.profits[:n]

    return PositionSizer(config, lambda: float(ra.rin[K.RI_EQUITY]),
                         lambda: float(ra.rin[K.RI_DRAWDOWN]), profits)
