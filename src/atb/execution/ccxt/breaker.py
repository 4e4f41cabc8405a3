"""Per-venue circuit breaker: stop calling a venue that keeps failing, probe it after a cool-down.

States::

    closed ──(N consecutive failures, or failure rate >= r over the last W calls)──► open
    open ──(cool-down elapsed, on the next call)──► half_open
    half_open ──success──► closed        half_open ──failure──► open (cool-down restarts)

While open, :meth:`CircuitBreaker.before_call` raises :class:`~atb.errors.CircuitOpenError`
at once (no request is sent). In half-open, one probe call at a time is let through; others
fail fast until it reports. Only *venue health* failures count (timeouts, 5xx, rate limits,
malformed responses); a rejected order is the venue working and counts as a success.

The clock is injected (a callable returning monotonic seconds) so tests never sleep.

Examples
--------
>>> now = [0.0]
>>> cb = CircuitBreaker("binance", failure_threshold=2, cool_down_s=10.0, clock=lambda: now[0])
>>> cb.record_failure(); cb.record_failure(); cb.state
'open'
>>> now[0] = 10.0; cb.before_call(); cb.state
'half_open'
>>> cb.record_success(); cb.state
'closed'
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from atb.errors import CircuitOpenError, ConfigError

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed / open / half-open breaker for one venue.

    Parameters
    ----------
    venue : str
        Venue id, for messages.
    failure_threshold : int
        Consecutive failures that open the breaker (>= 1).
    cool_down_s : float
        Seconds the breaker stays open before a half-open probe, >= 0.
    failure_rate : float or None
        Also open when the ratio of failures among the last ``window`` calls reaches this value
        (0 < rate <= 1); None disables the rate rule.
    window : int
        Number of recent calls the rate rule looks at; it acts only once the window is full.
    clock : callable, optional
        Monotonic seconds (default :func:`time.monotonic`).
    """

    def __init__(self, venue: str, *, failure_threshold: int = 5, cool_down_s: float = 30.0,
                 failure_rate: float | None = None, window: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1:
            raise ConfigError(f"circuit breaker: invalid value for 'failure_threshold': {failure_threshold}")
        if cool_down_s < 0:
            raise ConfigError(f"circuit breaker: invalid value for 'cool_down_s': {cool_down_s}")
        if failure_rate is not None and not 0.0 < failure_rate <= 1.0:
            raise ConfigError(f"circuit breaker: invalid value for 'failure_rate': {failure_rate}")
        if window < 1:
            raise ConfigError(f"circuit breaker: invalid value for 'window': {window}")
        self.venue = venue
        self.failure_threshold = failure_threshold
        self.cool_down_s = cool_down_s
        self.failure_rate = failure_rate
        self._clock = clock
        self._state: BreakerState = "closed"
        self._consecutive = 0
        self._recent: deque[bool] = deque(maxlen=window)  # True = failure
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        """Current state (``open`` stays ``open`` until a call arrives after the cool-down)."""
        return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._consecutive

    def retry_in_s(self) -> float:
        """Seconds until a half-open probe is allowed (0 when not open)."""
        if self._state != "open":
            return 0.0
        return max(0.0, self._opened_at + self.cool_down_s - self._clock())

    def before_call(self) -> None:
        """Admit a call or fail fast.

        Raises
        ------
        CircuitOpenError
            The breaker is open and the cool-down has not elapsed, or a half-open probe is
            already in flight.
        """
        if self._state == "open":
            wait = self.retry_in_s()
            if wait > 0:
                raise CircuitOpenError(f"{self.venue}: circuit breaker open after "
                                       f"{self._consecutive} failures; retry in {wait:.1f} s")
            self._state = "half_open"
            self._probe_in_flight = False
        if self._state == "half_open":
            if self._probe_in_flight:
                raise CircuitOpenError(f"{self.venue}: circuit breaker half-open, probe in flight")
            self._probe_in_flight = True

    def record_success(self) -> None:
        """A call reached the venue and got a well-formed answer: close the breaker."""
        self._consecutive = 0
        self._recent.append(False)
        self._state = "closed"
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """A call failed for venue-health reasons; may open the breaker."""
        self._consecutive += 1
        self._recent.append(True)
        self._probe_in_flight = False
        if self._state == "half_open" or self._should_open():
            self._open()

    def release(self) -> None:
        """A call ended without telling anything about venue health (e.g. cancelled)."""
        self._probe_in_flight = False

    def _should_open(self) -> bool:
        if self._consecutive >= self.failure_threshold:
            return True
        if self.failure_rate is None or len(self._recent) < (self._recent.maxlen or 0):
            return False
        return sum(self._recent) / len(self._recent) >= self.failure_rate

    def _open(self) -> None:
        self._state = "open"
        self._opened_at = self._clock()
        self._recent.clear()
