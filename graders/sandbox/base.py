"""The sandbox interface: start a worker, talk to it, freeze it, kill it.

Like an HTTP client's transports, every backend hides behind this one small
interface. A backend only decides how the worker process is launched and
contained; the worker program and the wire protocol are the same for all.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import IO, Any

from graders.protocol import printable
from graders.result import SandboxInfo

CANDIDATE_OUTPUT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one worker may use. Set per challenge in challenge.toml [limits]."""

    memory_mb: int = 512
    cpus: float = 1.0
    pids: int = 64
    tmpfs_mb: int = 64
    file_size_mb: int = 64
    open_files: int = 256

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class CandidateOutput:
    """Drains what the submission prints, keeping only the first bytes.

    Draining never stops, so a submission that prints gigabytes cannot block on
    a full pipe or grow the harness's memory; it only costs the bytes it wrote.
    The text is shown with control characters replaced (see `printable`).
    """

    def __init__(self, stream: IO[bytes], keep: int = CANDIDATE_OUTPUT_BYTES) -> None:
        self._kept = bytearray()
        self._keep = keep
        self.total_bytes = 0
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[bytes]) -> None:
        while chunk := stream.read1(1 << 16):  # type: ignore[attr-defined]
            self.total_bytes += len(chunk)
            room = self._keep - len(self._kept)
            if room > 0:
                self._kept += chunk[:room]

    def finish(self, timeout: float = 2.0) -> None:
        self._thread.join(timeout)

    @property
    def text(self) -> str:
        return printable(self._kept.decode("utf-8", errors="replace"))

    @property
    def kept_bytes(self) -> int:
        return len(self._kept)


class RunningWorker(ABC):
    """One started worker: its protocol channel, its candidate output, and control.

    The channel is the process's stdin and stdout, or a connected socket when the
    backend made one (see docker.py: it spares every message the engine's relays).
    """

    def __init__(self, process: subprocess.Popen[bytes],
                 channel: socket.socket | None = None) -> None:
        assert process.stdin and process.stdout and process.stderr
        self.process = process
        self.channel = channel
        self.request_fd = process.stdin.fileno() if channel is None else channel.fileno()
        self.response_fd = process.stdout.fileno() if channel is None else channel.fileno()
        self.output = CandidateOutput(process.stderr)

    @abstractmethod
    def pause(self) -> None:
        """Freeze every process of the worker (used while the other side is timed)."""

    @abstractmethod
    def resume(self) -> None: ...

    @abstractmethod
    def _terminate(self) -> None:
        """Kill every process of the worker and release what it holds."""

    def kill(self) -> None:
        self._terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        for pipe in (self.process.stdin, self.process.stdout, self.channel):
            if pipe is not None:
                pipe.close()
        self.output.finish()

    def exit_description(self) -> str:
        """Why the worker is gone, once it is: a sentence for the report."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the worker stopped answering"
        return describe_exit(code)


def describe_exit(code: int) -> str:
    if code in (137, -9):
        return "the worker was killed (exit 137: out of memory or a kill)"
    if code < 0:
        return f"the worker was killed by signal {-code}"
    if code > 128:
        return f"the worker was killed by signal {code - 128}"
    return f"the worker exited with code {code}"


class Backend(ABC):
    """Starts workers for one grading run."""

    name: str
    isolated: bool

    @abstractmethod
    def start(self, limits: Limits, job: str) -> RunningWorker: ...

    def describe(self, limits: Limits) -> SandboxInfo:
        """The result's `sandbox` section."""
        return SandboxInfo(backend=self.name, image=self.image_id, limits=limits.as_dict(),
                           isolated=self.isolated)

    @property
    def image_id(self) -> str | None:
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release anything the backend holds (called once at the end of a run)."""
