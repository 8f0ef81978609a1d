"""The public API for challenge authors writing public and hidden tests.

A test receives the `submission` fixture: a `WorkerProxy` whose submission has
just been imported afresh in its sandbox. `submission.call(op, **kwargs)` runs
one of the challenge driver's operations and returns its JSON answer; if the
submission raised inside the operation, `SubmissionRaised` carries the type.

Mark each test with its category and give it a one-line docstring: that line is
all a candidate sees of a hidden test, together with the message of a failed
`assert cond, "message"` (keep messages free of hidden inputs).

    from graders.testing import core

    @core
    def test_repeated_call_is_served(submission):
        \"\"\"A repeated call within the TTL is served from the cache.\"\"\"
        ...
"""

from __future__ import annotations

import pytest

from graders.proxy import SubmissionRaised, WorkerProxy

core = pytest.mark.category("core")
robustness = pytest.mark.category("robustness")
excellence = pytest.mark.category("excellence")

__all__ = ["core", "robustness", "excellence", "SubmissionRaised", "WorkerProxy"]
