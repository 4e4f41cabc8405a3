from datetime import UTC, datetime

import pytest

from atb.core.timeframe import (
    timeframe_to_minutes,
    timeframe_to_msecs,
    timeframe_to_next_date,
    timeframe_to_prev_date,
    timeframe_to_seconds,
)
from atb.errors import ConfigError


@pytest.mark.parametrize(
    ("tf", "secs"),
    [("1m", 60), ("5m", 300), ("1h", 3600), ("4h", 14400), ("1d", 86400), ("1w", 604800)],
)
def test_timeframe_to_seconds(tf, secs):
    assert timeframe_to_seconds(tf) == secs
    assert timeframe_to_minutes(tf) == secs // 60
    assert timeframe_to_msecs(tf) == secs * 1000


@pytest.mark.parametrize("bad", ["", "5", "m5", "0m", "5x", None])
def test_bad_timeframe_names_field(bad):
    with pytest.raises(ConfigError, match="timeframe"):
        timeframe_to_seconds(bad)


def test_prev_next_date():
    d = datetime(2024, 1, 1, 10, 7, 30, tzinfo=UTC)
    assert timeframe_to_prev_date("5m", d) == datetime(2024, 1, 1, 10, 5, tzinfo=UTC)
    assert timeframe_to_next_date("5m", d) == datetime(2024, 1, 1, 10, 10, tzinfo=UTC)
    on = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
    assert timeframe_to_prev_date("1h", on) == on
