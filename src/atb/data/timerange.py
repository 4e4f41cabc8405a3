"""freqtrade-style ``--timerange`` values (UTC, end inclusive)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from atb.errors import ConfigError

__all__ = ["TimeRange"]

_DATE = r"\d{8}"
_EPOCH = r"\d{10}|\d{13}"


def _parse_point(text: str, raw: str) -> datetime:
    try:
        if len(text) == 8:
            return datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC)
        value = int(text)
        if len(text) == 13:
            value //= 1000
        return datetime.fromtimestamp(value, tz=UTC)
    except ValueError:
        raise ConfigError(f"timerange: {raw!r} contains an invalid date {text!r}") from None


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A backtest range: ``startdt`` inclusive, ``stopdt`` inclusive; either may be open.

    Forms accepted (as freqtrade's ``--timerange``): ``YYYYMMDD-YYYYMMDD``, ``YYYYMMDD-``,
    ``-YYYYMMDD``, and epoch seconds (10 digits) or milliseconds (13 digits) instead of dates.

    Examples
    --------
    >>> TimeRange.parse("20250101-20250401").stopdt.isoformat()
    '2025-04-01T00:00:00+00:00'
    """

    startdt: datetime | None = None
    stopdt: datetime | None = None
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse a timerange string.

        Raises
        ------
        ConfigError
            If the string has none of the accepted forms, names an impossible date, or the
            start is after the stop.
        """
        raw = (text or "").strip()
        m = re.fullmatch(rf"({_DATE}|{_EPOCH})?-({_DATE}|{_EPOCH})?", raw)
        if not m or (m.group(1) is None and m.group(2) is None):
            raise ConfigError(
                f"timerange: {text!r} is not a timerange (use YYYYMMDD-YYYYMMDD, YYYYMMDD- or "
                "-YYYYMMDD)"
            )
        start = _parse_point(m.group(1), raw) if m.group(1) else None
        stop = _parse_point(m.group(2), raw) if m.group(2) else None
        if start is not None and stop is not None and start > stop:
            raise ConfigError(f"timerange: {text!r} starts after it ends")
        return cls(start, stop, raw)

    def __str__(self) -> str:
        return self.text or (
            f"{self.startdt:%Y%m%d}-" if self.startdt else "-"
        ) + (f"{self.stopdt:%Y%m%d}" if self.stopdt else "")
