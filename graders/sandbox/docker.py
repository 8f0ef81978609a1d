"""The docker backend: one hardened, throw-away container per worker.

The container is attached with `docker run -i` (the engine's own client gives
clean stdin/stdout/stderr pipes); every other engine operation (ping, pause, kill,
reaping) goes through the docker SDK. The protocol itself goes over a Unix socket
in a private directory mounted into the container (`Channel`): through the attached
pipes each message crossed three relays (the client, the engine, the shim), which
cost about 0.25 ms a message and more after an idle spell (a timed call grew by
1-2 ms); a socket costs what a pipe costs. Where no socket can be offered safely
(not root, so the directory cannot be given to the container's user alone; or an
engine on another machine), the pipes carry it as before.
Containers carry labels naming the harness process that owns them, so a run can
remove what a crashed earlier run left behind without touching a live one's (see
`owner_gone`).
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import IO, Any

import docker
import requests
from docker.errors import DockerException, NotFound

from graders.errors import SandboxUnavailable
from graders.sandbox.base import Backend, Limits, RunningWorker

# What the engine's client raises: its own errors, and requests' when the engine is slow
# to answer (a busy machine) or gone.
ENGINE_ERRORS = (DockerException, requests.RequestException)
LABEL = "graders"
OWNER_LABEL = "graders.owner_pid"  # the owner's pid, as its own PID namespace sees it
OWNER_ID_LABEL = "graders.owner"  # boot id / PID namespace / pid / start time: host-unique
EXPIRES_LABEL = "graders.expires"  # unix time after which no live run still uses it
JOB_LABEL = "graders.job"
# A worker serves one grading run. It kills itself after this long (`timeout` in the
# container), so a container past its expiry belongs to no live run, whoever owns it.
WORKER_LIFETIME_S = 3600
WORKER_COMMAND = ["timeout", "--signal=KILL", str(WORKER_LIFETIME_S),
                  "python3", "-I", "/opt/graders/worker.py",
                  "--challenges", "/opt/graders/challenges"]
CONTAINER_USER = 65534  # nobody: see hardening_flags
CHANNEL_MOUNT = "/opt/graders/channel"
# Seconds a started container has to connect to its channel (a cold start on a busy
# host takes a few); past it, or once the client exits, the pipes are all there is.
CONNECT_WAIT_S = 60.0


def engine_client(timeout: int = 30) -> docker.DockerClient | None:
    """A client for a Docker engine that answers, or None."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except ENGINE_ERRORS:
        return None


def hardening_flags(limits: Limits) -> list[str]:
    """The `docker run` flags of DESIGN §2, in one place so a test can audit them."""
    memory = f"{limits.memory_mb}m"
    return [
        "--network=none",
        "--read-only",
        f"--tmpfs=/tmp:rw,nosuid,nodev,size={limits.tmpfs_mb}m",
        f"--user={CONTAINER_USER}:{CONTAINER_USER}",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        f"--pids-limit={limits.pids}",
        f"--memory={memory}",
        f"--memory-swap={memory}",
        f"--cpus={limits.cpus}",
        f"--ulimit=nofile={limits.open_files}:{limits.open_files}",
        f"--ulimit=fsize={limits.file_size_mb * 1024 * 1024}",
        "--ulimit=core=0",
        "--init",
        "--log-driver=none",  # output reaches us through the attached pipes only, never disk
        "--workdir=/tmp",
        "--env=HOME=/tmp",
        f"--env=OMP_NUM_THREADS={max(1, int(limits.cpus))}",
    ]


