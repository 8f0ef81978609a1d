"""The host-wide timing lock (graders/timing_lock.py): performance phases exclude each
other and every grading's correctness work, across processes."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graders import timing_lock
from graders.timing_lock import (
    CORRECTNESS_FD_ENV,
    exclusive_timing,
    hold_for_correctness,
    release_correctness_lock,
    try_correctness_lock,
)

REPO = Path(__file__).resolve().parents[1]

HOLD = """
import sys, time
from pathlib import Path
from graders import timing_lock
with timing_lock.exclusive_timing(Path(sys.argv[1])):
    print("timing", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _timer(lock: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the lock exclusive (a performance phase) for `seconds`."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), str(seconds)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "timing"
    return holder


def _exclusive_now(lock: Path) -> bool:
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


@pytest.fixture(autouse=True)
def _no_hold_of_ours(monkeypatch):
    monkeypatch.delenv(CORRECTNESS_FD_ENV, raising=False)
    yield
    release_correctness_lock()


def test_no_correctness_phase_starts_while_a_performance_phase_runs(tmp_path):
    lock = tmp_path / "perf.lock"
    holder = _timer(lock, 30)
    try:
        assert try_correctness_lock(lock) is None
    finally:
        holder.kill()
        holder.wait()
    fd = try_correctness_lock(lock)
    assert fd is not None
    os.close(fd)


def test_a_performance_phase_waits_for_running_correctness_phases(tmp_path, monkeypatch):
    lock = tmp_path / "perf.lock"
    fd = try_correctness_lock(lock)
    assert fd is not None
    second = try_correctness_lock(lock)  # correctness phases share it
    assert second is not None
    os.close(second)
    assert not _exclusive_now(lock)  # a timer would wait
    monkeypatch.setenv(CORRECTNESS_FD_ENV, str(fd))
    with exclusive_timing(lock) as waited:  # ours is released first
        assert waited < 5
        assert CORRECTNESS_FD_ENV not in os.environ
        assert try_correctness_lock(lock) is None  # and none starts meanwhile


def test_performance_phases_exclude_each_other_across_processes(tmp_path):
    lock = tmp_path / "perf.lock"
    holder = _timer(lock, 30)
    try:
        assert not _exclusive_now(lock)
    finally:
        holder.kill()
        holder.wait()
    with exclusive_timing(lock) as waited:
        assert waited < 5


def test_a_grading_started_alone_waits_for_a_running_performance_phase_then_holds_off_the_next(
        tmp_path):
    lock = tmp_path / "perf.lock"
    holder = _timer(lock, 0.6)
    try:
        waited = hold_for_correctness(lock)
        assert waited >= 0.3, "the correctness phase began while another run was timed"
        assert CORRECTNESS_FD_ENV in os.environ
        assert not _exclusive_now(lock), "a performance phase could start during this one"
    finally:
        holder.kill()
        holder.wait()
    assert hold_for_correctness(lock) == 0.0  # already held: taken once
    release_correctness_lock()
    assert CORRECTNESS_FD_ENV not in os.environ and _exclusive_now(lock)


def test_a_grading_started_by_a_batch_keeps_the_hold_it_was_given(tmp_path, monkeypatch):
    lock = tmp_path / "perf.lock"
    fd = try_correctness_lock(lock)
    assert fd is not None
    monkeypatch.setenv(CORRECTNESS_FD_ENV, str(fd))
    assert hold_for_correctness(lock) == 0.0
    assert os.environ[CORRECTNESS_FD_ENV] == str(fd)


def test_the_default_lock_is_read_when_used(tmp_path, monkeypatch):
    """Tests and tools point every run at another lock by setting LOCK_PATH once."""
    monkeypatch.setattr(timing_lock, "LOCK_PATH", tmp_path / "elsewhere.lock")
    done = threading.Event()

    def timer() -> None:
        with exclusive_timing():
            done.wait(5)

    thread = threading.Thread(target=timer)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while _exclusive_now(tmp_path / "elsewhere.lock") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _exclusive_now(tmp_path / "elsewhere.lock")
    finally:
        done.set()
        thread.join()
