"""Known-bad: load() never returns (it waits for an event nobody sets).

The load budget must stop it, with a message that says so, and every test fails.
"""

from __future__ import annotations

import threading


def load(model_dir: str, work_dir: str):
    threading.Event().wait()  # never set
    raise AssertionError("unreachable")
