"""Bounded retries with exponential backoff and jitter, for temporary venue errors only.

Built on tenacity. An attempt is retried when it raised a
:class:`~atb.errors.TemporaryExchangeError` (timeouts, disconnects, 5xx, rate limits, malformed
responses) that is not a :class:`~atb.errors.CircuitOpenError`, and the caller's ``allow``
predicate agrees (the client stops as soon as the venue's breaker opens). Business errors
(invalid order, insufficient funds, not found, authentication) are raised at once.

The wait before attempt ``n + 1`` is ``min(max_delay_s, initial_delay_s * 2**(n-1)) + U(0,
jitter_s)``, or the venue's ``Retry-After`` when that is longer (capped at
``max_retry_after_s``). Retrying stops after ``max_attempts`` attempts, or before a wait would
carry the total past ``max_total_s``; the last error is then re-raised unchanged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from atb.errors import CircuitOpenError, ConfigError, TemporaryExchangeError
from atb.execution.ccxt.errors import VenueRateLimitError

__all__ = ["RetryPolicy", "run_with_retry"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How hard to retry a temporary venue error.

    Attributes
    ----------
    max_attempts : int
        Attempts in total, including the first (1 = no retry).
    max_total_s : float
        Upper bound on the time spent in one call including waits, seconds.
    initial_delay_s : float
        Backoff before the second attempt, seconds; doubles each attempt.
    max_delay_s : float
        Cap of the exponential backoff, seconds.
    jitter_s : float
        Uniform random jitter added to each backoff, seconds.
    respect_retry_after : bool
        Wait at least the venue's ``Retry-After`` after a rate-limit answer.
    max_retry_after_s : float
        Cap on an honoured ``Retry-After``, seconds.
    """

    max_attempts: int = 5
    max_total_s: float = 30.0
    initial_delay_s: float = 0.5
    max_delay_s: float = 8.0
    jitter_s: float = 0.5
    respect_retry_after: bool = True
    max_retry_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"retry policy: invalid value for 'max_attempts': {self.max_attempts}")
        for name in ("max_total_s", "initial_delay_s", "max_delay_s", "jitter_s", "max_retry_after_s"):
            if getattr(self, name) < 0:
                raise ConfigError(f"retry policy: invalid value for '{name}': {getattr(self, name)}")

    def wait_s(self, retry_state: RetryCallState) -> float:
        """Seconds to wait before the next attempt (tenacity ``wait`` callable)."""
        exponent = max(retry_state.attempt_number - 1, 0)
        base = min(self.max_delay_s, self.initial_delay_s * 2.0 ** min(exponent, 60))
        base += random.uniform(0.0, self.jitter_s)
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if self.respect_retry_after and isinstance(exc, VenueRateLimitError) and exc.retry_after_s:
            return max(base, min(exc.retry_after_s, self.max_retry_after_s))
        return base


def is_retryable(exc: BaseException) -> bool:
    """Temporary errors except an open circuit."""
    return isinstance(exc, TemporaryExchangeError) and not isinstance(exc, CircuitOpenError)


async def run_with_retry(attempt: Callable[[int], Awaitable[T]], policy: RetryPolicy, *,
                         allow: Callable[[], bool] = lambda: True,
                         sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Run ``attempt(n)`` (``n`` = 1, 2, ...) until it returns, retrying temporary errors.

    Parameters
    ----------
    attempt : callable
        Coroutine function taking the 1-based attempt number.
    policy : RetryPolicy
        Bounds and backoff.
    allow : callable
        Checked after each failure; False stops retrying (e.g. the circuit breaker opened).
    sleep : callable
        Async sleep (injected by tests).

    Raises
    ------
    ExchangeError
        The last error when retries are exhausted or the error is not retryable.
    """
    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_s),
        wait=policy.wait_s,
        retry=retry_if_exception(lambda e: is_retryable(e) and allow()),
        reraise=True,
        sleep=sleep,
    )
    async for state in retrying:
        with state:
            return await attempt(state.retry_state.attempt_number)
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
