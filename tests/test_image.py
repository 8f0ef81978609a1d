"""The sandbox image build: failures reported as themselves, old images removed."""

import os
import subprocess

import pytest

from graders.errors import SandboxUnavailable
from graders.sandbox import image


def test_a_failed_docker_import_is_reported_as_itself(tmp_path, monkeypatch):
    """tar dies of a broken pipe when the import fails; the import's failure is the news."""
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "blob").write_bytes(os.urandom(4 * 1024 * 1024))  # more than a pipe holds
    log_path = tmp_path / "build.log"
    lines: list[str] = []
    with log_path.open("w") as out:
        steps = image._Steps(out, log_path, lines.append)

        def failing_import(what, argv, **kwargs):
            raise steps.fail(f"{what} failed (exit status 1)")

        monkeypatch.setattr(steps, "run", failing_import)
        with pytest.raises(SandboxUnavailable) as raised:
            image._docker_import(root, steps)
    assert "docker import" in str(raised.value)
    assert "tar" not in str(raised.value)


@pytest.mark.docker
@pytest.mark.usefixtures("docker_ready")
def test_a_rebuild_removes_old_sandbox_images(tmp_path, monkeypatch):
    from graders.sandbox.docker import engine_client

    # Images of a repository and label of this test's own: the engine's real sandbox
    # images, which another checkout may be grading with, are never touched.
    monkeypatch.setattr(image, "IMAGE_REPOSITORY", "graders-test-sandbox")
    monkeypatch.setattr(image, "IMAGE_LABEL", "graders.test-sandbox")
    client = engine_client()
    base = image.LOCAL_BASE  # the sandbox image was built on it, so it is here
    current, stale = (f"graders-test-sandbox:{n * 12}" for n in "01")
    for tag in (current, stale):
        (tmp_path / "Dockerfile").write_text(
            f"FROM {base}\nRUN head -c 3000000 /dev/urandom > /blob-{tag[-1]}\n")
        subprocess.run(["docker", "build", "--network", "none", "--label",
                        "graders.test-sandbox=1", "--tag", tag, str(tmp_path)],
                       check=True, capture_output=True)
    said: list[str] = []
    try:
        assert image.remove_stale_images(client, keep=current, log=said.append) == [], \
            "an image built moments ago (another checkout's, maybe) was removed"
        removed = image.remove_stale_images(client, keep=current, log=said.append, min_age_s=0)
        assert removed == [stale]
        assert image.find_image(client, stale) is None
        assert image.find_image(client, current) is not None, "the current image was removed"
        assert any("freed" in line and stale in line for line in said), said
    finally:
        subprocess.run(["docker", "rmi", "--force", current, stale], capture_output=True)
