"""Sandbox backends behind one interface (see base.py), and how one is chosen."""

from __future__ import annotations

from pathlib import Path

from graders.errors import SandboxUnavailable
from graders.sandbox.base import Backend, Limits, RunningWorker, describe_exit

__all__ = ["Backend", "Limits", "RunningWorker", "describe_exit", "open_backend", "CHOICES"]

CHOICES = ("auto", "docker", "process")


def open_backend(choice: str, repo_root: Path, challenges: Path, notice: list[str]) -> Backend:
    """The backend for `--sandbox choice`; `notice` collects what the report should say.

    `challenges` is the directory holding the challenge's folder: the process
    backend reads drivers from there; the image holds the repository's drivers.
    """
    from graders.sandbox.process import ProcessBackend

    if choice == "process":
        return ProcessBackend(repo_root, challenges)
    from graders.sandbox.docker import DockerBackend, engine_client
    from graders.sandbox.image import find_image, image_tag

    client = engine_client()
    if client is None:
        if choice == "docker":
            raise SandboxUnavailable(
                "No Docker engine answers; start one (see .ci/docker-engine.sh) "
                "or use --sandbox process."
            )
        notice.append("No Docker engine answers, so this run used the process backend.")
        return ProcessBackend(repo_root, challenges)
    if challenges.resolve() != (repo_root / "challenges").resolve():
        if choice == "docker":
            raise SandboxUnavailable(f"The sandbox image holds only the drivers of {repo_root}/"
                                     "challenges; grade this challenge with --sandbox process.")
        return ProcessBackend(repo_root, challenges)
    tag = image_tag(repo_root)
    if find_image(client, tag) is None:
        if choice == "docker":
            raise SandboxUnavailable(
                f"The sandbox image {tag} is not built; run `grade sandbox build` first."
            )
        notice.append(
            f"The sandbox image {tag} is not built (run `grade sandbox build`), "
            "so this run used the process backend."
        )
        return ProcessBackend(repo_root, challenges)
    return DockerBackend(client, tag)
