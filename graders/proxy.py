"""The worker proxy: the trusted side's handle on one submission in its sandbox.

It starts a worker through a backend, loads the submission, and forwards the
driver operations that tests and measurements ask for, with a deadline on every
call. When the worker times out, dies or breaks the protocol, the proxy kills it
and raises a `WorkerFailure` naming the test status; the next call starts a
fresh worker. Nothing from the worker is trusted beyond its JSON shape, and its
text reaches a report only through `protocol.printable`.
"""

from __future__ import annotations

import time
from typing import Any

from graders import protocol
from graders.result import CandidateOutput
from graders.sandbox import Backend, Limits, RunningWorker
from graders.sandbox.base import CANDIDATE_OUTPUT_BYTES


class WorkerFailure(BaseException):
    """The worker failed (not the submission's answer). The test gets `status`.

    A BaseException, so that hypothesis stops at once instead of shrinking
    against a dead worker, while pytest still records the test.
    """

    status = "error"


class WorkerTimeout(WorkerFailure):
    status = "timeout"


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
    ) -> None:
        self.backend = backend
        self.limits = limits
        self.challenge_id = challenge_id
        self.module = module
        self.source = source
        self.call_timeout_s = call_timeout_s
        self.load_timeout_s = load_timeout_s
        self.job = job
        self._worker: RunningWorker | None = None
        self._finished_outputs: list[tuple[str, int, int]] = []
        self.workers_started = 0

    # -- lifecycle ---------------------------------------------------------

    def load(self) -> None:
        """Import the submission afresh, in a live worker (started if needed)."""
        if self._worker is not None and not self._quiet(self._worker):
            self._discard()  # what it sent unasked belongs to the last test, not this one
        if self._worker is None:
            self._worker = self.backend.start(self.limits, self.job)
            self.workers_started += 1
        answer = self._request("load", {
            "challenge": self.challenge_id, "module": self.module, "source": self.source,
        }, self.load_timeout_s, phase="loading the submission")  # fmt: skip
        if not answer["ok"]:
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

    def close(self) -> None:
        if self._worker is not None:
            self._discard()

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
        if self._worker is None:
            self.load()
        answer = self._request("call", {"name": name, "kwargs": kwargs},
                               timeout or self.call_timeout_s, phase=f"operation {name!r}")
        if answer["ok"]:
            return answer.get("value")
        error = answer["error"]
        kind, message = protocol.printable(error["type"]), protocol.printable(error["message"])
        if kind in ("ProtocolError", "DriverError"):
            self._discard()
            raise ProtocolViolation(f"{kind}: {message}")
        raise SubmissionRaised(kind, message)

    def ping(self) -> float:
        """One empty round trip; returns its duration in seconds."""
        start = time.perf_counter()
        self._request("ping", {}, self.call_timeout_s, phase="ping")
        return time.perf_counter() - start

    def calibrate(self, n: int) -> float:
        start = time.perf_counter()
        self._request("calibrate", {"n": n}, self.call_timeout_s * 10, phase="calibration")
        return time.perf_counter() - start

    def _request(self, op: str, args: dict[str, Any], timeout: float, *, phase: str
                 ) -> dict[str, Any]:
        if self._worker is None:
            self.load()
        worker = self._worker
        assert worker is not None
        deadline = time.monotonic() + timeout
        try:
            protocol.expect_silence(worker.response_fd)
            protocol.write_message(worker.request_fd, {"op": op, "args": args}, deadline)
            return protocol.read_message(worker.response_fd, deadline)
        except protocol.ChannelTimeout:
            self._discard()
            raise WorkerTimeout(f"{phase} did not finish within {timeout:g} s") from None
        except protocol.ChannelClosed:
            reason = worker.exit_description()
            self._discard()
            raise WorkerCrashed(f"{reason} during {phase}") from None
        except protocol.ChannelError as exc:
            self._discard()
            raise ProtocolViolation(f"protocol violation during {phase}: {exc}") from None
        except BaseException:
            # Interrupted mid-call (e.g. a test time limit): the answer is still
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