# The container's freezer, where the engine keeps it (cgroup v1 with the cgroupfs or
# systemd driver, then v2): (file, value that freezes, value that thaws, file that
# confirms, its line once frozen). `docker pause` writes the same file through two
# API round trips; writing it here costs microseconds, so freezing the side not
# being timed stops costing a measurable share of every round.
_FREEZERS = (
    ("freezer/docker/{id}/freezer.state", "FROZEN", "THAWED", "freezer.state", "FROZEN"),
    ("freezer/system.slice/docker-{id}.scope/freezer.state", "FROZEN", "THAWED",
     "freezer.state", "FROZEN"),
    ("system.slice/docker-{id}.scope/cgroup.freeze", "1", "0", "cgroup.events", "frozen 1"),
    ("docker/{id}/cgroup.freeze", "1", "0", "cgroup.events", "frozen 1"),
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
FREEZE_WAIT_S = 5.0


class Freezer:
    """Freezes and thaws one container through its cgroup freezer file."""

    def __init__(self, container_id: str, root: Path = CGROUP_ROOT) -> None:
        self.control: Path | None = None
        for template, self.on, self.off, confirm, self.frozen_line in _FREEZERS:
            control = root / template.format(id=container_id)
            if control.is_file() and os.access(control, os.W_OK):
                self.control, self.confirm = control, control.parent / confirm
                break

    def set(self, frozen: bool) -> None:
        assert self.control is not None
        self.control.write_text(self.on if frozen else self.off)
        deadline = time.monotonic() + FREEZE_WAIT_S
        while frozen and self.frozen_line not in self.confirm.read_text().split("\n"):
            if time.monotonic() > deadline:  # a task that will not freeze: say so, never time
                raise DockerException(f"the container did not freeze within {FREEZE_WAIT_S} s")
            time.sleep(0.0005)


class Channel:
    """A listening Unix socket in a directory only root and the container's user may
    enter, mounted read-only into one container. It accepts one connection, the
    worker's, before any submitted code runs, and is removed at once."""

    def __init__(self) -> None:
        self.directory = tempfile.mkdtemp(prefix="graders-channel-")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            path = os.path.join(self.directory, "socket")
            self.listener.bind(path)
            self.listener.listen(1)
            for entry in (path, self.directory):
                os.chown(entry, CONTAINER_USER, CONTAINER_USER)
        except OSError:
            self.close()
            raise

    @classmethod
    def offer(cls) -> Channel | None:
        """A channel, where one can be offered safely; else None (the pipes serve)."""
        host = os.environ.get("DOCKER_HOST", "")
        if host and not host.startswith("unix://"):
            return None  # the engine's machine cannot see our directory
        try:
            return cls()
        except OSError:  # not root: the directory cannot be given to the container's user
            return None

    def docker_flags(self) -> list[str]:
        return [f"--mount=type=bind,source={self.directory},target={CHANNEL_MOUNT},readonly"]

    def accept(self, process: subprocess.Popen[bytes]) -> socket.socket | None:
        """The worker's connection; None if the client exits first or it never comes."""
        assert process.stdout is not None
        deadline = time.monotonic() + CONNECT_WAIT_S
        try:
            watched: list[socket.socket | IO[bytes]] = [self.listener, process.stdout]
            while (left := deadline - time.monotonic()) > 0:
                ready = select.select(watched, [], [], left)[0]
                if self.listener in ready:
                    return self.listener.accept()[0]
                if ready:  # the client's stdout: it ended, so did the container
                    return None
            return None
        finally:
            self.close()

    def close(self) -> None:
        self.listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class DockerWorker(RunningWorker):
    def __init__(self, process: subprocess.Popen[bytes], client: docker.DockerClient,
                 name: str, channel: socket.socket | None = None) -> None:
        super().__init__(process, channel)
        self.client = client
        self.name = name
        self._freezer: Freezer | None = None
        self.frozen = False

    def _container(self) -> Any:
        return self.client.containers.get(self.name)

    def _freeze(self, frozen: bool) -> None:
        try:
            if self._freezer is None:
                self._freezer = Freezer(self._container().id)
            if self._freezer.control is not None:
                self._freezer.set(frozen)
            elif frozen:
                self._container().pause()
            else:
                self._container().unpause()
            self.frozen = frozen
        except (*ENGINE_ERRORS, OSError):
            if self._running():
                raise
            # Gone or stopped on its own: nothing runs to freeze; its next call says why.

    def _running(self) -> bool:
        try:
            return bool(self._container().status == "running")
        except ENGINE_ERRORS:
            return False

    def pause(self) -> None:
        self._freeze(True)

    def resume(self) -> None:
        self._freeze(False)

    def _terminate(self) -> None:
        if self.frozen:  # a frozen task cannot die of SIGKILL until it is thawed
            self._freeze(False)
        try:
            self._container().remove(force=True)
        except NotFound:
            pass
        except ENGINE_ERRORS:
            self.process.kill()


class DockerBackend(Backend):
    name = "docker"
    isolated = True

    def __init__(self, client: docker.DockerClient, image: str) -> None:
        self.client = client
        self.image = image
        self._image_id = client.images.get(image).id
        self._serial = itertools.count()
        reap_leftovers(client)

    @property
    def image_id(self) -> str | None:
        return self._image_id

    def start(self, limits: Limits, job: str) -> RunningWorker:
        name = f"graders-{os.getpid()}-{job}-{next(self._serial)}"
        channel = Channel.offer()
        command = [
            "docker", "run", "--interactive", "--rm", f"--name={name}",
            f"--label={LABEL}=1", f"--label={OWNER_LABEL}={os.getpid()}",
            f"--label={OWNER_ID_LABEL}={owner_id()}",
            f"--label={EXPIRES_LABEL}={int(time.time()) + WORKER_LIFETIME_S + 60}",
            f"--label={JOB_LABEL}={job}",
            *hardening_flags(limits), *(channel.docker_flags() if channel else []),
            self.image, *WORKER_COMMAND,
            *(["--socket", f"{CHANNEL_MOUNT}/socket"] if channel else []),
        ]  # fmt: skip
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            if channel:
                channel.close()
            raise SandboxUnavailable(f"Could not run the docker client ({exc}); install Docker "
                                     "or use --sandbox process.") from exc
        # No connection: the container did not start, or its worker could not connect;
        # on the pipes the first exchange then meets the end and says why.
        connection = channel.accept(process) if channel else None
        return DockerWorker(process, self.client, name, connection)

    def close(self) -> None:
        reap_leftovers(self.client, owner=os.getpid())


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()[19].decode()


@cache
def _namespace() -> str:
    """This host's boot id and this process's PID namespace: where a pid means something."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        return "unknown"
    return f"{boot}/{pidns}"


def owner_id(pid: int | None = None) -> str:
    """Names a process uniquely on this host, across PID namespaces and pid reuse."""
    pid = os.getpid() if pid is None else pid
    return f"{_namespace()}/{pid}/{_start_time(pid)}"


def owner_gone(labels: dict[str, str], now: float) -> bool:
    """Whether the harness that started a container is certainly gone.

    In our PID namespace, the owner's pid and start time say it. Elsewhere (another
    container or machine sharing the engine) a pid means nothing here, so only the
    container's expiry does: past it, no live run uses it (its worker killed itself).
    """
    owner = labels.get(OWNER_ID_LABEL, "")
    parts = owner.split("/")  # boot id, PID namespace, pid, start time
    if len(parts) == 4 and "/".join(parts[:2]) == _namespace() and parts[2].isdigit():
        return _start_time(int(parts[2])) is None or owner != owner_id(int(parts[2]))
    try:
        return now > float(labels.get(EXPIRES_LABEL, "0"))
    except ValueError:
        return True


def reap_leftovers(client: docker.DockerClient, owner: int | None = None) -> int:
    """Remove grader containers whose owning harness is gone (or all of `owner`'s)."""
    removed = 0
    try:  # other harnesses remove their containers meanwhile: that is no error
        containers = client.containers.list(all=True, filters={"label": LABEL},
                                            ignore_removed=True)
    except ENGINE_ERRORS:
        return removed
    now = time.time()
    for container in containers:
        labels = container.labels
        mine = owner is not None and labels.get(OWNER_ID_LABEL) == owner_id(owner)
        if mine or (owner is None and owner_gone(labels, now)):
            try:
                freezer = Freezer(container.id)
                if freezer.control is not None:
                    freezer.set(False)  # its owner may have died with it frozen
                container.remove(force=True)
                removed += 1
            except (*ENGINE_ERRORS, OSError):
                pass
    return removed
