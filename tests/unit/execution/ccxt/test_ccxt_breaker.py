"""Circuit breaker transitions on a fake clock (no sleeping)."""

from __future__ import annotations

import pytest

from atb.errors import CircuitOpenError, ConfigError, TemporaryExchangeError
from atb.execution.ccxt.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(**kw):
    clock = Clock()
    options = {"failure_threshold": 3, "cool_down_s": 10.0, **kw}
    return CircuitBreaker("binance", clock=clock, **options), clock


def test_opens_after_n_consecutive_failures_and_fails_fast():
    cb, clock = make()
    for _ in range(2):
        cb.before_call()
        cb.record_failure()
    assert cb.state == "closed"
    cb.before_call()
    cb.record_failure()
    assert cb.state == "open"
    with pytest.raises(CircuitOpenError, match="binance: circuit breaker open") as info:
        cb.before_call()
    assert isinstance(info.value, TemporaryExchangeError)
    clock.now += 9.9
    with pytest.raises(CircuitOpenError):
        cb.before_call()
    assert cb.retry_in_s() == pytest.approx(0.1)


def test_success_resets_the_consecutive_count():
    cb, _ = make()
    for _ in range(5):
        cb.record_failure() if cb.consecutive_failures < 2 else cb.record_success()
    assert cb.state == "closed"


def test_half_open_after_cool_down_then_closed_on_success():
    cb, clock = make()
    for _ in range(3):
        cb.record_failure()
    clock.now += 10.0
    cb.before_call()
    assert cb.state == "half_open"
    with pytest.raises(CircuitOpenError, match="probe in flight"):
        cb.before_call()  # one probe at a time
    cb.record_success()
    assert cb.state == "closed" and cb.consecutive_failures == 0
    cb.before_call()  # admitted


def test_half_open_failure_reopens_and_restarts_cool_down():
    cb, clock = make()
    for _ in range(3):
        cb.record_failure()
    clock.now += 10.0
    cb.before_call()
    cb.record_failure()
    assert cb.state == "open"
    assert cb.retry_in_s() == pytest.approx(10.0)
    clock.now += 10.0
    cb.before_call()
    assert cb.state == "half_open"


def test_failure_rate_over_window_opens():
    cb, _ = make(failure_threshold=100, failure_rate=0.5, window=10)
    for i in range(9):
        cb.record_failure() if i % 2 == 0 else cb.record_success()
    assert cb.state == "closed"  # window not full yet
    cb.record_failure()  # 6 of 10 failed
    assert cb.state == "open"


def test_released_probe_allows_the_next_one():
    cb, clock = make()
    for _ in range(3):
        cb.record_failure()
    clock.now += 10
    cb.before_call()
    cb.release()
    cb.before_call()
    assert cb.state == "half_open"


@pytest.mark.parametrize("kw", [{"failure_threshold": 0}, {"cool_down_s": -1}, {"failure_rate": 0.0},
                                {"failure_rate": 1.5}, {"window": 0}])
def test_invalid_config(kw):
    with pytest.raises(ConfigError):
        CircuitBreaker("x", **kw)
