"""The docker backend: one hardened, throw-away container per worker.

The container is attached with `docker run -i` (the engine's own client gives
clean stdin/stdout/stderr pipes, which is all the worker protocol needs); every
other engine operation (ping, pause, kill, reaping) goes through the docker SDK.
Containers carry labels naming the harness process that owns them, so a run can
remove what a crashed earlier run left behind without touching a live one's.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from typing import Any

import docker
import requests
from docker.errors import DockerException, NotFound

from graders.errors import SandboxUnavailable
from graders.sandbox.base import Backend, Limits, RunningWorker

LABEL = "graders"
OWNER_LABEL = "graders.owner_pid"
JOB_LABEL = "graders.job"
WORKER_COMMAND = ["python3", "-I", "/opt/graders/worker.py",
                  "--challenges", "/opt/graders/challenges"]


def engine_client(timeout: int = 5) -> docker.DockerClient | None:
    """A client for a Docker engine that answers, or None."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except (DockerException, requests.RequestException):
        return None


def hardening_flags(limits: Limits) -> list[str]:
    """The `docker run` flags of DESIGN §2, in one place so a test can audit them."""
    memory = f"{limits.memory_mb}m"
    return [
        "--network=none",
        "--read-only",
        f"--tmpfs=/tmp:rw,nosuid,nodev,size={limits.tmpfs_mb}m",
        "--user=65534:65534",
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


class DockerWorker(RunningWorker):
    def __init__(self, process: subprocess.Popen[bytes], client: docker.DockerClient,
                 name: str) -> None:
        super().__init__(process)
        self.client = client
        self.name = name

    def _container(self) -> Any:
        return self.client.containers.get(self.name)

    def _freeze(self, frozen: bool) -> None:
        try:
            container = self._container()
            if frozen:
                container.pause()
            else:
                container.unpause()
        except DockerException:
            if self._running():
                raise
            # Gone or stopped on its own: nothing runs to freeze; its next call says why.

    def _running(self) -> bool:
        try:
            return bool(self._container().status == "running")
        except DockerException:
            return False

    def pause(self) -> None:
        self._freeze(True)

    def resume(self) -> None:
        self._freeze(False)

    def _terminate(self) -> None:
        try:
            self._container().remove(force=True)
        except NotFound:
            pass
        except DockerException:
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
        command = [
            "docker", "run", "--interactive", "--rm", f"--name={name}",
            f"--label={LABEL}=1", f"--label={OWNER_LABEL}={os.getpid()}",
            f"--label={JOB_LABEL}={job}",
            *hardening_flags(limits), self.image, *WORKER_COMMAND,
        ]  # fmt: skip
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            raise SandboxUnavailable(f"Could not run the docker client ({exc}); install Docker "
                                     "or use --sandbox process.") from exc
        return DockerWorker(process, self.client, name)

    def close(self) -> None:
        reap_leftovers(self.client, owner=os.getpid())


def _owner_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers(client: docker.DockerClient, owner: int | None = None) -> int:
    """Remove grader containers whose owning harness has exited (or all of `owner`'s)."""
    removed = 0
    try:  # other harnesses remove their containers meanwhile: that is no error
        containers = client.containers.list(all=True, filters={"label": LABEL},
                                            ignore_removed=True)
    except DockerException:
        return removed
    for container in containers:
        pid = container.labels.get(OWNER_LABEL, "")
        if (owner is not None and pid == str(owner)) or (owner is None and not _owner_alive(pid)):
            try:
                container.remove(force=True)
                removed += 1
            except DockerException:
                pass
    return removed
