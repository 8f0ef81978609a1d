"""Known bad: correct, but slow. The bucket keeps no running count: it keeps the
history of what happened since it was last full (every grant, and every clock
reading that raised the highest one) and replays that history at every call to
know how many tokens there are. Each call costs time in proportion to the
history, so a busy bucket that seldom fills up gets slower and slower.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TOLERANCE = 1e-6


class TokenBucket:
    def __init__(self, rate: float, capacity: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:
            raise ValueError("rate must be > 0")
        if not capacity > 0:
            raise ValueError("capacity must be > 0")
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # the last time the bucket was known full, and what happened since
        self._full_at = clock()
        self._history: list[tuple[float, float]] = []  # (clock reading, tokens taken)

    def _check(self, tokens: float) -> None:
        if not 0 < tokens <= self._capacity:
            raise ValueError("tokens must be > 0 and <= capacity")

    def _replay(self, now: float) -> tuple[float, float, bool]:
        """(tokens, highest reading, whether `now` raised it) at reading `now`, from the
        history; lock held."""
        tokens, high = self._capacity, self._full_at
        for reading, taken in self._history:
            if reading > high:
                tokens = min(self._capacity, tokens + (reading - high) * self._rate)
                high = reading
            tokens -= taken
        raised = now > high
        if raised:
            tokens = min(self._capacity, tokens + (now - high) * self._rate)
            high = now
        return tokens, high, raised

    def _record(self, now: float, taken: float) -> None:
        tokens, high, raised = self._replay(now)
        if tokens >= self._capacity:  # full again: forget the past
            self._full_at, self._history = high, []
        if taken:
            self._history.append((now, taken))
        elif raised:  # only the latest of readings without grants between them matters
            if self._history and not self._history[-1][1]:
                self._history[-1] = (now, 0.0)
            else:
                self._history.append((now, 0.0))

    def try_acquire(self, tokens: float = 1.0) -> bool:
        self._check(tokens)
        with self._lock:
            now = self._clock()
            have, _, _ = self._replay(now)
            granted = have >= tokens - TOLERANCE
            self._record(now, tokens if granted else 0.0)
            return granted

    def acquire(self, tokens: float = 1.0, timeout: float | None = None) -> bool:
        self._check(tokens)
        if timeout is not None and not timeout >= 0:
            raise ValueError("timeout must be None or >= 0")
        deadline = None
        while True:
            with self._lock:
                now = self._clock()
                have, high, _ = self._replay(now)
                if tokens - have <= TOLERANCE:
                    self._record(now, tokens)
                    return True
                self._record(now, 0.0)
                wake = high + (tokens - have) / self._rate
            if timeout is not None:
                if deadline is None:
                    deadline = now + timeout
                if wake > deadline:
                    return False
            self._sleep(wake - now)

    def available(self) -> float:
        with self._lock:
            now = self._clock()
            have, _, _ = self._replay(now)
            self._record(now, 0.0)
            return have
