"""The process backend: the worker as a local subprocess. NOT an isolation boundary.

Meant for a candidate checking their own code where no Docker engine runs. The
worker gets its own session (so the whole group can be frozen and killed),
resource limits, a scrubbed environment and a private temporary directory, but it
runs as the calling user with the host's filesystem and network. Every result
and report produced with it says so.

A worker's processes may leave its group (setsid) or be orphaned (a double fork).
This process is therefore a child subreaper: orphans are reparented to it instead
of to init, so they can be found. Freezing a worker freezes all its descendants,
and any orphan that left a worker (a child of ours in another session that is no
live worker) is killed whenever a worker is frozen or killed.
"""

from __future__ import annotations

import ctypes
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
PR_SET_CHILD_SUBREAPER = 36
_live_workers: set[int] = set()  # pids of this process's workers that are not yet killed


def _parents() -> dict[int, int]:
    """pid -> parent pid, for every process now visible in /proc (none without /proc)."""
    parents: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return parents
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                parents[int(entry)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (ValueError, IndexError, OSError):
            continue  # not a process, or it has just gone
    return parents


def _descendants(roots: set[int], parents: dict[int, int]) -> set[int]:
    found: set[int] = set()
    frontier = set(roots)
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _escaped(parents: dict[int, int] | None = None) -> set[int]:
    """Processes that left a worker: orphans reparented to us (in another session) and
    theirs, in `parents` (default: the processes now)."""
    parents, session = parents or _parents(), os.getsid(0)
    strays = set()
    for pid, parent in parents.items():
        if parent == os.getpid() and pid not in _live_workers:
            try:
                if os.getsid(pid) != session:  # our own children share our session
                    strays.add(pid)
            except OSError:
                pass
    return strays | _descendants(strays, parents)


def _signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:
            pass


def kill_escaped(rounds: int = 100, parents: dict[int, int] | None = None) -> None:
    """Kill every process that left a worker, a generation per round: the children of
    one that dies are reparented to us, and found by the next round (the first round
    looks in `parents`, if given: a scan of /proc just made)."""
    for _ in range(rounds):
        strays, parents = _escaped(parents), None
        if not strays:
            return
        _signal_all(strays, signal.SIGKILL)
        for pid in strays:
            try:
                os.waitpid(pid, 0)  # reap our own children; others are not ours to wait for
            except ChildProcessError:
                pass


class ProcessWorker(RunningWorker):
    def __init__(self, process: subprocess.Popen[bytes], home: str) -> None:
        super().__init__(process)
        self.home = home
        self._frozen: set[int] = set()  # the descendants the last pause stopped
        _live_workers.add(process.pid)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _signal_tree(self, signum: int, parents: dict[int, int] | None = None) -> set[int]:
        """Signal the worker's group and every descendant, whatever group it moved to;
        return the descendants signalled."""
        self._signal_group(signum)
        tree = _descendants({self.process.pid}, parents or _parents())
        _signal_all(tree, signum)
        return tree

    def pause(self) -> None:
        # One scan of /proc per freeze (~1.5 ms here, more on a busy host, twice a round).
        parents = _parents()
        kill_escaped(parents=parents)  # nothing may run outside the freeze while timing
        self._frozen = self._signal_tree(signal.SIGSTOP, parents)

    def resume(self) -> None:
        # A frozen tree cannot fork: what was stopped is all there is to continue.
        self._signal_group(signal.SIGCONT)
        _signal_all(self._frozen, signal.SIGCONT)
        self._frozen = set()

    def _terminate(self) -> None:
        self._signal_tree(signal.SIGKILL)
        self._signal_group(signal.SIGCONT)
        # An escaped daemon may hold the worker's stderr open: killed now, the drain of
        # candidate output ends at once instead of waiting out its timeout.
        kill_escaped()

    def kill(self) -> None:
        try:
            super().kill()
        finally:
            _live_workers.discard(self.process.pid)
            kill_escaped()  # the worker is gone: what it left is reparented to us
            _remove_tree(self.home)


def _remove_tree(path: str) -> None:
    """Remove a worker's home, however deep the submission nested it."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except RecursionError:
        subprocess.run(["rm", "-rf", "--", path], check=False, capture_output=True)


def _apply_limits(pid: int, limits: Limits) -> None:
    """Set the worker's limits from here, once it runs: no submitted code runs in it before
    its first request, and no preexec_fn runs between fork and exec (unsafe once the
    trusted process has threads: a spare worker starts on one, see proxy.warm_spare)."""
    memory = limits.memory_mb * MB
    for name, value in (
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MB),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ):
        try:
            resource.prlimit(pid, name, (value, value))
        except ProcessLookupError:
            return  # it died already: its first request will say how


class ProcessBackend(Backend):
    name = "process"
    isolated = False

    def __init__(self, repo_root: Path, challenges: Path) -> None:
        self.worker_script = repo_root / "sandbox" / "worker.py"
        self.challenges = challenges
        _become_subreaper()

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
        )
        _apply_limits(process.pid, limits)
        return ProcessWorker(process, home)


def _become_subreaper() -> None:
    """Orphans of our workers are reparented to this process (Linux); idempotent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: orphans go to init and may outlive the run
