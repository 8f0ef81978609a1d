"""Hostile submissions get honest verdicts (issue P3).

Every file in tests/adversarial/ attacks the harness from inside a submission to
q3_decorator; tests/adversarial/outcomes.toml says what the harness must make of
it, on which backends. Each (file, backend) is graded exactly once by the `grade`
command in a subprocess, a few at a time in the background, and each test reads
its run: exit code, status, test statuses, metric verdicts, candidate output,
wall time, and what the run left behind (containers, workers, daemons: nothing).
At the end the reference must still pass on every backend.

GRADERS_ADVERSARIAL_PARALLEL sets how many runs share the machine (default 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graders.challenge import load_challenge
from graders.protocol import ChannelTimeout, write_message
from tests.conftest import SUMMARY_PROPERTY

# Under pytest-xdist (`make test`) one worker runs this module: its fixture starts every run.
pytestmark = pytest.mark.xdist_group("test_adversarial")

REPO = Path(__file__).resolve().parents[1]
ADVERSARIAL = REPO / "tests" / "adversarial"
CHALLENGE = REPO / "challenges" / "q3_decorator"
REFERENCE = REPO / "reference" / "q3_decorator.py"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads(
    (ADVERSARIAL / "outcomes.toml").read_text(encoding="utf-8"))
PARALLEL = int(os.environ.get("GRADERS_ADVERSARIAL_PARALLEL", "3"))
RUN_TIMEOUT_S = 300  # a run still going after this is killed: the harness hung
DEFAULT_MAX_S = 120  # bound on one run's wall time, shared machine included (max_seconds)
EXIT_CODES = {"passed": 0, "failed": 1, "error": 1, "bad-input": 2}
CASES = [(name, backend) for name, spec in MANIFEST.items() for backend in spec["backends"]]
CANARY = f"graders-canary-{uuid.uuid4().hex}"  # a secret in the harness's environment
LOCK_DIR = os.environ.get("GRADERS_LOCK_DIR", tempfile.gettempdir())  # shared timing lock


@dataclass
class Run:
    name: str
    backend: str
    submission: Path
    exit_code: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None
    seconds: float
    pid: int  # of the `grade` process: its containers are labelled with it
    hung: bool
    leftovers: list[str]  # containers and processes found after it exited (then removed)

    def describe(self) -> str:
        summary = "no result file"
        if self.result is not None:
            tests = {t["name"]: t["status"] for t in self.result["tests"]
                     if t["status"] != "passed"}
            metrics = {m["name"]: m["verdict"] for m in self.result["performance"]["metrics"]}
            summary = (f"{self.result['status']}: {self.result['message']} "
                       f"not passed: {tests} metrics: {metrics}")
        return (f"{self.name} on {self.backend}: exit {self.exit_code} in {self.seconds:.1f} s; "
                f"{summary}; stderr: {self.stderr[-600:]}")


def _cost(case: tuple[str, str]) -> float:
    """A rough guess of a run's length, to start the long ones first."""
    spec = MANIFEST[case[0]]
    guess = {"passed": 3.0, "failed": 2.0, "error": 1.0, "bad-input": 0.1}[spec["status"]]
    guess += 2 * bool(spec.get("fail_metrics")) + 5 * bool(spec.get("output_min_bytes"))
    return guess * (1.5 if case[1] == "docker" else 1.0)


def _prepare(name: str, case_dir: Path) -> Path:
    """The file to grade: the repository's, or a padded or re-encoded copy of it."""
    spec, path = MANIFEST[name], ADVERSARIAL / f"{name}.py"
    if "pad_to" not in spec and "encoding" not in spec:
        return path
    text = path.read_text(encoding="utf-8")
    while len(text.encode()) < spec.get("pad_to", 0):
        text += "# " + "padding " * 12 + "\n"
    copy = case_dir / path.name
    copy.write_bytes(text.encode(spec.get("encoding", "utf-8")))
    return copy


