"""The docker backend, checked on a live container: hardening, removal, reaping."""

import subprocess
import time
from pathlib import Path

import pytest

from graders.challenge import load_challenge
from graders.proxy import WorkerFailure
from graders.runner import make_proxy
from graders.sandbox import open_backend
from graders.sandbox.docker import (
    CHANNEL_MOUNT,
    EXPIRES_LABEL,
    LABEL,
    OWNER_ID_LABEL,
    WORKER_LIFETIME_S,
    Channel,
    DockerBackend,
    engine_client,
    owner_id,
)
from graders.sandbox.image import image_tag
from tests.conftest import REPO, grader_containers, run_grade

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_ready")]
Q3 = load_challenge("q3_decorator")
MB = 1024 * 1024


@pytest.fixture
def live_worker(monkeypatch):
    monkeypatch.setenv("GRADERS_TEST_SECRET", "do-not-leak")
    backend = open_backend("docker", REPO, Q3.root.parent, [])
    proxy = make_proxy(backend, Q3, (REPO / "reference" / "q3_decorator.py").read_text(), "audit")
    proxy.load()
    container = engine_client().containers.get(proxy._worker.name)
    yield proxy, container
    proxy.close()
    backend.close()


def test_container_is_hardened(live_worker):
    _, container = live_worker
    host = container.attrs["HostConfig"]
    config = container.attrs["Config"]
    limits = Q3.limits
    assert host["NetworkMode"] == "none"
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["PidsLimit"] == limits.pids
    assert host["Memory"] == host["MemorySwap"] == limits.memory_mb * MB
    assert host["NanoCpus"] == int(limits.cpus * 1e9)
    assert host["Init"] is True
    assert "/tmp" in host["Tmpfs"] and f"size={limits.tmpfs_mb}m" in host["Tmpfs"]["/tmp"]
    ulimits = {u["Name"]: u["Soft"] for u in host["Ulimits"]}
    assert ulimits["nofile"] == limits.open_files and ulimits["core"] == 0
    assert ulimits["fsize"] == limits.file_size_mb * MB
    assert config["User"] == "65534:65534"
    assert config["Labels"][LABEL] == "1" and config["Labels"][OWNER_ID_LABEL] == owner_id()
    assert int(config["Labels"][EXPIRES_LABEL]) > time.time()
    assert config["Cmd"][:3] == ["timeout", "--signal=KILL", str(WORKER_LIFETIME_S)]
    assert not any("GRADERS_TEST_SECRET" in env for env in config["Env"])


def test_container_is_removed_after_kill(live_worker):
    proxy, container = live_worker
    proxy.close()
    assert container.id[:12] not in grader_containers()


def _leftover(client, **labels):
    return client.containers.create(image_tag(REPO), ["sleep", "600"],
                                    labels={LABEL: "1", **labels})


def test_leftovers_of_a_dead_harness_are_reaped():
    client = engine_client()
    dead = subprocess.Popen(["true"])
    owner = owner_id(dead.pid)  # taken while it lives, as the backend does
    dead.wait()
    leftover = _leftover(client, **{OWNER_ID_LABEL: owner, EXPIRES_LABEL: "9999999999"})
    assert leftover.id[:12] in grader_containers()
    DockerBackend(client, image_tag(REPO))
    assert leftover.id[:12] not in grader_containers()


def test_a_live_run_in_another_pid_namespace_keeps_its_containers():
    """Its pid means nothing here: only its expiry may free its containers."""
    client = engine_client()
    other = "9d25f677-0000-0000-0000-000000000000/4026531999/1/12345"
    live = _leftover(client, **{OWNER_ID_LABEL: other,
                                EXPIRES_LABEL: str(int(time.time()) + 600)})
    expired = _leftover(client, **{OWNER_ID_LABEL: other,
                                   EXPIRES_LABEL: str(int(time.time()) - 1)})
    try:
        DockerBackend(client, image_tag(REPO))
        assert live.id[:12] in grader_containers()
        assert expired.id[:12] not in grader_containers()
    finally:
        live.remove(force=True)


