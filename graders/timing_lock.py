"""The host-wide timing lock: no performance phase overlaps another grading's work.

A readers-writer lock on LOCK_PATH. A performance phase holds it exclusive while it
times (a count is not a time, nor is a warm-up: graders/runner.py measures a counter
outside that span, and warms the first timed metric up, under the shared hold); every
grading's correctness phase holds it shared, on a descriptor whose number is in
CORRECTNESS_FD_ENV, and drops it when its first timer begins. So a timer waits for
the correctness work running on this host to end, and no correctness work starts
while a timer runs or waits: the timed side has the CPUs to itself (DESIGN §5),
whether the gradings come from one batch, two candidates' self-checks or the
project's tests run in parallel. A timer holds the turnstile from before it waits
until it is done, and a shared hold is taken only through the turnstile, so waiting
correctness work never starves it.

A batch (graders/batch.py) takes the shared hold for each child before starting it
(`try_correctness_lock`), so it starts no child while a timer waits; a `grade`
process started any other way takes its own (`hold_for_correctness`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_PATH = Path(os.environ.get("GRADERS_LOCK_DIR", tempfile.gettempdir())) / "graders-perf.lock"
CORRECTNESS_FD_ENV = "GRADERS_CORRECTNESS_LOCK_FD"
POLL_S = 0.05


def turnstile_path(path: Path) -> Path:
    return path.with_name(path.name + ".turnstile")


def try_correctness_lock(path: Path | None = None) -> int | None:
    """A descriptor holding the timing lock shared, for a correctness phase about to
    start, or None (at once, never blocking) while a performance phase runs or waits."""
    path = path or LOCK_PATH
    turnstile = os.open(turnstile_path(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    lock = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        fcntl.flock(turnstile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(lock)
        return None
    finally:
        os.close(turnstile)  # closing releases it
    return lock


def hold_for_correctness(path: Path | None = None) -> float:
    """Hold the timing lock shared for this process's correctness phase, unless it
    already does (a batch started it so); returns the seconds spent waiting for a
    performance phase elsewhere to end. `release_correctness_lock` ends the hold."""
    if CORRECTNESS_FD_ENV in os.environ:
        return 0.0
    start = time.perf_counter()
    while (fd := try_correctness_lock(path)) is None:
        time.sleep(POLL_S)
    # os.open's descriptors are not inherited (PEP 446): no worker can keep the hold.
    os.environ[CORRECTNESS_FD_ENV] = str(fd)
    return time.perf_counter() - start


def release_correctness_lock() -> None:
    """End this process's correctness phase: drop its shared hold, if it has one."""
    value = os.environ.pop(CORRECTNESS_FD_ENV, None)
    if value is None:
        return
    try:
        fcntl.flock(int(value), fcntl.LOCK_UN)
        os.close(int(value))
    except (ValueError, OSError):
        pass  # not ours after all: nothing to release


@contextmanager
def exclusive_timing(path: Path | None = None) -> Iterator[float]:
    """Hold the host-wide timing lock; yields the seconds spent waiting for it."""
    path = path or LOCK_PATH
    start = time.perf_counter()
    release_correctness_lock()
    with open(turnstile_path(path), "a") as turnstile, open(path, "a") as handle:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - start
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            fcntl.flock(turnstile, fcntl.LOCK_UN)
