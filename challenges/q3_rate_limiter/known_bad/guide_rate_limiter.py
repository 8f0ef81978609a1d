"""Known bad: the interview guide's Q3 RateLimiter ("Token bucket rate limiter"), adapted.

The guide's class takes `rate` (calls allowed) and `per` (seconds): the bucket holds
at most `rate` tokens, starts full and refills at `rate / per` per second. Its
`allow_request()` becomes `try_acquire`, and the retry loop of its `llm_call`
decorator (sleep a fixed 60 / rate_limit seconds, i.e. one token's time, and try
again; or give up when retrying is off) becomes `acquire`. Adapted to the contract's
names as faithfully as possible: RateLimiter(rate=capacity, per=capacity / rate), the
guide's time.time() / time.sleep() replaced by the `clock` / `sleep` parameters,
retrying stops once the sleeps would pass `timeout`, and `available()` added minimally.

Bugs a suite should catch: every request takes 1 token whatever it asks for (and
is granted when 1 is there); acquire polls with fixed sleeps of one token's time,
so it sleeps longer than needed, and it sleeps before giving up on a timeout it
cannot meet; a clock that goes backwards removes tokens (and climbing back adds
them again); no tolerance; no argument is validated.
"""

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket rate limiter"""

    def __init__(self, rate: int, per: float, clock: Callable[[], float]):
        """
        Args:
            rate: Number of calls allowed
            per: Time period in seconds
        """
        self.rate = rate
        self.per = per
        self.allowance = rate
        self.clock = clock
        self.last_check = clock()
        self._lock = threading.Lock()

    def allow_request(self) -> bool:
        with self._lock:
            current = self.clock()
            time_passed = current - self.last_check
            self.last_check = current

            # Add tokens based on time passed
            self.allowance += time_passed * (self.rate / self.per)
            if self.allowance > self.rate:
                self.allowance = self.rate

            if self.allowance < 1.0:
                return False
            else:
                self.allowance -= 1.0
                return True


class TokenBucket:
    """The contract's interface over the guide's RateLimiter."""

    def __init__(self, rate: float, capacity: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._limiter = RateLimiter(rate=capacity, per=capacity / rate, clock=clock)
        self._sleep = sleep
        self._rate_limit = rate  # tokens per second, as the guide's calls per minute

    def try_acquire(self, tokens: float = 1.0) -> bool:
        return self._limiter.allow_request()

    def acquire(self, tokens: float = 1.0, timeout: float | None = None) -> bool:
        # the guide's retry loop: `while not limiter.allow_request(): time.sleep(60.0 / rate_limit)`
        waited = 0.0
        while not self._limiter.allow_request():
            wait_time = 1.0 / self._rate_limit
            if timeout is not None and waited + wait_time > timeout:
                return False  # the guide raises "Rate limit exceeded" when not retrying
            self._sleep(wait_time)
            waited += wait_time
        return True

    def available(self) -> float:
        limiter = self._limiter
        with limiter._lock:
            current = limiter.clock()
            limiter.allowance += (current - limiter.last_check) * (limiter.rate / limiter.per)
            limiter.last_check = current
            if limiter.allowance > limiter.rate:
                limiter.allowance = limiter.rate
            return limiter.allowance