def test_image_is_rebuilt_only_when_inputs_change():
    start = time.monotonic()
    run = run_grade("sandbox", "build")
    assert run.exit_code == 0
    assert "already built" in run.stdout
    assert time.monotonic() - start < 30
    image_id = run.stdout.strip().splitlines()[-1]
    assert image_id == engine_client().images.get(image_tag(REPO)).id


def test_image_holds_no_tests_references_or_pytest():
    script = (
        "import importlib.util, os\n"
        "print(importlib.util.find_spec('pytest') is None, importlib.util.find_spec('hypothesis') is None)\n"  # noqa: E501
        "names = [f for _, _, fs in os.walk('/opt/graders') for f in fs]\n"
        "print(sorted(names))\n"
    )
    done = subprocess.run(["docker", "run", "--rm", "--network=none", image_tag(REPO),
                           "python3", "-c", script], capture_output=True, text=True, check=True)
    absent, files = done.stdout.splitlines()
    assert absent == "True True"
    assert all(name in ("worker.py", "driverkit.py", "driver.py") for name in eval(files))  # noqa: S307


def test_docker_grading_leaves_nothing_behind(tmp_path):
    run = run_grade(Q3.root, REPO / "reference" / "q3_decorator.py", "--sandbox", "docker",
                    json_path=tmp_path / "r.json")
    assert run.exit_code == 0
    assert run.result["sandbox"]["image"].startswith("sha256:")
    assert grader_containers(owner=run.pid) == []


def test_freezing_goes_through_the_cgroup_freezer(live_worker):
    """No engine round trip per freeze; a frozen container is still removed on close."""
    proxy, container = live_worker
    worker = proxy._worker
    proxy.pause()
    freezer = worker._freezer
    assert freezer is not None and freezer.control is not None, "no cgroup freezer found"
    assert freezer.frozen_line in freezer.confirm.read_text()
    proxy.resume()
    assert freezer.frozen_line not in freezer.confirm.read_text()
    proxy.pause()
    proxy.close()  # killed while frozen: thawed first, so it dies and is removed
    assert container.id[:12] not in grader_containers()


def test_the_protocol_goes_over_a_socket_mounted_for_the_container_alone(live_worker):
    """No engine relay per message: the channel is a Unix socket whose directory only
    the container's user may enter, removed once the worker has connected."""
    proxy, container = live_worker
    worker = proxy._worker
    assert worker.channel is not None, "the protocol went through the attached pipes"
    assert worker.request_fd == worker.response_fd == worker.channel.fileno()
    mounts = container.attrs["Mounts"]
    assert [(m["Destination"], m["RW"]) for m in mounts] == [(CHANNEL_MOUNT, False)]
    assert not Path(mounts[0]["Source"]).exists(), "the socket outlived the connection"
    assert proxy.ping() < 0.05  # a relayed message costs about 0.25 ms, a socket 0.03 ms


def test_without_a_local_engine_the_pipes_carry_the_protocol(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://engine.example:2375")
    assert Channel.offer() is None


def test_a_worker_that_never_connects_fails_at_its_first_exchange(monkeypatch):
    """The container ends before connecting: its client's exit ends the wait, at once."""
    monkeypatch.setattr(Channel, "docker_flags", lambda self: [])  # nothing to connect to
    backend = open_backend("docker", REPO, Q3.root.parent, [])
    start = time.monotonic()
    proxy = make_proxy(backend, Q3, (REPO / "reference" / "q3_decorator.py").read_text(), "x")
    try:
        with pytest.raises(WorkerFailure):
            proxy.load()
        assert time.monotonic() - start < 20
        assert proxy._worker is None or proxy._worker.channel is None
    finally:
        proxy.close()
        backend.close()
