"""The process backend: the worker as a local subprocess. NOT an isolation boundary.

Meant for a candidate checking their own code where no Docker engine runs. The
worker gets its own session (so the whole group can be frozen and killed),
resource limits, a scrubbed environment and a private temporary directory, but it
runs as the calling user with the host's filesystem and network. Every result
and report produced with it says so.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from graders.sandbox.base import Backend, Limits, RunningWorker

MB = 1024 * 1024


class ProcessWorker(RunningWorker):
    def __init__(self, process: subprocess.Popen[bytes], home: str) -> None:
        super().__init__(process)
        self.home = home

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def pause(self) -> None:
        self._signal_group(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_group(signal.SIGCONT)

    def _terminate(self) -> None:
        self._signal_group(signal.SIGKILL)
        self._signal_group(signal.SIGCONT)

    def kill(self) -> None:
        super().kill()
        shutil.rmtree(self.home, ignore_errors=True)


def _apply_limits(limits: Limits) -> None:
    """Runs in the child between fork and exec."""
    memory = limits.memory_mb * MB
    for name, value in (
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MB),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ):
        resource.setrlimit(name, (value, value))


class ProcessBackend(Backend):
    name = "process"
    isolated = False

    def __init__(self, repo_root: Path, challenges: Path) -> None:
        self.worker_script = repo_root / "sandbox" / "worker.py"
        self.challenges = challenges

    def start(self, limits: Limits, job: str) -> RunningWorker:
        home = tempfile.mkdtemp(prefix=f"graders-{job}-")
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": home,
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": str(max(1, int(limits.cpus))),
        }
        process = subprocess.Popen(
            [sys.executable, "-I", str(self.worker_script), "--challenges", str(self.challenges)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=home,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: _apply_limits(limits),  # noqa: PLW1509 - no threads at fork time
        )
        return ProcessWorker(process, home)
