"""The worker proxy: deadlines, crashes, protocol violations, candidate output, and a
fresh worker after each failure.

What the proxy decides on its own (deadlines, a test's time limit, missing operations,
a fresh worker after a failure) is tested on the fake backend (tests/fakes.py), whose
workers a test scripts and observes: the proxy and the protocol run unchanged on real
descriptors. What a real worker does (its exit code, what a submission can reach of
the channel, what it prints, how it is frozen) is tested against one, on each backend.
"""

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
from tests.fakes import Crash, FakeBackend, ProbeModel, driver, failure, ok

PROBE = load_challenge(REPO / "tests" / "fixtures" / "challenges" / "probe")
Q3 = load_challenge("q3_decorator")
REFERENCE = (REPO / "tests" / "fixtures" / "reference" / "probe.py").read_text()
# Sources of submissions the fake answers for, each with a model of its worker.
RAISES = "def work(n):\n    raise KeyError('nope')\n"
DIES = "import os\ndef work(n):\n    os._exit(3)\n"


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


class _Raises(ProbeModel):
    def work(self, n: int, seed: int = 0) -> int:
        raise KeyError("nope")


class _Dies(ProbeModel):
    def work(self, n: int, seed: int = 0) -> int:
        raise Crash(3)


def _fake_proxy(backend: FakeBackend) -> WorkerProxy:
    return make_proxy(backend, PROBE, REFERENCE, "test")


@pytest.fixture
def fake():
    """A proxy of the probe challenge on the fake backend, whose workers answer as the
    reference, RAISES or DIES would; every worker must be killed once it is closed."""
    models = {REFERENCE: ProbeModel(0.0), RAISES: _Raises(0.0), DIES: _Dies(0.0)}
    backend = FakeBackend(driver(models))
    proxy = _fake_proxy(backend)
    yield proxy, backend
    proxy.close()
    assert backend.live() == [], "the proxy left a worker running"


def test_the_fake_backend_is_never_a_sandbox_choice():
    """It answers from inside the trusted process: not shipped, so never selectable."""
    import importlib.util

    from graders.sandbox import CHOICES

    assert CHOICES == ("auto", "docker", "process")
    assert importlib.util.find_spec("graders.sandbox.fake") is None
    assert not any(path.name == "fakes.py" for path in (REPO / "graders").rglob("*.py"))


def _ops(worker) -> list[str]:
    return [r["op"] if r["op"] != "call" else r["args"]["name"] for r in worker.requests]


def test_calls_answer_with_json(fake):
    proxy, backend = fake
    assert proxy.call("echo", value={"a": [1, 2.5, None, True]}) == {"a": [1, 2.5, None, True]}
    assert proxy.call("work", n=5) == 5
    assert proxy.ping() < 1
    (worker,) = backend.workers
    assert worker.requests[1] == {"op": "load", "args": {
        "challenge": "probe", "module": "solution", "source": REFERENCE}}
    assert worker.requests[2] == {"op": "call", "args": {
        "name": "echo", "kwargs": {"value": {"a": [1, 2.5, None, True]}}}}


def test_an_exception_is_the_submissions_not_the_workers(fake):
    proxy, backend = fake
    proxy.source = RAISES
    with pytest.raises(SubmissionRaised) as raised:
        proxy.call("work", n=1)
    assert raised.value.kind == "KeyError"
    assert proxy.workers_started == 1  # the worker survives a raising submission
    assert proxy.alive and backend.live() == backend.workers


def test_timeout_kills_the_worker_and_the_next_call_gets_a_fresh_one(fake):
    proxy, backend = fake
    start = time.monotonic()
    with pytest.raises(WorkerTimeout, match="within 0.1 s"):  # a fake starts at once: short
        proxy.call("sleep", seconds=30, timeout=0.1)
    assert time.monotonic() - start < 5
    assert not proxy.alive
    assert backend.workers[0].killed  # the hung worker is gone, not left behind
    assert proxy.call("echo", value=1) == 1
    assert proxy.workers_started == 2
    assert _ops(backend.workers[1]) == ["ping", "load", "echo"]  # imported afresh


def test_a_worker_that_dies_in_a_call_is_a_crash_and_the_next_call_gets_a_fresh_one(fake):
    proxy, backend = fake
    proxy.source = DIES
    with pytest.raises(WorkerCrashed, match="exited with code 3 during operation 'work'"):
        proxy.call("work", n=1)
    assert not proxy.alive and backend.workers[0].killed
    proxy.source = REFERENCE
    assert proxy.call("work", n=2) == 2
    assert proxy.workers_started == 2


def test_a_spare_worker_is_the_next_one_a_load_needs_and_runs_nothing_before(fake):
    proxy, backend = fake
    proxy.warm_spare()
    proxy.warm_spare()  # one spare at most
    assert proxy.call("echo", value=1) == 1
    (worker,) = backend.workers  # the spare: no second start
    # up, its driver's libraries imported (no submitted code), then what load() does
    assert _ops(worker) == ["ping", "prepare", "ping", "load", "echo"]
    proxy.close()
    assert proxy.call("echo", value=2) == 2  # no spare left: a worker starts as before
    assert len(backend.workers) == 2 and proxy.workers_started == 2


