"""`grade validate`, the author's proof: sound challenges pass, broken ones are named."""

import dataclasses
import shutil
import threading
import time

import pytest

from graders.challenge import load_challenge
from graders.result import Result
from graders.validate import Edit, apply_edits, dead_tests, validate
from tests.conftest import REPO, run_grade

FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def probe(tmp_path):
    """A copy of the probe challenge in a repository layout of its own, free to break."""
    shutil.copytree(FIXTURES / "challenges" / "probe", tmp_path / "challenges" / "probe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "reference").mkdir()
    shutil.copy(FIXTURES / "reference" / "probe.py", tmp_path / "reference" / "probe.py")
    return tmp_path / "challenges" / "probe"


def test_a_sound_challenge_is_valid(probe):
    run = run_grade("validate", probe, "--sandbox", "process")
    assert run.exit_code == 0, run.stdout
    assert "probe: valid (7 gradings" in run.stdout
    assert "FAIL" not in run.stdout


def test_a_broken_challenge_is_not_valid_and_each_problem_is_named(probe):
    # a hidden test that cannot fail
    with (probe / "hidden" / "test_probe.py").open("a") as tests:
        tests.write('\n\n@core\ndef test_always_passes(submission):\n    """Nothing."""\n')
    # a reference edited so that declared mutations no longer apply
    reference = probe.parent.parent / "reference" / "probe.py"
    reference.write_text(reference.read_text().replace("    return total\n",
                                                       "    return (total)\n"))
    # a metric whose slow known-bad fails it without margin: a counter, so the figure is
    # exactly 2.0 on every run (a timed metric's figure would ride this host's noise)
    toml = probe / "challenge.toml"
    toml.write_text(toml.read_text().replace("threshold = { ratio = 1.5 }",
                                             "threshold = { ratio = 1.8 }"))
    run = run_grade("validate", probe, "--sandbox", "process")  # full: the dead-test check
    assert run.exit_code == 1, run.stdout
    text = " ".join(run.stdout.split())
    assert "probe: NOT valid" in text
    assert "hidden test test_always_passes fails for no known_bad" in text
    assert "edit 1 ('return total') matches 0 times in the reference" in text
    assert "known_bad twice_the_steps fails it with 2, less than 1.25 x the threshold 1.8" in text
    # five_times_the_work, the one slow known-bad of work_time, no longer applies
    assert "metric work_time is required but no known_bad declares it" in text


def test_an_operation_name_the_driver_lacks_is_named(probe):
    toml = probe / "challenge.toml"
    toml.write_text(toml.read_text().replace('operation = "count"', 'operation = "cuont"'))
    run = run_grade("validate", probe, "--sandbox", "process", "--quick")
    assert run.exit_code == 2
    assert "cuont" in run.stderr and "Traceback" not in run.stderr


def test_a_flaky_reference_is_named(probe, tmp_path):
    """The reference is graded three times; outcomes that differ are flakiness."""
    run = run_grade(probe, probe.parent.parent / "reference" / "probe.py", "--sandbox",
                    "process", json_path=tmp_path / "r.json")
    real = Result.from_dict(run.result)
    gradings = []

    def grader(submission, measure, only):
        gradings.append(submission.path.name)
        result = dataclasses.replace(real, tests=list(real.tests))
        if submission.path.name == "probe.py" and gradings.count("probe.py") == 2:
            result.tests[0] = dataclasses.replace(result.tests[0], status="timeout")
        if submission.path.name != "probe.py":  # stub and known-bads fail every test
            result.tests = [dataclasses.replace(t, status="failed") for t in result.tests]
            result.status = "failed"
        return result

    report = validate(load_challenge(probe), grader)
    assert not report.ok
    problems = {run.label: run.problems for run in report.runs}
    assert problems["reference #2"] and "flaky" in " ".join(problems["reference #2"])
    assert problems["reference #1"] == [] and problems["reference #3"] == []


def test_gradings_at_once_give_the_same_report_in_the_same_order(probe, tmp_path):
    """--jobs grades several submissions at once; the proof reads as it does one by one."""
    run = run_grade(probe, probe.parent.parent / "reference" / "probe.py", "--sandbox",
                    "process", json_path=tmp_path / "r.json")
    real = Result.from_dict(run.result)
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def grader(submission, measure, only):
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        if submission.path.stem == "probe":
            return real
        # every other fails every test: the stub and wrong_count as declared, the slow
        # known-bads not (their metrics pass), so the report has problems to compare
        return dataclasses.replace(real, status="failed", tests=[
            dataclasses.replace(t, status="failed") for t in real.tests])

    reports, logged = {}, {}
    for jobs in (1, 3):
        running[:] = [0, 0]
        lines: list[str] = []
        reports[jobs] = validate(load_challenge(probe), grader, jobs=jobs,
                                 log=lambda done, lines=lines: lines.append(done.label))
        logged[jobs] = lines
        assert running[1] == jobs, f"{running[1]} gradings at once with jobs={jobs}"
    one, three = reports[1], reports[3]
    assert [(r.label, r.problems) for r in three.runs] == [(r.label, r.problems) for r in one.runs]
    assert three.problems == one.problems and not three.ok
    assert logged[3] == logged[1] == [r.label for r in one.runs]


def test_a_pool_begins_the_measured_gradings_first(probe, tmp_path):
    """Longest first: a measured grading never begins last while a core idles."""
    run = run_grade(probe, probe.parent.parent / "reference" / "probe.py", "--sandbox",
                    "process", json_path=tmp_path / "r.json")
    real = Result.from_dict(run.result)
    begun: list[bool] = []
    lock = threading.Lock()

    def grader(submission, measure, only):
        with lock:
            begun.append(bool(measure))
        time.sleep(0.05)  # the first two are the first two handed over
        return real

    report = validate(load_challenge(probe), grader, quick=True, jobs=2)
    assert begun.count(True) >= 2 and begun[:2] == [True, True], begun
    assert report.runs[1].label == "reference #1"  # judged in the fixed order all the same


def test_the_quick_form_runs_a_failing_known_bad_on_its_named_failures_alone(probe, tmp_path):
    run = run_grade(probe, probe.parent.parent / "reference" / "probe.py", "--sandbox",
                    "process", json_path=tmp_path / "r.json")
    real = Result.from_dict(run.result)
    asked: dict[str, list] = {}
    measured: dict[str, frozenset[str]] = {}

    def grader(submission, metrics, only):
        asked.setdefault(submission.path.stem, []).append(only)
        measured[submission.path.stem] = metrics
        if submission.path.stem == "probe":
            return real
        return dataclasses.replace(real, status="failed", tests=[
            dataclasses.replace(t, status="failed") for t in real.tests
            if only is None or t.name in only])

    for quick in (True, False):
        asked.clear()
        report = validate(load_challenge(probe), grader, quick=quick)
        assert len(asked["probe"]) == (1 if quick else 3)  # the reference
        # a known-bad that must fail named tests runs them alone, measured or not; one
        # that fails by a metric alone needs every test run to show its status
        assert asked["wrong_count"] == [
            frozenset({"test_work_returns_n", "test_work_zero"}) if quick else None]
        assert asked["twice_the_steps"] == [
            frozenset({"test_steps_are_few"}) if quick else None]
        assert asked["five_times_the_work"] == [None]
        # each measured on the metrics its outcome names: no other can change a failure;
        # the reference on all of them
        assert measured["wrong_count"] == frozenset()
        assert measured["twice_the_steps"] == {"work_steps"}
        assert measured["five_times_the_work"] == {"work_time", "work_steps"}
        assert measured["probe"] == {"work_time", "work_steps", "work_latency"}
        problems = {run.label: run.problems for run in report.runs}
        # the full form sees that wrong_count fails more than its two tests
        assert bool(problems["known_bad/wrong_count"]) is not quick


def test_only_runs_the_tests_of_those_names(probe):
    from graders.runner import grade
    from graders.submission import read_submission

    challenge = load_challenge(probe)
    reference = read_submission(probe.parent.parent / "reference" / "probe.py")
    result = grade(challenge, reference, sandbox="process", repo_root=REPO, measure=False,
                   only=frozenset({"test_work_zero", "test_steps_are_few"}))
    assert sorted(t.name for t in result.tests) == ["test_steps_are_few", "test_work_zero"]


def test_edits_must_match_exactly_once():
    source = "a = 1\nb = 1\n"
    assert apply_edits(source, [Edit(find="a = 1", replace="a = 2")]) == ("a = 2\nb = 1\n", [])
    _, problems = apply_edits(source, [Edit(find="= 1", replace="= 2")])
    assert problems == ["edit 1 ('= 1') matches 2 times in the reference, not exactly once"]


def test_a_test_only_the_stub_fails_is_dead_unless_declared():
    assert dead_tests({"test_a", "test_b"}, [], {}) == ["test_a", "test_b"]
    assert dead_tests({"test_a", "test_b"}, [], {"test_b": "why"}) == ["test_a"]


@pytest.mark.parametrize("stub_metrics", ["fail", "pass"])
def test_a_correct_slow_stub_must_fail_by_its_metrics(probe, tmp_path, stub_metrics):
    """q9's stub is correct and slow: it passes every test, so it is measured, and only
    a metric that fails it makes the challenge valid."""
    run = run_grade(probe, probe.parent.parent / "reference" / "probe.py", "--sandbox",
                    "process", json_path=tmp_path / "r.json")
    real = Result.from_dict(run.result)
    measured: list[frozenset[str]] = []

    def grader(submission, metrics, only):
        if submission.path.name == "stub.py":
            measured.append(metrics)
            if metrics and stub_metrics == "fail":
                return dataclasses.replace(real, status="failed")
            return real
        if submission.path.name == "probe.py":
            return real
        return dataclasses.replace(real, status="failed", tests=[
            dataclasses.replace(t, status="failed") for t in real.tests])

    report = validate(load_challenge(probe), grader, quick=True)
    assert measured == [frozenset(), frozenset({"work_time", "work_steps", "work_latency"})]
    stub = [run for run in report.runs if run.label.startswith("stub")]
    assert [run.label for run in stub] == ["stub, measured"]
    assert stub[0].problems == ([] if stub_metrics == "fail" else
                                ["the stub passes every test and every required metric"])
