"""The worker proxy: the trusted side's handle on one submission in its sandbox.

It starts a worker through a backend, loads the submission, and forwards the
driver operations that tests and measurements ask for, with a deadline on every
call. When the worker times out, dies or breaks the protocol, the proxy kills it
and raises a `WorkerFailure` naming the test status; the next call starts a
fresh worker. Nothing from the worker is trusted beyond its JSON shape, and its
text reaches a report only through `protocol.printable`.

A test's time limit is enforced here too, from outside the test (`limit_test`):
once it has passed, the call in flight is abandoned, its worker killed, and
every further call raises `WorkerTimeout` at once.

A test that asks for an operation the driver lacks ends the run with a
`ChallengeError` before any worker hears of it: the driver's operations are read
on the trusted side (`challenge.driver_operations`), so a worker's claim about
them is never needed, and one that contradicts them is a protocol violation. A
worker's claim that the driver does not import ends the run the same way, but
only once a fresh worker, in which no submitted code ever ran, repeats it: a
submission cannot blame the challenge by forging the claim.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

from graders import protocol
from graders.errors import ChallengeError
from graders.result import CandidateOutput, TestStatus
from graders.sandbox import Backend, Limits, RunningWorker
from graders.sandbox.base import CANDIDATE_OUTPUT_BYTES


class WorkerFailure(BaseException):
    """The worker failed (not the submission's answer). The test gets `status`.

    A BaseException, so that hypothesis stops at once instead of shrinking
    against a dead worker, while pytest still records the test.
    """

    status: TestStatus = "error"


class WorkerTimeout(WorkerFailure):
    status = "timeout"


class TestTimeout(WorkerTimeout):
    """The test's own time limit passed (not one call's deadline)."""

    __test__ = False  # not a pytest test class


class WorkerCrashed(WorkerFailure):
    status = "crashed"


class ProtocolViolation(WorkerFailure):
    status = "error"


class SubmissionRaised(Exception):
    """An operation raised inside the worker: the submission misbehaved."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class ImportFailed(Exception):
    """The submission cannot be imported, so no test can be graded."""


class MissingOperation(ChallengeError):
    """A test (or a metric) asked for an operation that the challenge's driver lacks."""

    def __init__(self, challenge_id: str, detail: str) -> None:
        super().__init__(detail)
        self.challenge_id = challenge_id
        self.detail = detail
        self.caller = "a test or a performance metric"  # the runner names the test it knows

    def __reduce__(self) -> tuple[type, tuple[str, str], dict[str, str]]:
        # Raised in a grading's own interpreter (`grade validate --jobs`), read in another.
        return type(self), (self.challenge_id, self.detail), {"caller": self.caller}

    def __str__(self) -> str:
        return (f"challenge {self.challenge_id!r} is broken: {self.caller} called an operation "
                f"its driver lacks ({self.detail}); fix the test or add the operation to "
                "driver.py.")


# Loaded in place of the submission to put a claim to a fresh worker: a module whose
# every attribute is a do-nothing function.
_STAND_IN = "def __getattr__(name):\n    return lambda *args, **kwargs: None\n"


