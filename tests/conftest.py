"""Shared helpers for the project's own tests.

Docker-backed tests need an engine and the sandbox image. Where they are missing
the tests skip, unless GRADERS_REQUIRE_DOCKER is set (CI sets it): then they
fail, so a CI run can never pass by quietly skipping the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
Q3 = REPO / "challenges" / "q3_decorator"
# The harness's own test challenge and its reference.
PROBE = REPO / "tests" / "fixtures" / "challenges" / "probe"
PROBE_REFERENCE = REPO / "tests" / "fixtures" / "reference" / "probe.py"
BACKENDS = ["process", pytest.param("docker", marks=pytest.mark.docker)]


# A test's line for the end of the run (`record_property(SUMMARY_PROPERTY, line)`): a
# property travels with the test's report, so it is shown from a pytest-xdist worker too.
SUMMARY_PROPERTY = "summary_line"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == SUMMARY_PROPERTY:
                terminalreporter.write_line(str(value))


def docker_unavailable_reason() -> str | None:
    from graders.sandbox.docker import engine_client
    from graders.sandbox.image import find_image, image_tag

    client = engine_client()
    if client is None:
        return "no Docker engine answers (run .ci/docker-engine.sh)"
    if find_image(client, image_tag(REPO)) is None:
        return "the sandbox image is not built (run `grade sandbox build`)"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    reason = docker_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("GRADERS_REQUIRE_DOCKER"):
        pytest.fail(f"GRADERS_REQUIRE_DOCKER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once per sandbox backend."""
    if request.param == "docker":
        request.getfixturevalue("docker_ready")
    return str(request.param)


@dataclass
class GradeRun:
    exit_code: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None
    pid: int  # of the `grade` process: its containers are labelled with it

    def statuses(self) -> dict[str, str]:
        assert self.result is not None
        return {t["name"]: t["status"] for t in self.result["tests"]}


def run_grade(*args: str | Path, json_path: Path | None = None, timeout: float = 300,
              cwd: Path = REPO, env: dict[str, str | None] | None = None) -> GradeRun:
    """Run the `grade` command line as a user would, in a subprocess (`env`: variables
    to set, or to remove where the value is None)."""
    command = [sys.executable, "-m", "graders.cli", *map(str, args)]
    if json_path is not None:
        command += ["--json", str(json_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=cwd, env=_environment({"COLUMNS": "120", **(env or {})})
                          ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    result = None
    if json_path is not None and json_path.exists():
        result = json.loads(json_path.read_text())
    return GradeRun(process.returncode, stdout, stderr, result, process.pid)


def _environment(changes: dict[str, str | None]) -> dict[str, str]:
    merged: dict[str, str | None] = {**os.environ, **changes}
    return {name: value for name, value in merged.items() if value is not None}


def grader_containers(owner: int | None = None) -> list[str]:
    """Ids of grader containers (of one `grade` process, if `owner` is given)."""
    label = "graders" if owner is None else f"graders.owner_pid={owner}"
    done = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                          capture_output=True, text=True, check=False)
    return done.stdout.split()


def known_bad_file(challenge_dir: Path, name: str, folder: Path) -> Path:
    """A known-bad submission as a file in `folder`: its own file, or the reference with
    its declared edits applied (see graders/validate.py)."""
    from graders.challenge import load_challenge
    from graders.validate import known_bad_submission, load_expected

    challenge = load_challenge(challenge_dir)
    expected = load_expected(challenge.root / "known_bad")[name]
    submission, problems = known_bad_submission(challenge, name, expected)
    assert submission is not None, problems
    path = folder / f"{name}.py"
    path.write_text(submission.source, encoding="utf-8")
    return path