def test_an_unused_spare_is_killed():
    backend = FakeBackend(driver({REFERENCE: ProbeModel(0.0)}))
    proxy = _fake_proxy(backend)
    proxy.warm_spare()
    proxy.close_spare()
    assert len(backend.workers) == 1 and backend.live() == []


def test_a_spare_that_does_not_start_is_replaced_by_a_worker_that_does():
    def handler(request, worker):
        if worker.number == 0:
            raise Crash(1)  # the spare dies before it answers its ping
        return driver({REFERENCE: ProbeModel(0.0)})(request, worker)

    backend = FakeBackend(handler)
    proxy = _fake_proxy(backend)
    proxy.warm_spare()
    assert proxy.call("echo", value=3) == 3
    assert [w.killed for w in backend.workers] == [True, False]
    proxy.close()
    assert backend.live() == []


@pytest.mark.parametrize(("answer", "needle"), [
    (b"\xff\xff\xff\xffgarbage", "byte message; the cap is"),
    ({"ok": "yes"}, "without a boolean 'ok' field"),
    (failure("DriverError", "tampered"), "DriverError: tampered"),
])
def test_a_malformed_or_refused_answer_is_a_protocol_violation(answer, needle):
    def answers(request, worker):
        return answer if request["op"] == "call" else ok()

    backend = FakeBackend(answers)
    proxy = _fake_proxy(backend)
    try:
        with pytest.raises(ProtocolViolation, match=needle):
            proxy.call("work", n=1)
        assert not proxy.alive and backend.workers[0].killed
    finally:
        proxy.close()


def test_unknown_operation_is_the_challenges_fault(fake):
    proxy, backend = fake
    with pytest.raises(MissingOperation, match="no operation '__init__'") as raised:
        proxy.call("__init__")
    assert raised.value.exit_code == 2
    assert proxy.challenge_fault is raised.value
    with pytest.raises(MissingOperation):  # every later request: the run is over
        proxy.call("echo", value=1)
    assert backend.workers == []  # decided on the trusted side: no worker was started


def test_a_missing_operation_is_known_before_any_worker_hears_of_it(fake):
    """The driver's operations are read on the trusted side: no worker's word is needed."""
    proxy, backend = fake
    proxy.load()
    with pytest.raises(MissingOperation, match="challenge 'probe' is broken"):
        proxy.call("no_such_operation")
    assert proxy.workers_started == 1 and proxy.alive  # the live worker never heard of it
    assert _ops(backend.workers[0]) == ["ping", "load"]


def test_a_tests_time_limit_ends_the_call_in_flight_and_every_later_one(fake):
    proxy, backend = fake
    proxy.load()
    proxy.limit_test(0.2)
    start = time.monotonic()
    with pytest.raises(TestTimeout, match="time limit of 0.2 s"):
        proxy.call("sleep", seconds=30, timeout=60)
    assert time.monotonic() - start < 3
    assert not proxy.alive  # the worker busy with the abandoned call is gone
    assert backend.workers[0].killed
    with pytest.raises(TestTimeout):
        proxy.call("echo", value=1)
    assert not proxy.alive and proxy.workers_started == 1  # raised at once, no new worker
    proxy.limit_test(None)
    assert proxy.call("echo", value=1) == 1


def test_a_calls_own_deadline_still_applies_under_a_test_limit(fake):
    proxy, _ = fake
    proxy.limit_test(30)
    with pytest.raises(WorkerTimeout, match="operation 'sleep' did not finish within 0.1 s"):
        proxy.call("sleep", seconds=30, timeout=0.1)


def test_candidate_output_is_gathered_over_every_worker_and_truncated():
    def prints_and_dies(request, worker):
        if request["op"] == "call":
            worker.print("x" * 40_000)
            raise Crash(1)
        return ok()

    backend = FakeBackend(prints_and_dies)
    proxy = _fake_proxy(backend)
    try:
        for _ in range(2):
            with pytest.raises(WorkerCrashed):
                proxy.call("work", n=1)
        output = proxy.candidate_output()
        assert output.total_bytes == 80_000 and output.truncated
        assert output.text == "x" * 64 * 1024
    finally:
        proxy.close()


def test_exit_inside_a_call_is_a_crash(probe):
    probe.source = DIES  # the real worker's exit code reaches the message
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


def test_a_process_worker_runs_under_the_challenges_limits(probe):
    """Set on the worker from the trusted side before its first request (prlimit), not
    between fork and exec: the trusted process has threads (a spare's) when it forks."""
    probe.load()
    pid = probe._worker.process.pid
    limits = {line[:26].strip(): line[26:].split()[:2]
              for line in open(f"/proc/{pid}/limits").read().splitlines()[1:]}
    mb = 1024 * 1024
    assert limits["Max data size"] == [str(PROBE.limits.memory_mb * mb)] * 2
    assert limits["Max file size"] == [str(PROBE.limits.file_size_mb * mb)] * 2
    assert limits["Max open files"] == [str(PROBE.limits.open_files)] * 2
    assert limits["Max core file size"] == ["0", "0"]
