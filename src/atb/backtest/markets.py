"""Market metadata (amount step, price precision, limits) from a ccxt-format markets JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atb.errors import ConfigError

__all__ = ["MarketInfo", "default_market", "load_markets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketInfo:
    """Trading rules of one pair.

    Attributes
    ----------
    amount_step : float
        Amount precision as a tick (base currency), e.g. ``1e-8``.
    price_step : float or None
        Price tick from the market (fallback when the data gives none).
    min_cost, max_cost : float or None
        Order value limits, quote currency.
    min_amount, max_amount : float or None
        Order amount limits, base currency.
    max_leverage : float
        ``limits.leverage.max`` (1.0 when absent).
    active : bool
        Inactive pairs are dropped from the whitelist, as freqtrade does.
    fee : float or None
        The worse of the market's taker and maker fee (ratio), freqtrade's default fee.
    """

    amount_step: float = 1e-8
    price_step: float | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    min_amount: float | None = None
    max_amount: float | None = None
    max_leverage: float = 1.0
    active: bool = True
    fee: float | None = None


def default_market() -> MarketInfo:
    """The rules used without a markets file: amount step 1e-8 and no limits."""
    return MarketInfo()


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _step(v: Any, mode: Any) -> float | None:
    """Ccxt precision: a tick size (TICK_SIZE mode) or a number of decimals (DECIMAL_PLACES)."""
    f = _num(v)
    if f is None:
        return None
    if mode == 2:  # ccxt DECIMAL_PLACES: the value is a number of decimals
        return 10.0 ** -int(f)
    return f  # ccxt TICK_SIZE (the mode of current ccxt exchanges)


def _worst_fee(m: dict[str, Any]) -> float | None:
    fees = [f for f in (_num(m.get("taker")), _num(m.get("maker"))) if f is not None]
    return max(fees) if fees else None


def load_markets(path: Path) -> dict[str, MarketInfo]:
    """Load a ccxt markets JSON (a list of markets or a dict keyed by symbol).

    Parameters
    ----------
    path : Path
        File written from ccxt ``exchange.markets`` (or freqtrade's offline markets).

    Returns
    -------
    dict
        Symbol (``"BTC/USDT"``) -> :class:`MarketInfo`.

    Raises
    ------
    ConfigError
        If the file cannot be read or is not a list/dict of markets with a ``symbol``.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"markets file not found: {path}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"markets file {path} is not valid JSON: {exc}") from None
    items = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(items, list):
        raise ConfigError(f"markets file {path}: expected a list or an object of markets")
    mode = raw.get("precisionMode") if isinstance(raw, dict) else None
    out: dict[str, MarketInfo] = {}
    for i, m in enumerate(items):
        if not isinstance(m, dict) or "symbol" not in m:
            raise ConfigError(f"markets file {path}: entry {i} has no 'symbol'")
        prec = m.get("precision") or {}
        lim = m.get("limits") or {}
        amount_step = _step(prec.get("amount"), mode) or 1e-8
        out[str(m["symbol"])] = MarketInfo(
            amount_step=amount_step,
            price_step=_step(prec.get("price"), mode),
            min_cost=_num((lim.get("cost") or {}).get("min")),
            max_cost=_num((lim.get("cost") or {}).get("max")),
            min_amount=_num((lim.get("amount") or {}).get("min")),
            max_amount=_num((lim.get("amount") or {}).get("max")),
            max_leverage=_num((lim.get("leverage") or {}).get("max")) or 1.0,
            active=bool(m.get("active", True) if m.get("active") is not None else True),
            fee=_worst_fee(m),
        )
    return out