class WorkerProxy:
    def __init__(
        self,
        backend: Backend,
        limits: Limits,
        *,
        challenge_id: str,
        module: str,
        source: str,
        call_timeout_s: float,
        load_timeout_s: float,
        job: str,
        operations: frozenset[str] | None = None,
    ) -> None:
        self.backend = backend
        self.limits = limits
        self.challenge_id = challenge_id
        self.module = module
        self.source = source
        self.call_timeout_s = call_timeout_s
        self.load_timeout_s = load_timeout_s
        self.job = job
        self.operations = operations  # the driver's, read on the trusted side; None: unknown
        self._worker: RunningWorker | None = None
        self._spare: Future[RunningWorker] | None = None
        self._finished_outputs: list[tuple[str, int, int]] = []
        self.workers_started = 0
        # Seconds spent starting workers and importing the submission, over every worker
        # so far: the runner reports the first of each as a phase (result.Phase).
        self.start_s = 0.0
        self.import_s = 0.0
        self._test_deadline: float | None = None
        self._test_limit_s = 0.0
        self._test_limit_why: str | None = None
        # Once a fresh worker confirms the challenge is broken, every request raises this.
        self.challenge_fault: ChallengeError | None = None

    # -- lifecycle ---------------------------------------------------------

    def load(self) -> None:
        """Import the submission afresh, in a live worker (started if needed)."""
        self._check_limits()
        if self._worker is not None and not self._quiet(self._worker):
            self._discard()  # what it sent unasked belongs to the last test, not this one
        if self._worker is None:
            started = time.perf_counter()
            self._worker = self._take_spare() or self.backend.start(self.limits, self.job)
            self.workers_started += 1
            # start() returns before the worker is up; its answer to a ping (which runs no
            # submitted code) is where starting ends and importing begins.
            self._request("ping", {}, self.load_timeout_s, phase="starting the worker")
            self.start_s += time.perf_counter() - started
        importing = time.perf_counter()
        try:
            answer = self._request("load", {
                "challenge": self.challenge_id, "module": self.module, "source": self.source,
            }, self.load_timeout_s, phase="loading the submission")  # fmt: skip
        finally:
            self.import_s += time.perf_counter() - importing
        if not answer["ok"]:
            if answer["error"].get("phase") == "driver":
                raise self._driver_fault()
            raise ImportFailed(describe_import_error(answer["error"]))

    def probe(self) -> str | None:
        """Load once; the reason the submission does not import, or None."""
        try:
            self.load()
        except ImportFailed as exc:
            return str(exc)
        except WorkerTimeout:
            return f"importing the submission took longer than {self.load_timeout_s:g} s"
        except WorkerFailure as exc:
            return f"the worker died while importing the submission: {exc}"
        return None

    def warm_spare(self) -> None:
        """Start a worker in the background, to be the next one a load needs: its start
        (a container, an interpreter) then overlaps other work. No submitted code runs in
        it until a load takes it, and it runs no request before but a ping; close_spare()
        kills it unused."""
        if self._spare is not None:
            return
        spare: Future[RunningWorker] = Future()

        def start() -> None:
            try:
                spare.set_result(self._start_up())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the spare
                spare.set_exception(exc)

        self._spare = spare
        threading.Thread(target=start, name="spare-worker", daemon=True).start()

    def _start_up(self) -> RunningWorker:
        worker = self.backend.start(self.limits, self.job)
        try:  # up and answering, as load() would find it
            answer = self._exchange(worker, "ping", {}, time.monotonic() + self.load_timeout_s)
            if not answer.get("ok"):
                raise protocol.ChannelError("a spare worker did not answer its ping")
            # The driver's libraries (q7's torch: ~2 s) import while the spare waits, not
            # when a load takes it: in the performance phase's workers, that was time with
            # the timing lock held. A driver that fails here is met, and named, by the load.
            self._exchange(worker, "prepare", {"challenge": self.challenge_id},
                           time.monotonic() + self.load_timeout_s)
        except BaseException:
            worker.kill()
            raise
        return worker

    def _take_spare(self) -> RunningWorker | None:
        """The spare worker, once up; None if there is none or it failed to start (the
        caller then starts one as if there had been no spare)."""
        spare, self._spare = self._spare, None
        if spare is None:
            return None
        try:
            return spare.result()
        except Exception:  # noqa: BLE001 - a normal start will meet the cause and name it
            return None

    def close(self) -> None:
        if self._worker is not None:
            self._discard()

    def close_spare(self) -> None:
        spare = self._take_spare()
        if spare is not None:
            spare.kill()

    def _discard(self) -> None:
        assert self._worker is not None
        worker, self._worker = self._worker, None
        worker.kill()
        self._finished_outputs.append((worker.output.text, worker.output.total_bytes,
                                       worker.output.kept_bytes))

    @staticmethod
    def _quiet(worker: RunningWorker) -> bool:
        try:
            protocol.expect_silence(worker.response_fd)
        except (protocol.ChannelError, protocol.ChannelClosed):
            return False
        return True

    @property
    def alive(self) -> bool:
        return self._worker is not None

    # -- calls ---------------------------------------------------------------

    def call(self, name: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run driver operation `name` in the worker and return its JSON answer."""
        if self.operations is not None and name not in self.operations:
            known = ", ".join(sorted(self.operations))
            self.challenge_fault = MissingOperation(
                self.challenge_id, f"no operation {name!r}; its operations are {known}")
            raise self.challenge_fault
        if self._worker is None:
            self.load()
        answer = self._request("call", {"name": name, "kwargs": kwargs},
                               timeout or self.call_timeout_s, phase=f"operation {name!r}")
        if answer["ok"]:
            return answer.get("value")
        error = answer["error"]
        kind, message = protocol.printable(error["type"]), protocol.printable(error["message"])
        if kind in ("ProtocolError", "DriverError", "UnknownOperation"):
            self._discard()
            raise ProtocolViolation(f"{kind}: {message}")
        raise SubmissionRaised(kind, message)

    def stray_threads(self) -> int:
        """How many threads the live worker runs besides its main one (0 without a worker).

        The worker's word, trusted only to be a count: a submission that lies about
        its own threads can only keep them spinning in its own later tests.
        """
        if self._worker is None:
            return 0
        count = self._request("threads", {}, self.call_timeout_s, phase="a thread count")
        value = count.get("value")
        if not count.get("ok") or type(value) is not int:
            self._discard()
            raise ProtocolViolation("protocol violation: the thread count is not an integer")
        return value

    def ping(self) -> float:
        """One empty round trip; returns its duration in seconds."""
        start = time.perf_counter()
        self._request("ping", {}, self.call_timeout_s, phase="ping")
        return time.perf_counter() - start

    def calibrate(self, n: int) -> float:
        start = time.perf_counter()
        self._request("calibrate", {"n": n}, self.call_timeout_s * 10, phase="calibration")
        return time.perf_counter() - start

    # -- a test's time limit --------------------------------------------------

    def limit_test(self, seconds: float | None, why: str | None = None) -> None:
        """Bound every request from now on by a test's time limit; None lifts the limit.
        `why` replaces the timeout's message (the run's budget, say, not the test's)."""
        self._test_limit_s = seconds or 0.0
        self._test_limit_why = why
        self._test_deadline = None if seconds is None else time.monotonic() + seconds

    def _check_limits(self) -> None:
        """Raise at once, with no worker, if the challenge is broken or the test's time is up."""
        if self.challenge_fault is not None:
            raise self.challenge_fault
        if self._test_deadline is not None and time.monotonic() >= self._test_deadline:
            self.close()
            raise self._test_timeout()

    def _test_timeout(self) -> TestTimeout:
        return TestTimeout(self._test_limit_why or
                           f"the test did not finish within its time limit of "
                           f"{self._test_limit_s:g} s")

    # -- a broken challenge ----------------------------------------------------

    def _driver_fault(self) -> ChallengeError | ProtocolViolation:
        """What to raise for a worker's claim that the challenge's driver does not import.

        Submitted code may have run in the claiming worker, so it is discarded and the
        claim put to a fresh worker that runs none: repeated there, it is the challenge's
        fault (remembered: every later request raises it); refuted, a protocol violation.
        """
        self._discard()
        confirmed = self._confirm()
        if confirmed is None:
            return ProtocolViolation("the worker claimed that the challenge's driver does not "
                                     "import, and a fresh worker did not confirm it")
        kind, message = protocol.printable(confirmed["type"]), protocol.printable(
            confirmed["message"])
        line = confirmed.get("line")
        where = f" at line {line}" if type(line) is int else ""
        first = message.strip().splitlines()[0] if message.strip() else ""
        self.challenge_fault = ChallengeError(
            f"challenge {self.challenge_id!r} is broken: its driver.py does not import "
            f"({kind}{where}: {first}); fix the challenge's driver.py.")
        return self.challenge_fault

    def _confirm(self) -> dict[str, Any] | None:
        """The driver's import error as a fresh worker, loaded with a stand-in, answers it."""
        worker = self.backend.start(self.limits, self.job)
        try:
            load = {"challenge": self.challenge_id, "module": self.module, "source": _STAND_IN}
            answer = self._exchange(worker, "load", load, time.monotonic() + self.load_timeout_s)
            error: dict[str, Any] = answer.get("error") or {}
            return error if not answer["ok"] and error.get("phase") == "driver" else None
        except (protocol.ChannelError, protocol.ChannelTimeout, protocol.ChannelClosed):
            return None
        finally:
            worker.kill()  # what a stand-in printed is no candidate's output

    @staticmethod
    def _exchange(worker: RunningWorker, op: str, args: dict[str, Any], deadline: float
                  ) -> dict[str, Any]:
        protocol.expect_silence(worker.response_fd)
        protocol.write_message(worker.request_fd, {"op": op, "args": args}, deadline)
        return protocol.read_message(worker.response_fd, deadline)

    # -- requests ----------------------------------------------------------------

    def _request(self, op: str, args: dict[str, Any], timeout: float, *, phase: str
                 ) -> dict[str, Any]:
        self._check_limits()
        if self._worker is None:
            self.load()
        worker = self._worker
        assert worker is not None
        deadline = time.monotonic() + timeout
        test_limited = self._test_deadline is not None and self._test_deadline < deadline
        if self._test_deadline is not None and test_limited:
            deadline = self._test_deadline
        try:
            return self._exchange(worker, op, args, deadline)
        except protocol.ChannelTimeout:
            self._discard()
            if test_limited:
                raise self._test_timeout() from None
            raise WorkerTimeout(f"{phase} did not finish within {timeout:g} s") from None
        except protocol.ChannelClosed:
            reason = worker.exit_description()
            self._discard()
            raise WorkerCrashed(f"{reason} during {phase}") from None
        except protocol.ChannelError as exc:
            self._discard()
            raise ProtocolViolation(f"protocol violation during {phase}: {exc}") from None
        except BaseException:
            # Interrupted mid-call (e.g. KeyboardInterrupt): the answer is still
            # owed, so this worker can no longer be trusted to be in step.
            self._discard()
            raise

    # -- freezing, for exclusive timing ------------------------------------

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()

    def resume(self) -> None:
        if self._worker is not None:
            self._worker.resume()

    # -- candidate output ----------------------------------------------------

    def candidate_output(self) -> CandidateOutput:
        """What the submission printed, over every worker so far: the first 64 KiB."""
        parts = list(self._finished_outputs)
        if self._worker is not None:
            parts.append((self._worker.output.text, self._worker.output.total_bytes,
                          self._worker.output.kept_bytes))
        text = "".join(text for text, _, _ in parts)
        total = sum(size for _, size, _ in parts)
        truncated = total > sum(kept for _, _, kept in parts) or len(text) > CANDIDATE_OUTPUT_BYTES
        return CandidateOutput(text=text[:CANDIDATE_OUTPUT_BYTES], truncated=truncated,
                               total_bytes=total)


def describe_import_error(error: dict[str, Any]) -> str:
    kind, message = protocol.printable(error["type"]), protocol.printable(error["message"])
    if kind == "SyntaxError":
        line = error.get("line")
        where = f" at line {line}" if isinstance(line, int) else ""
        return f"the submission has a syntax error{where}: {message}"
    if kind == "SystemExit":
        return f"{message} while being imported"
    return f"importing the submission raised {kind}: {message}"
