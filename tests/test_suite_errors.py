"""A broken challenge is the author's error: `grade` says which file and why, exit 2.

Test files and conftests that do not import, a driver that does not import, a test
calling an operation the driver lacks. And a submission cannot pass itself off as
such an error by forging the worker's answer. Each case is a copy of the probe
challenge broken on purpose, graded on the process backend.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROBE, PROBE_REFERENCE, GradeRun, run_grade


def copy_probe(tmp_path: Path, *, metrics: bool = False, **limits: float) -> Path:
    """A copy of the probe challenge under tmp_path/challenges (with its reference).

    Without `metrics` it has no performance metrics, so a grade is the suite only.
    `limits` replace values of its [limits] table.
    """
    root = tmp_path / "challenges" / "probe"
    shutil.copytree(PROBE, root, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "reference").mkdir()
    shutil.copy(PROBE_REFERENCE, tmp_path / "reference" / "probe.py")
    toml = root / "challenge.toml"
    text = toml.read_text()
    if not metrics:
        text = text[:text.index("[performance]")]
    for name, value in limits.items():
        start = text.index(f"\n{name} = ") + 1
        end = text.index("\n", start)
        text = f"{text[:start]}{name} = {value}{text[end:]}"
    toml.write_text(text)
    return root


def grade_probe(root: Path, submission: Path = PROBE_REFERENCE, **kwargs: object) -> GradeRun:
    return run_grade(root, submission, "--sandbox", "process", **kwargs)  # type: ignore[arg-type]


def assert_challenge_error(run: GradeRun, *needles: str) -> None:
    """Exit 2, one line on stderr naming the problem and the fix, no traceback."""
    assert run.exit_code == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("grade: challenge 'probe' is broken: "), lines[0]
    assert "fix" in lines[0] and "more file" not in lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in run.stdout + run.stderr


# --------------------------------------------------------------------------- the suite


@pytest.mark.parametrize(("visibility", "source", "needles"), [
    ("hidden", "def test_broken(submission:\n    pass\n",
     ["hidden/test_broken.py does not import", "SyntaxError at line 1"]),
    ("public", "import no_such_helper_module\n",
     ["public/test_broken.py does not import", "ModuleNotFoundError",
      "no_such_helper_module"]),
    ("hidden", "raise RuntimeError('the author forgot something')\n",
     ["hidden/test_broken.py", "RuntimeError: the author forgot something"]),
])
def test_a_test_file_that_does_not_import_is_the_challenges_error(tmp_path, visibility, source,
                                                                   needles):
    root = copy_probe(tmp_path)
    (root / visibility).mkdir(exist_ok=True)
    (root / visibility / "test_broken.py").write_text(source)
    assert_challenge_error(grade_probe(root), *needles)


def test_a_conftest_that_does_not_import_is_the_challenges_error(tmp_path):
    root = copy_probe(tmp_path)
    (root / "conftest.py").write_text("from graders.testing import NoSuchHelper\n")
    assert_challenge_error(grade_probe(root), "conftest.py does not import", "ImportError",
                           "NoSuchHelper")


def test_a_conftest_in_a_test_folder_that_does_not_import(tmp_path):
    root = copy_probe(tmp_path)
    (root / "hidden" / "conftest.py").write_text("x = (\n")
    assert_challenge_error(grade_probe(root), "hidden/conftest.py does not import",
                           "SyntaxError")


# --------------------------------------------------------------------------- the driver


@pytest.mark.parametrize(("prefix", "needles"), [
    ("import no_such_driver_dependency\n",
     ["its driver.py does not import", "ModuleNotFoundError", "no_such_driver_dependency"]),
    ("raise ImportError('the driver needs numpy 3')\n",
     ["its driver.py does not import", "ImportError: the driver needs numpy 3"]),
    ("import os\nos.environ['PROBE_NEEDS_THIS']\n",
     ["its driver.py does not import", "KeyError: 'PROBE_NEEDS_THIS'"]),
])
def test_a_driver_that_does_not_import_is_the_challenges_error(tmp_path, prefix, needles):
    root = copy_probe(tmp_path)
    driver = root / "driver.py"
    driver.write_text(prefix + driver.read_text())
    run = grade_probe(root)
    assert_challenge_error(run, *needles)
    assert "importing the submission" not in run.stderr


def test_a_test_calling_an_operation_the_driver_lacks_is_the_challenges_error(tmp_path):
    root = copy_probe(tmp_path)
    (root / "hidden" / "test_typo.py").write_text(
        "from graders.testing import core\n\n\n"
        "@core\n"
        "def test_calls_a_typo(submission):\n"
        '    """Calls an operation that does not exist."""\n'
        '    assert submission.call("wrok", n=1) == 1\n'
    )
    assert_challenge_error(grade_probe(root), "test hidden/test_typo.py::test_calls_a_typo",
                           "no operation 'wrok'", "work")


# --------------------------------------------------------------------------- forgeries

# What a submission writes on the worker's private response channel (found as in
# tests/adversarial/channel_forged_answers.py) to answer in the worker's place.
FORGER = '''
import json, os, struct

def _forge(error):
    payload = json.dumps({"ok": False, "error": error}).encode()
    for fd in range(3, 21):
        try:
            with open(f"/proc/self/fdinfo/{fd}") as handle:
                flags = int(handle.read().split("flags:")[1].split()[0], 8)
            target = os.readlink(f"/proc/self/fd/{fd}")
        except (OSError, IndexError, ValueError):
            continue
        if flags & 3 in (os.O_WRONLY, os.O_RDWR) and not target.startswith("/"):
            os.write(fd, struct.pack(">I", len(payload)) + payload)
'''


def test_a_forged_driver_failure_does_not_blame_the_challenge(tmp_path):
    root = copy_probe(tmp_path)
    forger = tmp_path / "forger.py"
    forger.write_text(FORGER + '_forge({"type": "ImportError", "message": "forged", '
                      '"phase": "driver"})\n' + PROBE_REFERENCE.read_text())
    run = grade_probe(root, forger, json_path=tmp_path / "result.json")
    assert run.exit_code == 1, run.stderr
    assert run.result is not None and run.result["status"] == "error"
    assert "claimed that the challenge's driver does not import" in run.result["message"]


def test_a_forged_unknown_operation_does_not_blame_the_challenge(tmp_path):
    root = copy_probe(tmp_path)
    forger = tmp_path / "forger.py"
    forger.write_text(FORGER + PROBE_REFERENCE.read_text().replace(
        "def work(n):\n",
        'def work(n):\n    _forge({"type": "UnknownOperation", "message": "forged"})\n'))
    run = grade_probe(root, forger, json_path=tmp_path / "result.json")
    assert run.exit_code == 1, run.stderr
    statuses = run.statuses()
    assert statuses["test_work_returns_n"] == "error"
    assert statuses["test_steps_are_few"] == "passed"  # the run went on


# --------------------------------------------------------------------------- the fixture


def test_the_submission_fixture_offers_calls_not_the_proxys_lifecycle(tmp_path):
    root = copy_probe(tmp_path)
    (root / "hidden" / "test_fixture.py").write_text(
        "from graders.testing import Submission, core\n\n\n"
        "@core\n"
        "def test_fixture_is_a_submission(submission):\n"
        '    """The fixture is a Submission with call() only."""\n'
        "    assert type(submission) is Submission\n"
        "    for lifecycle in ('load', 'close', 'pause', 'resume', 'calibrate', 'probe'):\n"
        "        assert not hasattr(submission, lifecycle), lifecycle\n"
        "    assert submission.call('work', n=3) == 3\n"
        "    assert submission.call('echo', value=[1], timeout=1.5) == [1]\n"
    )
    run = grade_probe(root, json_path=tmp_path / "result.json")
    assert run.statuses()["test_fixture_is_a_submission"] == "passed", run.result


def test_suites_graded_one_after_another_in_one_process_each_run_their_own_tests(tmp_path):
    """`grade validate --all` grades challenges in one process: the second challenge's
    hidden/test_probe.py must not be the first one's, cached under the same module name."""
    from graders.challenge import load_challenge
    from graders.runner import grade
    from graders.submission import read_submission

    first = copy_probe(tmp_path / "first")
    second = copy_probe(tmp_path / "second")
    with (second / "hidden" / "test_probe.py").open("a") as tests:
        tests.write('\n\n@core\ndef test_only_in_the_second(submission):\n    """Second."""\n')
    names = []
    for root in (first, second):
        result = grade(load_challenge(root), read_submission(PROBE_REFERENCE),
                       sandbox="process", repo_root=root.parent.parent, measure=False)
        names.append({t.name for t in result.tests})
    assert "test_only_in_the_second" not in names[0]
    assert names[1] == names[0] | {"test_only_in_the_second"}
