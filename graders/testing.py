"""The public API for challenge authors writing public and hidden tests.

A test receives the `submission` fixture: a `Submission`, freshly imported in its
sandbox for this test. `submission.call(op, **kwargs)` runs one of the challenge
driver's operations and returns its JSON answer; if the submission raised inside
the operation, `SubmissionRaised` carries the type. Deadlines, crashes and fresh
workers are the harness's business, not the test's: a call that times out or
kills its worker ends the test with that status.

Mark each test with its category and give it a one-line docstring: that line is
all a candidate sees of a hidden test, together with the message of a failed
`assert cond, "message"` (keep messages free of hidden inputs).

    from graders.testing import Submission, core

    @core
    def test_repeated_call_is_served(submission: Submission):
        \"\"\"A repeated call within the TTL is served from the cache.\"\"\"
        ...
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from graders.proxy import SubmissionRaised

if TYPE_CHECKING:  # the proxy's lifecycle is the harness's, not a test's
    from graders.proxy import WorkerProxy

core = pytest.mark.category("core")
robustness = pytest.mark.category("robustness")
excellence = pytest.mark.category("excellence")


class Submission:
    """The submission under test, as a test sees it: the driver's operations, nothing more."""

    __slots__ = ("_proxy",)

    def __init__(self, proxy: WorkerProxy) -> None:
        self._proxy = proxy

    def call(self, name: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run driver operation `name` with JSON `kwargs`; its JSON answer.

        Raises `SubmissionRaised` if the submission raised inside the operation.
        `timeout` (seconds) replaces the challenge's per-call deadline for this call.
        """
        return self._proxy.call(name, timeout=timeout, **kwargs)

    def __repr__(self) -> str:
        return f"<Submission of challenge {self._proxy.challenge_id!r}>"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_driver(conftest: str) -> ModuleType:
    """The challenge's driver.py (next to `conftest`, a conftest's `__file__`), loaded here
    on the trusted side so tests can use its seeded generators: what the worker builds
    from a seed, the oracle rebuilds without megabytes crossing the channel. The driver
    kit it imports is lent as `driverkit` while it loads. Never the submission."""
    here = Path(conftest).resolve().parent
    saved = sys.modules.get("driverkit")
    sys.modules["driverkit"] = _load("driverkit", here.parent.parent / "sandbox" / "driverkit.py")
    try:
        return _load(f"{here.name}_driver", here / "driver.py")
    finally:
        if saved is None:
            del sys.modules["driverkit"]
        else:
            sys.modules["driverkit"] = saved


__all__ = ["core", "robustness", "excellence", "Submission", "SubmissionRaised", "load_driver"]
