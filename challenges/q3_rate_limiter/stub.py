"""q3_rate_limiter: a token bucket. Start here; see README.md for the contract."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """A thread-safe token bucket.

    - Starts full; refills continuously at ``rate`` tokens per second of
      ``clock()`` time, never above ``capacity``.
    - ``try_acquire(n)`` takes ``n`` tokens and returns True if at least ``n``
      are available; otherwise returns False and takes nothing.
    - ``acquire(n, timeout)`` sleeps (by calling ``sleep``) until ``n`` tokens
      can be taken, takes them and returns True; returns False at once, without
      sleeping or taking anything, if the wait needed is more than ``timeout``.
    - ``available()`` returns the tokens available now.
    - Bad arguments raise ``ValueError``; see README.md for the rest (the
      highest clock reading, the 1e-6 tolerance, threads).
    """

    def __init__(self, rate: float, capacity: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        raise NotImplementedError("TokenBucket is not implemented yet")

    def try_acquire(self, tokens: float = 1.0) -> bool:
        raise NotImplementedError

    def acquire(self, tokens: float = 1.0, timeout: float | None = None) -> bool:
        raise NotImplementedError

    def available(self) -> float:
        raise NotImplementedError