def _processes() -> list[tuple[int, bytes, str]]:
    """(pid, command line, working directory) of every process now running."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            cwd = ""
        found.append((int(entry), cmdline, cwd))
    return found


def _containers(owner: int) -> list[str]:
    done = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=graders.owner_pid={owner}"],
                          capture_output=True, text=True, check=False)
    return done.stdout.split()


def _leftovers(name: str, backend: str, pid: int, case_dir: Path) -> list[str]:
    """What a finished run left: its containers, and processes of its marker, its
    `grade` process (docker clients carry its pid in a label) or its directory."""
    found = [f"container {c}" for c in _containers(pid)] if backend == "docker" else []
    marker = MANIFEST.get(name, {}).get("marker", f"graders-adv-{name}-")
    needles = [f"{marker}{backend}".encode(), f"graders.owner_pid={pid}".encode(),
               str(case_dir).encode()]
    for other, cmdline, cwd in _processes():
        if any(needle in cmdline for needle in needles) or cwd.startswith(str(case_dir)):
            command = cmdline.replace(b"\0", b" ")[:150]
            found.append(f"process {other}: {command!r}")
    return found


def _remove(leftovers: list[str]) -> None:
    for item in leftovers:
        kind, ident = item.split(" ", 1)
        if kind == "container":
            subprocess.run(["docker", "rm", "-f", ident], capture_output=True, check=False)
        else:
            try:
                os.kill(int(ident.split(":")[0]), signal.SIGKILL)
            except OSError:
                pass


def grade(name: str, backend: str, submission: Path, case_dir: Path) -> Run:
    """Grade one file with `grade` in a subprocess, then look for what it left behind."""
    (case_dir / "tmp").mkdir(parents=True, exist_ok=True)
    json_path = case_dir / "result.json"
    env = {**os.environ, "TMPDIR": str(case_dir / "tmp"), "GRADERS_LOCK_DIR": LOCK_DIR,
           "GRADERS_ADV_CANARY": CANARY, "COLUMNS": "120", "NO_COLOR": "1"}
    command = [sys.executable, "-m", "graders.cli", str(CHALLENGE), str(submission),
               "--sandbox", backend, "--json", str(json_path)]
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    hung = False
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
    seconds = time.monotonic() - start
    (case_dir / "stdout").write_bytes(stdout)
    (case_dir / "stderr").write_bytes(stderr)
    time.sleep(0.3)  # long enough for a surviving daemon to rewrite the result file
    leftovers = _leftovers(name, backend, process.pid, case_dir)
    _remove(leftovers)
    result = json.loads(json_path.read_text()) if json_path.exists() else None
    return Run(name, backend, submission, process.returncode, stdout.decode(errors="replace"),
               stderr.decode(errors="replace"), result, seconds, process.pid, hung, leftovers)


class Runs:
    """Grades every selected case once, PARALLEL at a time, longest first, in the background."""

    def __init__(self, cases: list[tuple[str, str]], workdir: Path) -> None:
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(PARALLEL, thread_name_prefix="adversarial")
        self.futures: dict[tuple[str, str], Future[Run]] = {}
        for name, backend in sorted(cases, key=_cost, reverse=True):
            case_dir = workdir / f"{name}-{backend}"
            case_dir.mkdir()
            self.futures[name, backend] = self.pool.submit(
                grade, name, backend, _prepare(name, case_dir), case_dir)

    def get(self, name: str, backend: str) -> Run:
        return self.futures[name, backend].result()

    def all(self) -> list[Run]:
        return [future.result() for future in self.futures.values()]


def _docker_usable(request: pytest.FixtureRequest) -> bool:
    """Whether docker cases run; the shared `docker_ready` fixture skips or fails them."""
    try:
        request.getfixturevalue("docker_ready")
    except (pytest.skip.Exception, pytest.fail.Exception):
        return False
    return True


@pytest.fixture(scope="module")
def adversarial_runs(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Any:
    selected = [(str(item.callspec.params["name"]), str(item.callspec.params["backend"]))
                for item in request.session.items
                if isinstance(item, pytest.Function) and item.module is request.module
                and hasattr(item, "callspec")]
    docker = _docker_usable(request)
    runs = Runs([c for c in selected if c[1] == "process" or docker],
                tmp_path_factory.mktemp("adversarial"))
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def suite_sha256() -> str:
    return load_challenge(CHALLENGE).suite_sha256()


def _marks(spec: dict[str, Any], backend: str) -> list[pytest.MarkDecorator]:
    marks = [pytest.mark.docker] if backend == "docker" else []
    if "known_gap" in spec:
        marks.append(pytest.mark.xfail(reason=spec["known_gap"], raises=AssertionError,
                                       strict=True))
    return marks


# In the order the runs start (longest first), so that no test waits long for its own.
PARAMS = [pytest.param(name, backend, id=f"{name}-{backend}", marks=_marks(MANIFEST[name], backend))
          for name, backend in sorted(CASES, key=_cost, reverse=True)]


@pytest.mark.parametrize(("name", "backend"), PARAMS)
def test_hostile_submission(name: str, backend: str, adversarial_runs: Runs, suite_sha256: str,
                            request: pytest.FixtureRequest) -> None:
    if backend == "docker":
        request.getfixturevalue("docker_ready")
    spec = MANIFEST[name]
    run = adversarial_runs.get(name, backend)
    why = run.describe()
    assert not run.hung, f"the harness hung: {why}"
    assert not run.leftovers, f"left behind {run.leftovers}: {why}"
    assert run.exit_code == EXIT_CODES[spec["status"]], why
    assert run.seconds <= spec.get("max_seconds", DEFAULT_MAX_S), why
    printed = run.stdout + run.stderr
    assert "\x1b" not in printed, "a terminal escape reached what `grade` printed"
    assert "Traceback" not in run.stderr, why
    assert "PLANTED-CODE-RAN" not in printed and CANARY not in printed
    if spec["status"] == "bad-input":
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("grade: "), run.stderr
        assert run.result is None
        return

    result = run.result
    assert result is not None, why
    assert result["status"] == spec["status"], why
    assert result["status"] != "passed" or spec.get("honest"), "a dishonest pass"
    assert result["submission"]["sha256"] == hashlib.sha256(run.submission.read_bytes()).hexdigest()
    assert result["challenge"]["suite_sha256"] == suite_sha256
    assert result["sandbox"]["backend"] == backend
    statuses = {t["name"]: t["status"] for t in result["tests"]}
    expected = {**spec.get("statuses", {}), **spec.get(f"statuses_{backend}", {})}
    assert {test: statuses.get(test) for test in expected} == expected, why
    if "only_fail" in spec:
        failing = {test.split("[")[0] for test, status in statuses.items() if status != "passed"}
        assert failing <= set(spec["only_fail"]), why
    verdicts = {m["name"]: m["verdict"] for m in result["performance"]["metrics"]}
    for metric in spec.get("fail_metrics", []):
        assert verdicts.get(metric) == "fail", why
    for metric in spec.get("pass_metrics", []):
        assert verdicts.get(metric) == "pass", why

    output = result["candidate_output"]
    assert CANARY not in output["text"], "the harness's environment leaked into the sandbox"
    for needle in spec.get("output_includes", []):
        assert needle in output["text"], f"{needle!r} missing from the candidate output"
    for needle in spec.get("output_excludes", []):
        assert needle not in output["text"], output["text"][:3000]
    if "output_min_bytes" in spec:
        assert output["total_bytes"] >= spec["output_min_bytes"] and output["truncated"]


def test_every_hostile_file_has_its_outcome() -> None:
    files = {path.stem for path in ADVERSARIAL.glob("*.py")}
    assert files == set(MANIFEST), "tests/adversarial/*.py and outcomes.toml disagree"
    for name, spec in MANIFEST.items():
        assert "docker" in spec["backends"], f"{name}: every attack runs on docker"
        assert spec["status"] in EXIT_CODES, name
        assert spec["status"] != "passed" or spec.get("honest"), f"{name}: passed, not honest"


def test_a_worker_that_stops_reading_cannot_block_a_request() -> None:
    """A request bigger than a pipe's buffer, to a worker that reads nothing, times out."""
    read_fd, write_fd = os.pipe()
    try:
        start = time.monotonic()
        with pytest.raises(ChannelTimeout):
            write_message(write_fd, {"op": "load", "args": {"source": "x" * (1 << 20)}},
                          time.monotonic() + 0.5)
        assert time.monotonic() - start < 5
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_nothing_remains_and_the_reference_still_passes(
        adversarial_runs: Runs, request: pytest.FixtureRequest,
        record_property: Callable[[str, object], None]) -> None:
    """Runs last: every run is over; nothing of any is left, and grading still works."""
    runs = adversarial_runs.all()
    if runs:
        slowest = sorted(runs, key=lambda run: run.seconds, reverse=True)[:5]
        # Shown in the terminal summary (tests/conftest.py), from an xdist worker too.
        record_property(SUMMARY_PROPERTY, "adversarial: slowest runs to a verdict: " + ", ".join(
            f"{run.name}-{run.backend} {run.seconds:.1f} s" for run in slowest))
    for run in runs:
        if run.backend == "docker":
            assert not _containers(run.pid), f"containers of {run.name} remain"
    workdir = str(adversarial_runs.workdir)
    remaining = [(pid, cmdline[:150]) for pid, cmdline, cwd in _processes()
                 if b"graders-adv-" in cmdline or cwd.startswith(workdir)
                 or workdir.encode() in cmdline]
    assert not remaining, f"processes of the hostile submissions remain: {remaining}"

    backends = ["process", "docker"] if _docker_usable(request) else ["process"]
    for backend in backends:
        case_dir = adversarial_runs.workdir / f"reference-{backend}"
        case_dir.mkdir()
        run = grade("reference", backend, REFERENCE, case_dir)
        assert run.exit_code == 0 and not run.leftovers, run.describe()
        assert run.result is not None and run.result["status"] == "passed", run.describe()
