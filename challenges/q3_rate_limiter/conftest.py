"""Helpers shared by the public and hidden tests of q3_rate_limiter (trusted side)."""

from __future__ import annotations

from typing import Any

import pytest

from graders.testing import Submission

DEFAULT = "default"  # leave the argument out of the call


def is_number(value: Any) -> bool:
    return type(value) in (int, float)


class Bucket:
    """A TokenBucket living in the worker, driven by handle, with a clock we set."""

    def __init__(self, submission: Submission, handle: int, now: float) -> None:
        self.submission = submission
        self.handle = handle
        self.now = now

    def at(self, now: float) -> Bucket:
        """Set the bucket's clock to `now`."""
        self.submission.call("set_time", handle=self.handle, now=now)
        self.now = now
        return self

    def call_try_acquire(self, tokens: Any = DEFAULT) -> dict[str, Any]:
        return self.submission.call("try_acquire", handle=self.handle, tokens=tokens)

    def try_acquire(self, tokens: Any = DEFAULT) -> bool:
        answer = self.call_try_acquire(tokens)
        assert answer["raised"] is None, \
            f"try_acquire raised {answer['raised']['type']} unexpectedly"
        assert type(answer["value"]) is bool, "try_acquire did not return True or False"
        return answer["value"]

    def take(self, tokens: Any) -> Bucket:
        """try_acquire(tokens), which must be granted (the tokens are there)."""
        assert self.try_acquire(tokens), "try_acquire refused tokens that were available"
        return self

    def call_available(self) -> dict[str, Any]:
        return self.submission.call("available", handle=self.handle)

    def available(self) -> float:
        answer = self.call_available()
        assert answer["raised"] is None, f"available() raised {answer['raised']['type']}"
        assert is_number(answer["value"]), "available() did not return a number"
        return answer["value"]

    def acquire(self, tokens: Any = DEFAULT, timeout: Any = DEFAULT) -> dict[str, Any]:
        """The full observation of one acquire: value, raised, slept (total), sleeps,
        now (the clock after), endless (stopped for sleeping without end)."""
        answer = self.submission.call("acquire", handle=self.handle, tokens=tokens,
                                      time_limit=timeout)
        assert not answer["endless"], \
            "acquire never returned: it kept sleeping without getting its tokens"
        assert not answer["negative_sleep"], "acquire called sleep with a negative time"
        assert answer["raised"] is None, f"acquire raised {answer['raised']['type']} unexpectedly"
        assert type(answer["value"]) is bool, "acquire did not return True or False"
        self.now = answer["now"]
        return answer


@pytest.fixture
def make_bucket(submission: Submission) -> Any:
    def make(rate: float, capacity: float, now: float = 0.0) -> Bucket:
        made = submission.call("make", rate=rate, capacity=capacity, now=now)
        if "handle" not in made:
            raise AssertionError(f"creating a TokenBucket raised {made['raised']['type']}")
        return Bucket(submission, made["handle"], now)

    return make
