"""Read a freqtrade ``config.json`` with freqtrade's rules.

Known keys are validated (type and range, the message names the field); unknown keys are kept,
because strategies read their own keys through ``self.config``. The result is a plain ``dict``
(the compatibility surface strategies expect), normalised: ``max_open_trades = -1`` becomes
``float('inf')`` and a dict ``dry_run_wallet`` is reduced to the stake currency's amount.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atb.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "load_freqtrade_config", "validate_freqtrade_config"]

#: Defaults applied when a key is absent (freqtrade's documented defaults where it has one).
DEFAULT_CONFIG: dict[str, Any] = {
    "dry_run": True,
    "dry_run_wallet": 1000.0,
    "stake_amount": "unlimited",
    "tradable_balance_ratio": 0.99,
    "trading_mode": "spot",
    "margin_mode": "",
    "amount_reserve_percent": 0.05,
    "liquidation_buffer": 0.05,
}


class _Exchange(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = "binance"
    pair_whitelist: list[str] = Field(default_factory=list)
    pair_blacklist: list[str] = Field(default_factory=list)
    markets_file: str | None = None


class _Unfilled(BaseModel):
    model_config = ConfigDict(extra="allow")
    entry: float | None = Field(default=None, ge=0)
    exit: float | None = Field(default=None, ge=0)
    unit: Literal["minutes", "seconds"] = "minutes"
    exit_timeout_count: int = 0


class _FreqtradeConfig(BaseModel):
    """Schema of the keys atb uses; ``extra="allow"`` keeps the user's own keys."""

    model_config = ConfigDict(extra="allow", strict=False)

    max_open_trades: int | float | None = None
    stake_currency: str | None = None
    stake_amount: float | Literal["unlimited"] | None = None
    dry_run: bool | None = None
    dry_run_wallet: float | dict[str, float] | None = None
    tradable_balance_ratio: float | None = Field(default=None, gt=0.0, le=1.0)
    fee: float | None = Field(default=None, ge=0.0, lt=0.1)
    timeframe: str | None = None
    trading_mode: Literal["spot", "margin", "futures"] | None = None
    margin_mode: Literal["", "isolated", "cross"] | None = None
    minimal_roi: dict[str, float] | None = None
    stoploss: float | None = Field(default=None, ge=-1.0, le=0.0)
    trailing_stop: bool | None = None
    trailing_stop_positive: float | None = Field(default=None, gt=0.0, lt=1.0)
    trailing_stop_positive_offset: float | None = Field(default=None, ge=0.0, lt=1.0)
    trailing_only_offset_is_reached: bool | None = None
    use_exit_signal: bool | None = None
    exit_profit_only: bool | None = None
    exit_profit_offset: float | None = None
    ignore_roi_if_entry_signal: bool | None = None
    order_types: dict[str, Any] | None = None
    unfilledtimeout: _Unfilled | None = None
    exchange: _Exchange | None = None
    amount_reserve_percent: float | None = Field(default=None, ge=0.0, le=0.5)
    liquidation_buffer: float | None = Field(default=None, ge=0.0, le=0.99)
    startup_candle_count: int | None = Field(default=None, ge=0)

    @field_validator("stake_amount", mode="before")
    @classmethod
    def _stake(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("must be a positive number or 'unlimited'")
        if isinstance(v, int | float) and not v > 0:
            raise ValueError("must be a positive number or 'unlimited'")
        return v

    @field_validator("max_open_trades", mode="before")
    @classmethod
    def _mot(cls, v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, int | float) and v < -1):
            raise ValueError("must be an integer >= 0, or -1 for unlimited")
        if isinstance(v, float) and not (math.isinf(v) or v.is_integer()):
            raise ValueError("must be an integer >= 0, or -1 for unlimited")
        return v


def _format_error(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"] if not str(x).startswith("function-"))
    # pydantic appends the union member's type to loc; keep the config key path only
    type_tags = {"float", "int", "str", "bool", "literal['unlimited']"}
    parts = [p for p in loc.split(".") if p not in type_tags]
    field = ".".join(p for p in parts if not p.startswith("dict[") and not p.startswith("literal["))
    return f"{source}: invalid value for '{field}': {err['msg']} (got {err.get('input')!r})"


def validate_freqtrade_config(raw: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate and normalise a freqtrade configuration dict.

    Parameters
    ----------
    raw : dict
        Parsed JSON of a freqtrade ``config.json`` (unknown keys allowed and kept).
    source : str
        Name used in error messages (usually the file path).

    Returns
    -------
    dict
        A new dict: defaults filled in (:data:`DEFAULT_CONFIG`), ``max_open_trades`` as a float
        (``inf`` for -1), ``dry_run_wallet`` as a float in stake currency.

    Raises
    ------
    ConfigError
        Naming the first invalid field, its expected type and the value found.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: top level must be a JSON object")
    try:
        _FreqtradeConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None
    cfg: dict[str, Any] = {**DEFAULT_CONFIG, **raw}
    mot = cfg.get("max_open_trades")
    if mot is not None:
        cfg["max_open_trades"] = math.inf if (mot == -1 or math.isinf(float(mot))) else float(mot)
    wallet = cfg.get("dry_run_wallet")
    if isinstance(wallet, dict):
        cur = cfg.get("stake_currency")
        if cur not in wallet:
            raise ConfigError(f"{source}: 'dry_run_wallet' has no entry for stake currency {cur!r}")
        cfg["dry_run_wallet"] = float(wallet[cur])
    if cfg.get("stake_amount") != "unlimited":
        cfg["stake_amount"] = float(cfg["stake_amount"])
    elif cfg.get("max_open_trades") == math.inf:
        raise ConfigError(
            f"{source}: 'max_open_trades' and 'stake_amount' cannot both be unlimited "
            "(each stake is the wallet divided by max_open_trades)"
        )
    return cfg


def load_freqtrade_config(path: Path) -> dict[str, Any]:
    """Load and validate a freqtrade ``config.json`` file.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid JSON (line and column named) or fails validation.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return validate_freqtrade_config(raw, source=str(path))
