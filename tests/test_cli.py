"""Bad usage and bad input: one clear sentence, exit 2, no traceback, nothing changed."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROBE, PROBE_REFERENCE, Q3, REPO, run_grade

REFERENCE = REPO / "reference" / "q3_decorator.py"


def _assert_one_sentence(run, *needles):
    assert run.exit_code == 2, run
    assert "Traceback" not in run.stderr + run.stdout
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    text = " ".join(lines)
    assert text.startswith("grade: ")
    for needle in needles:
        assert needle in text, text


def test_missing_submission(tmp_path):
    _assert_one_sentence(run_grade(Q3, tmp_path / "nope.py"), "does not exist")


def test_directory_as_submission(tmp_path):
    _assert_one_sentence(run_grade(Q3, tmp_path), "is a directory")


def test_unknown_challenge(tmp_path):
    _assert_one_sentence(run_grade("no_such_challenge", REFERENCE), "not a challenge directory",
                         "grade list")


def test_directory_without_challenge_toml(tmp_path):
    _assert_one_sentence(run_grade(tmp_path, REFERENCE), "challenge.toml")


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda s: s.replace("call_timeout_s = 5", "call_timeout_s = -1"), "limits.call_timeout_s"),
    (lambda s: s.replace('version = "1.0.0"', ""), "field 'version'"),
    (lambda s: s.replace("core = 3", "core = 3\nbogus = 1"), "scoring.categories"),
    (lambda s: s + "\n[[[", "not valid TOML"),
    (lambda s: s.replace("threshold = { ratio = 3.0 }", "threshold = {}"), "threshold"),
])
def test_invalid_challenge_toml_names_the_field(tmp_path, edit, needle):
    copy = tmp_path / "q3_decorator"
    shutil.copytree(Q3, copy)
    toml = copy / "challenge.toml"
    toml.write_text(edit(toml.read_text()))
    original = toml.read_text()
    _assert_one_sentence(run_grade(copy, REFERENCE, "--sandbox", "process"), needle)
    assert toml.read_text() == original


def test_non_utf8_submission_is_left_untouched(tmp_path):
    bad = tmp_path / "latin1.py"
    bad.write_bytes(b"# caf\xe9\ndef ttl_cache(ttl): pass\n")
    _assert_one_sentence(run_grade(Q3, bad), "not UTF-8")
    assert bad.read_bytes() == b"# caf\xe9\ndef ttl_cache(ttl): pass\n"


def test_oversized_submission(tmp_path):
    big = tmp_path / "big.py"
    big.write_text("# " + "x" * 300_000 + "\n")
    _assert_one_sentence(run_grade(Q3, big), "over the", "limit")


def test_bad_options():
    _assert_one_sentence(run_grade(Q3, REFERENCE, "--sandbox", "vm"), "invalid choice")
    _assert_one_sentence(run_grade(Q3), "required")


def test_json_path_in_missing_directory(tmp_path):
    run = run_grade(Q3, REFERENCE, json_path=tmp_path / "missing" / "r.json")
    _assert_one_sentence(run, "does not exist")


def test_list_shows_the_challenges():
    run = run_grade("list")
    assert run.exit_code == 0
    assert "q3_decorator" in run.stdout and "A TTL cache decorator" in run.stdout


NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.mark.parametrize("args", [("sandbox", "build"), (Q3, REFERENCE, "--sandbox", "docker")])
def test_no_engine_is_exit_3_with_one_sentence(args):
    run = run_grade(*args, env=NO_ENGINE)
    assert run.exit_code == 3
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stderr.startswith("grade: No Docker engine answers")
    assert len(run.stderr.strip().splitlines()) == 1


def test_auto_without_engine_falls_back_and_says_so(tmp_path):
    run = run_grade(PROBE, PROBE_REFERENCE, "--sandbox", "auto", env=NO_ENGINE,
                    json_path=tmp_path / "r.json")
    assert run.exit_code == 0
    assert run.result["sandbox"] == {**run.result["sandbox"], "backend": "process",
                                     "isolated": False}
    assert any("No Docker engine answers" in notice for notice in run.result["notices"])
    assert "NOT isolated" in run.stdout


def test_json_that_cannot_be_written_keeps_the_report(tmp_path):
    """The grade is shown, then one line says why the file is missing: exit 2."""
    run = run_grade(PROBE, PROBE_REFERENCE, "--sandbox", "process", "--quiet",
                    json_path=Path("/proc/r.json"))
    _assert_one_sentence(run, "/proc/r.json", "could not be written")
    assert run.stdout.startswith("passed:"), run.stdout


def test_the_suite_hash_covers_every_file_that_decides_a_grade(tmp_path):
    from graders.challenge import load_challenge

    copy_root = tmp_path / "repo"
    shutil.copytree(Q3, copy_root / "challenges" / "q3_decorator")
    (copy_root / "reference").mkdir()
    shutil.copy(REFERENCE, copy_root / "reference")
    challenge = load_challenge(copy_root / "challenges" / "q3_decorator")
    before = challenge.suite_sha256()
    for path in [challenge.root / "conftest.py", challenge.reference_path,
                 challenge.root / "driver.py", next((challenge.root / "hidden").glob("*.py"))]:
        original = path.read_text()
        path.write_text(original + "\n# changed\n")
        assert challenge.suite_sha256() != before, f"{path.name} is not in the suite hash"
        path.write_text(original)
    assert challenge.suite_sha256() == before


@pytest.mark.parametrize("command", ["validate", "batch"])
@pytest.mark.parametrize(("jobs", "said"), [("0", "must be at least 1"),
                                            ("two", "'two' is not a whole number")])
def test_jobs_must_be_a_whole_number_of_at_least_one(tmp_path, command, jobs, said):
    out = tmp_path / "out"
    arguments = ["q3_decorator"] + ([str(REFERENCE), "--out", str(out)] if command == "batch"
                                    else [])
    _assert_one_sentence(run_grade(command, *arguments, "--jobs", jobs), "--jobs", said)
    assert not out.exists(), "a refused batch wrote its output"
