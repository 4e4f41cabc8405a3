"""Timeframe strings ("5m", "1h", "1d") and candle boundary arithmetic, UTC only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from atb.errors import ConfigError

__all__ = [
    "timeframe_to_minutes",
    "timeframe_to_msecs",
    "timeframe_to_next_date",
    "timeframe_to_prev_date",
    "timeframe_to_resample_freq",
    "timeframe_to_seconds",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000, "y": 31536000}
_RE = re.compile(r"^(\d+)([smhdwMy])$")


def timeframe_to_seconds(timeframe: str) -> int:
    """Return the length of one candle in seconds.

    Parameters
    ----------
    timeframe : str
        ccxt-style timeframe such as ``"1m"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"1w"``, ``"1M"``
        (a month counts as 30 days, as in ccxt's ``parse_timeframe``).

    Returns
    -------
    int
        Seconds per candle.

    Raises
    ------
    ConfigError
        If the string is not a valid timeframe.

    Examples
    --------
    >>> timeframe_to_seconds("5m")
    300
    """
    m = _RE.match(str(timeframe).strip()) if timeframe is not None else None
    if not m or int(m.group(1)) <= 0:
        raise ConfigError(
            f"timeframe: {timeframe!r} is not a valid timeframe (e.g. '5m', '1h', '1d')"
        )
    return int(m.group(1)) * _UNITS[m.group(2)]


def timeframe_to_minutes(timeframe: str) -> int:
    """Return the candle length in whole minutes (``"1h"`` -> 60)."""
    return timeframe_to_seconds(timeframe) // 60


def timeframe_to_msecs(timeframe: str) -> int:
    """Return the candle length in milliseconds (``"1m"`` -> 60000)."""
    return timeframe_to_seconds(timeframe) * 1000


def timeframe_to_resample_freq(timeframe: str) -> str:
    """Return the pandas offset alias for resampling (``"1h"`` -> ``"3600s"``).

    Weeks start on Monday and months on the 1st, as exchanges label them.
    """
    if timeframe.endswith("M"):
        return f"{timeframe[:-1]}MS"
    if timeframe.endswith("w"):
        return f"{timeframe[:-1]}W-MON"
    return f"{timeframe_to_seconds(timeframe)}s"


def _as_utc(date: datetime | None) -> datetime:
    if date is None:
        return datetime.now(UTC)
    if date.tzinfo is None:
        return date.replace(tzinfo=UTC)
    return date.astimezone(UTC)


def timeframe_to_prev_date(timeframe: str, date: datetime | None = None) -> datetime:
    """Return the open time of the candle containing ``date`` (UTC; now if ``None``).

    A date exactly on a boundary is returned unchanged.
    """
    date = _as_utc(date)
    secs = timeframe_to_seconds(timeframe)
    ts = int(date.timestamp())
    return datetime.fromtimestamp(ts - ts % secs, tz=UTC)


def timeframe_to_next_date(timeframe: str, date: datetime | None = None) -> datetime:
    """Return the open time of the next candle strictly after ``date`` (UTC; now if ``None``)."""
    prev = timeframe_to_prev_date(timeframe, date)
    return prev + timedelta(seconds=timeframe_to_seconds(timeframe))
