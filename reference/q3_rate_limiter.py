"""Reference solution for q3_rate_limiter: a thread-safe token bucket.

Design:

- The state is two numbers, guarded by one lock: ``_tokens`` and ``_high``, the
  highest ``clock()`` reading seen so far. Refill is lazy: each call reads the
  clock once, under the lock, and only a reading above ``_high`` adds tokens,
  ``(reading - _high) * rate``, capped at ``capacity``, and raises ``_high``. A
  reading at or below ``_high`` changes nothing, so a clock that goes backwards
  neither adds nor removes tokens, and climbing back to ``_high`` adds none.
- A request for ``n`` is granted when ``_tokens >= n - TOLERANCE``; then ``n`` is
  subtracted, so ``_tokens`` may end a hair below zero (never below
  ``-TOLERANCE``). The tolerance keeps ``acquire`` from chasing deficits too small
  to move a large clock.
- ``acquire`` computes when the tokens will be there, ``wake = _high + deficit /
  rate`` (in clock time: if the clock is behind ``_high`` the climb back counts),
  gives up at once if that is past the deadline, and otherwise sleeps exactly
  ``wake - now`` outside the lock, then tries again: another thread may have
  taken the tokens meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TOLERANCE", "TokenBucket"]

TOLERANCE = 1e-6  # token counts are compared with this absolute tolerance


class TokenBucket:
    """Tokens refill continuously at ``rate`` per second of ``clock()`` time, up to
    ``capacity``; the bucket starts full. Thread-safe."""

    def __init__(self, rate: float, capacity: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:  # also rejects NaN
            raise ValueError(f"rate must be > 0, got {rate!r}")
        if not capacity > 0:
            raise ValueError(f"capacity must be > 0, got {capacity!r}")
        self._rate = rate
        self._capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._high = clock()
        self._lock = threading.Lock()

    def _check(self, tokens: float) -> None:
        if not 0 < tokens <= self._capacity:
            raise ValueError(f"tokens must be > 0 and <= capacity ({self._capacity!r}), "
                             f"got {tokens!r}")

    def _refill(self) -> float:
        """Read the clock once and bring the tokens up to date; the lock is held."""
        now = self._clock()
        if now > self._high:
            self._tokens = min(self._capacity, self._tokens + (now - self._high) * self._rate)
            self._high = now
        return now

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` and return True if they are available; else take nothing."""
        self._check(tokens)
        with self._lock:
            self._refill()
            if self._tokens < tokens - TOLERANCE:
                return False
            self._tokens -= tokens
            return True

    def acquire(self, tokens: float = 1.0, timeout: float | None = None) -> bool:
        """Wait (by calling ``sleep``) until ``tokens`` can be taken, take them, return
        True; return False at once, without sleeping, if that wait exceeds ``timeout``."""
        self._check(tokens)
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"timeout must be None or >= 0, got {timeout!r}")
        deadline = None
        while True:
            with self._lock:
                now = self._refill()
                deficit = tokens - self._tokens
                if deficit <= TOLERANCE:
                    self._tokens -= tokens
                    return True
                wake = self._high + deficit / self._rate
            if timeout is not None:
                if deadline is None:
                    deadline = now + timeout
                if wake > deadline:
                    return False
            self._sleep(wake - now)

    def available(self) -> float:
        """The tokens available now (after refill)."""
        with self._lock:
            self._refill()
            return self._tokens
