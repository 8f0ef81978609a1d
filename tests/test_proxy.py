"""The worker proxy against a real worker, on each backend: deadlines, crashes,
protocol violations, candidate output, and a fresh worker after each failure."""

import time

import pytest

from graders.challenge import load_challenge
from graders.proxy import (
    ImportFailed,
    MissingOperation,
    ProtocolViolation,
    SubmissionRaised,
    TestTimeout,
    WorkerCrashed,
    WorkerProxy,
    WorkerTimeout,
)
from graders.runner import make_proxy
from graders.sandbox import open_backend
from tests.conftest import REPO

PROBE = load_challenge(REPO / "tests" / "fixtures" / "challenges" / "probe")
Q3 = load_challenge("q3_decorator")
REFERENCE = (REPO / "tests" / "fixtures" / "reference" / "probe.py").read_text()


def _proxy(backend_name: str, source: str, challenge=PROBE) -> WorkerProxy:
    backend = open_backend(backend_name, REPO, challenge.root.parent, [])
    return make_proxy(backend, challenge, source, "test")


@pytest.fixture
def probe():
    # The image holds only the repository's drivers, so the probe challenge runs on
    # the process backend; the q3 cases below run on both backends.
    proxy = _proxy("process", REFERENCE)
    yield proxy
    proxy.close()


def test_calls_answer_with_json(probe):
    assert probe.call("echo", value={"a": [1, 2.5, None, True]}) == {"a": [1, 2.5, None, True]}
    assert probe.call("work", n=5) == 5
    assert probe.ping() < 1


def test_an_exception_is_the_submissions_not_the_workers(probe):
    probe.source = "def work(n):\n    raise KeyError('nope')\n"
    with pytest.raises(SubmissionRaised) as raised:
        probe.call("work", n=1)
    assert raised.value.kind == "KeyError"
    assert probe.workers_started == 1  # the worker survives a raising submission


def test_timeout_kills_the_worker_and_the_next_call_gets_a_fresh_one(probe):
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match="within 0.3 s"):
        probe.call("sleep", seconds=30, timeout=0.3)
    assert time.monotonic() - start < 5
    assert not probe.alive
    assert probe.call("echo", value=1) == 1
    assert probe.workers_started == 2


def test_exit_inside_a_call_is_a_crash(probe):
    probe.source = "import os\ndef work(n):\n    os._exit(3)\n"
    with pytest.raises(WorkerCrashed, match="code 3"):
        probe.call("work", n=1)
    probe.source = REFERENCE
    assert probe.call("work", n=2) == 2


def test_sys_exit_inside_a_call_is_reported_not_obeyed(probe):
    probe.source = "import sys\ndef work(n):\n    sys.exit(0)\n"
    with pytest.raises(SubmissionRaised, match="sys.exit"):
        probe.call("work", n=1)


def test_forged_answer_on_the_channel_is_a_protocol_violation(probe):
    # The submission finds the private response descriptor and writes garbage to it.
    probe.source = (
        "import os\n"
        "def work(n):\n"
        "    for fd in range(3, 20):\n"
        "        try:\n"
        "            os.write(fd, b'\\xff\\xff\\xff\\xffgarbage')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return n\n"
    )
    with pytest.raises(ProtocolViolation):
        probe.call("work", n=1)


def test_unknown_operation_is_the_challenges_fault(probe):
    with pytest.raises(MissingOperation, match="no operation '__init__'") as raised:
        probe.call("__init__")
    assert raised.value.exit_code == 2
    assert probe.challenge_fault is raised.value
    with pytest.raises(MissingOperation):  # every later request: the run is over
        probe.call("echo", value=1)


def test_a_missing_operation_is_known_before_any_worker_hears_of_it(backend):
    """The driver's operations are read on the trusted side: no worker's word is needed."""
    proxy = _proxy(backend, REFERENCE_Q3, challenge=Q3)
    try:
        proxy.load()
        with pytest.raises(MissingOperation, match="challenge 'q3_decorator' is broken"):
            proxy.call("no_such_operation")
        assert proxy.workers_started == 1 and proxy.alive  # the live worker never heard of it
    finally:
        proxy.close()


def test_a_tests_time_limit_ends_the_call_in_flight_and_every_later_one(probe):
    probe.load()
    probe.limit_test(0.5)
    start = time.monotonic()
    with pytest.raises(TestTimeout, match="time limit of 0.5 s"):
        probe.call("sleep", seconds=30, timeout=60)
    assert time.monotonic() - start < 3
    assert not probe.alive  # the worker busy with the abandoned call is gone
    with pytest.raises(TestTimeout):
        probe.call("echo", value=1)
    assert not probe.alive and probe.workers_started == 1  # raised at once, no new worker
    probe.limit_test(None)
    assert probe.call("echo", value=1) == 1


def test_a_calls_own_deadline_still_applies_under_a_test_limit(probe):
    probe.limit_test(30)
    with pytest.raises(WorkerTimeout, match="operation 'sleep' did not finish within 0.3 s"):
        probe.call("sleep", seconds=30, timeout=0.3)


@pytest.mark.parametrize(("source", "needle"), [
    ("def work(n) return n\n", "syntax error at line 1"),
    ("import sys\nsys.exit(0)\n", "sys.exit(0) while being imported"),
    ("raise RuntimeError('bad import')\n", "raised RuntimeError: bad import"),
])
def test_import_failures_are_explained(backend, source, needle):
    proxy = _proxy(backend, source, challenge=Q3)
    try:
        with pytest.raises(ImportFailed, match=needle.replace("(", r"\(").replace(")", r"\)")):
            proxy.load()
    finally:
        proxy.close()


def test_exit_at_import_is_a_crash_explained_by_probe(backend):
    proxy = _proxy(backend, "import os\nos._exit(0)\n", challenge=Q3)
    try:
        assert "died while importing" in proxy.probe()
    finally:
        proxy.close()


def test_candidate_output_is_captured_apart_and_truncated(backend):
    proxy = _proxy(backend, REFERENCE_Q3 + "\nprint('hello from the submission')\n", challenge=Q3)
    try:
        proxy.load()
        total, calls = proxy.call("bench_hits", n=10, size=2, seed=1)
        assert type(total) is int and 2 <= calls <= 12
        proxy.close()
        output = proxy.candidate_output()
        assert "hello from the submission" in output.text
        assert output.total_bytes == len(output.text.encode()) and not output.truncated
    finally:
        proxy.close()


def test_pause_freezes_the_worker(backend):
    proxy = _proxy(backend, REFERENCE_Q3, challenge=Q3)
    try:
        proxy.load()
        proxy.pause()
        with pytest.raises(WorkerTimeout):
            proxy.call("bench_hits", n=10, size=2, seed=1, timeout=0.5)
        proxy.resume()
        assert len(proxy.call("bench_hits", n=10, size=2, seed=1)) == 2
    finally:
        proxy.close()


REFERENCE_Q3 = (REPO / "reference" / "q3_decorator.py").read_text()
