"""A fake sandbox backend for the project's own tests: workers answered by a function.

The backend is cut at the message exchange, as httpx's MockTransport replaces the
network. A fake worker is a socketpair: the trusted side gets one end as the
worker's request and response descriptor (as a docker worker's socket), and a
thread serves the other end with a handler, `handler(request, worker) -> answer`.
So `WorkerProxy` and `graders/protocol.py` run unchanged, on real descriptors with
real deadlines, but no process starts. A handler simulates a failing worker by
raising `Crash` (it dies: the channel closes), `Hang` (it never answers) or by
returning raw bytes (a malformed message). Starts, requests, answers, pauses,
resumes and kills are recorded in `FakeBackend.events`, so a test can check, say,
that the engine froze the other side during every timed call.

It lives in tests/, never in the installed `graders` package: it answers from
inside the trusted process, and DESIGN's first rule is that what decides a grade
never shares a process with submitted code. Code that is not installed cannot be
selected by `--sandbox`. It runs no submitted code either: a submission's source
reaches the handler as data, and `driver` answers with a Python model of it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graders.protocol import HEADER
from graders.sandbox.base import Backend, CandidateOutput, Limits, RunningWorker, describe_exit

Answer = dict[str, Any] | bytes
Handler = Callable[[dict[str, Any], "FakeWorker"], Answer]
EventKind = Literal["start", "request", "answer", "pause", "resume", "kill"]


class Crash(BaseException):
    """Raised by a handler: the worker dies without answering, with this exit code.

    A BaseException, so that `driver` reports it as the worker's death rather than
    as an exception the submission raised.
    """

    def __init__(self, code: int = 1) -> None:
        super().__init__(code)
        self.code = code


class Hang(BaseException):
    """Raised by a handler: the worker never answers; it waits to be killed."""


@dataclass(frozen=True)
class Event:
    """One thing that happened to a fake worker; `request` for requests and answers."""

    worker: FakeWorker
    kind: EventKind
    request: dict[str, Any] | None = None


class FakeWorker(RunningWorker):
    """A worker whose far end is a thread running the backend's handler."""

    def __init__(self, backend: FakeBackend, job: str, number: int) -> None:
        # No process, so RunningWorker's __init__ (which reads a Popen's pipes) is not
        # called: what the proxy uses is set here, and `process` is left unset so any
        # trusted code that reached for it would fail loudly under the fake.
        self.backend = backend
        self.job = job
        self.number = number
        self.state: dict[str, Any] = {}  # the handler's, per worker as a process's would be
        self.requests: list[dict[str, Any]] = []
        self.paused = False
        self.killed = False
        self.exit_code: int | None = None
        self.handler_error: BaseException | None = None
        self._near, self._far = socket.socketpair()
        self.channel = self._near
        self.request_fd = self.response_fd = self._near.fileno()
        output, self._output = os.pipe()
        self.output = CandidateOutput(open(output, "rb"))  # noqa: SIM115 - drained until EOF
        self._state = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name=f"fake-worker-{number}")
        self._thread.start()

    def __repr__(self) -> str:
        return f"<FakeWorker {self.number} job={self.job!r}>"

    # -- what a handler may use -------------------------------------------------

    def print(self, text: str) -> None:
        """Write candidate output, as a submission printing would."""
        os.write(self._output, text.encode())

    # -- RunningWorker ------------------------------------------------------------

    def pause(self) -> None:
        with self._state:
            self.paused = True
        self.backend.record(self, "pause")

    def resume(self) -> None:
        with self._state:
            self.paused = False
            self._state.notify_all()
        self.backend.record(self, "resume")

    def _terminate(self) -> None:
        with self._state:
            self.killed = True
            self._state.notify_all()

    def kill(self) -> None:
        self.backend.record(self, "kill")
        self._terminate()
        self._near.close()  # the serving thread reads EOF, if it is reading
        self._thread.join(5)
        self.output.finish()

    def exit_description(self) -> str:
        self._thread.join(2)
        if self.handler_error is not None:
            error = self.handler_error
            return f"the fake worker's handler raised {type(error).__name__}: {error}"
        if self.exit_code is not None:
            return describe_exit(self.exit_code)
        return "the worker stopped answering"

    # -- the far end ----------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while (request := self._read()) is not None and self._running():
                self.requests.append(request)
                self.backend.record(self, "request", request)
                try:
                    answer = self.backend.handler(request, self)
                except Hang:
                    with self._state:
                        self._state.wait_for(lambda: self.killed)
                    return
                except Crash as crash:
                    self.exit_code = crash.code
                    return
                except BaseException as exc:  # noqa: BLE001 - a bug in the test's handler
                    self.handler_error, self.exit_code = exc, 1
                    return
                if not self._running():  # a frozen worker holds its answer until resumed
                    return
                data = answer if isinstance(answer, bytes) else _frame(answer)
                self.backend.record(self, "answer", request)  # before the trusted side can read it
                self._far.sendall(data)
        except OSError:
            pass  # the trusted side closed its end: the worker was killed
        finally:
            self._far.close()
            os.close(self._output)

    def _running(self) -> bool:
        """Wait while paused; False once killed."""
        with self._state:
            self._state.wait_for(lambda: not self.paused or self.killed)
            return not self.killed

    def _read(self) -> dict[str, Any] | None:
        header = self._read_exactly(HEADER.size)
        if header is None:
            return None
        payload = self._read_exactly(HEADER.unpack(header)[0])
        return None if payload is None else dict(json.loads(payload))

    def _read_exactly(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            chunk = self._far.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data


def _frame(answer: dict[str, Any]) -> bytes:
    """An answer as the worker frames it (see sandbox/worker.py: write_response)."""
    payload = json.dumps(answer, allow_nan=True, separators=(",", ":")).encode()
    return HEADER.pack(len(payload)) + payload


class FakeBackend(Backend):
    """Starts fake workers, each served by `handler`; records what happens to them."""

    name = "fake"
    isolated = False

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.workers: list[FakeWorker] = []
        self.events: list[Event] = []
        self.left_running: list[FakeWorker] = []  # by close()
        self._lock = threading.Lock()

    def start(self, limits: Limits, job: str) -> FakeWorker:
        worker = FakeWorker(self, job, len(self.workers))
        self.workers.append(worker)
        self.record(worker, "start")
        return worker

    def record(self, worker: FakeWorker, kind: EventKind,
               request: dict[str, Any] | None = None) -> None:
        with self._lock:  # serving threads and the trusted side both record
            self.events.append(Event(worker, kind, request))

    def live(self) -> list[FakeWorker]:
        """Workers started and not killed: after a proxy's close(), none of its own."""
        return [worker for worker in self.workers if not worker.killed]

    def close(self) -> None:
        """Kill what is still running, remembering it: a run should have left nothing."""
        self.left_running = self.live()
        for worker in self.left_running:
            worker.kill()


def ok(value: Any = None) -> dict[str, Any]:
    return {"ok": True, "value": value}


def failure(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": {"type": kind, "message": message, **extra}}


def driver(models: Mapping[str, object], calibration_s: float = 0.0) -> Handler:
    """A handler answering as sandbox/worker.py does, with a model in place of each
    submission: `load` picks the model of the source it is sent (a source without one
    is an error of the test, reported as the handler's), and `call` runs the model's
    method of that name; an exception it raises is answered as the submission's.
    `calibrate` takes `calibration_s`."""

    def handle(request: dict[str, Any], worker: FakeWorker) -> Answer:
        op, args = request["op"], request["args"]
        if op == "load":
            if args["source"] not in models:
                raise LookupError(f"no model for the source {args['source'][:60]!r}")
            worker.state["model"] = models[args["source"]]
            return ok()
        if op == "call":
            operation = getattr(worker.state["model"], args["name"])  # missing: the test's bug
            try:
                return ok(operation(**args["kwargs"]))
            except Exception as exc:  # noqa: BLE001 - the modelled submission raised it
                return failure(type(exc).__name__, str(exc))
        if op == "calibrate":
            time.sleep(calibration_s)
            return ok(0)
        if op == "threads":
            return ok(0)
        assert op in ("ping", "prepare"), f"the fake driver does not know op {op!r}"
        return ok()

    return handle


class ProbeModel:
    """The probe challenge's driver (tests/fixtures/challenges/probe) over a modelled
    submission. `work(n)` sleeps n * step_s seconds, so a timed batch costs no CPU;
    `count(n)` reports steps * n steps; a lazy one skips large batches, answering 0."""

    def __init__(self, step_s: float, *, steps: int = 1, lazy: bool = False) -> None:
        self.step_s = step_s
        self.steps = steps
        self.lazy = lazy

    def work(self, n: int, seed: int = 0) -> int:
        if self.lazy and n >= 1000:
            return 0
        time.sleep(n * self.step_s)
        return n

    def count(self, n: int) -> dict[str, Any]:
        return {"counters": {"steps": self.steps * n}}

    def echo(self, value: Any) -> Any:
        return value

    def sleep(self, seconds: float) -> None:
        raise Hang  # the tests ask it only to outlast a deadline
