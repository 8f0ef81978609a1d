"""Helpers shared by the public and hidden tests of q3_decorator (trusted side)."""

from __future__ import annotations

from typing import Any

import pytest

from graders.testing import Submission


class Cache:
    """A decorated function living in the worker, driven by handle."""

    def __init__(self, submission: Submission, handle: int) -> None:
        self.submission = submission
        self.handle = handle

    def call(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The full observation of one call: value, raised, computed (0 or 1)."""
        return self.submission.call("call", handle=self.handle, args=list(args), kwargs=kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outcome = self.call(*args, **kwargs)
        assert outcome["raised"] is None, f"a call raised {outcome['raised']['type']} unexpectedly"
        return outcome["value"]

    def computed(self, *args: Any, **kwargs: Any) -> bool:
        """Whether this call ran the underlying function (a miss)."""
        outcome = self.call(*args, **kwargs)
        assert outcome["raised"] is None, f"a call raised {outcome['raised']['type']} unexpectedly"
        assert type(outcome["computed"]) is int and outcome["computed"] in (0, 1)
        return outcome["computed"] == 1

    def fill(self, keys: range) -> None:
        """Call with each key in turn (in one request), as `self(key)` for each would."""
        answer = self.submission.call("call_each", handle=self.handle, keys=list(keys))
        assert not answer["raised"], f"a call raised {answer['raised'][0]} unexpectedly"

    def at(self, now: float) -> Cache:
        self.submission.call("set_time", handle=self.handle, now=now)
        return self

    def program(self, *outcomes: dict[str, Any]) -> None:
        self.submission.call("program", handle=self.handle, outcomes=list(outcomes))

    def info(self) -> tuple[int, int, Any, int]:
        answer = self.submission.call("info", handle=self.handle)
        assert answer["is_tuple"], "cache_info() must return a named tuple"
        named = answer["named"]
        return named["hits"], named["misses"], named["maxsize"], named["currsize"]

    def clear(self) -> None:
        self.submission.call("clear", handle=self.handle)


@pytest.fixture
def make_cache(submission: Submission) -> Any:
    def make(ttl: float = 10.0, maxsize: Any = "default", **options: Any) -> Cache:
        made = submission.call("make", ttl=ttl, maxsize=maxsize, **options)
        if "handle" not in made:
            raise AssertionError(f"creating the decorator raised {made['raised']['type']}")
        return Cache(submission, made["handle"])

    return make
