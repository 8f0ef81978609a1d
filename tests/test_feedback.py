"""Feedback levels: full, descriptions (the default), score-only; from challenge.toml or
`grade ... --feedback LEVEL`. The level shapes the result itself, never the grade."""

from __future__ import annotations

import shutil

import pytest

from graders.challenge import load_challenge
from graders.feedback import apply_level
from tests.conftest import PROBE, PROBE_REFERENCE, run_grade
from tests.test_batch import make_result

# Under pytest-xdist (`make test`) one worker runs this module: its fixture grades once.
pytestmark = pytest.mark.xdist_group("test_feedback")



def test_score_only_keeps_the_grade_and_nothing_else():
    result = make_result(output="printed", status="failed")
    shown = apply_level(result, "score-only")
    assert (shown.status, shown.score, shown.max_score) == ("failed", result.score,
                                                             result.max_score)
    assert shown.tests == [] and shown.performance.metrics == []
    assert shown.performance.score == result.performance.score
    assert shown.candidate_output.total_bytes == 0
    assert shown.message.startswith("Not passed.") and "score only" in shown.message
    assert any("score-only" in notice for notice in shown.notices)


def test_an_import_error_keeps_its_message_at_score_only():
    result = make_result(status="error")
    assert apply_level(result, "score-only").message == result.message


def test_descriptions_changes_nothing_and_full_says_so():
    result = make_result()
    assert apply_level(result, "descriptions") == result
    assert any("full" in notice for notice in apply_level(result, "full").notices)


def test_the_level_comes_from_challenge_toml_and_old_files_stay_valid():
    assert load_challenge("q3_decorator").config.feedback.level == "descriptions"
    assert load_challenge("q3_decorator").config.feedback.hidden_messages is True


def test_an_unknown_level_in_challenge_toml_is_named(tmp_path):
    challenge = tmp_path / "challenges" / "probe"
    shutil.copytree(PROBE, challenge, ignore=shutil.ignore_patterns("__pycache__"))
    toml = challenge / "challenge.toml"
    toml.write_text(toml.read_text() + '\n[feedback]\nlevel = "everything"\n')
    run = run_grade(challenge, PROBE_REFERENCE)
    assert run.exit_code == 2 and "feedback.level" in run.stderr


@pytest.fixture(scope="module")
def wrong(tmp_path_factory):
    path = tmp_path_factory.mktemp("feedback") / "wrong.py"
    path.write_text(PROBE_REFERENCE.read_text().replace("return total", "return total + 1"))
    return path


@pytest.mark.parametrize("level", ["full", "descriptions", "score-only"])
def test_grade_feedback_level(tmp_path, wrong, level):
    run = run_grade(PROBE, wrong, "--sandbox", "process", "--feedback", level,
                    json_path=tmp_path / "r.json")
    assert run.exit_code == 1, run.stderr
    result = run.result
    assert result is not None and result["status"] == "failed"
    if level == "score-only":
        assert result["tests"] == [] and result["performance"]["metrics"] == []
        assert "work(n) did not return n" not in run.stdout
        return
    failed = {t["name"]: t for t in result["tests"]}["test_work_returns_n"]
    assert failed["visibility"] == "hidden" and failed["status"] == "failed"
    if level == "descriptions":
        assert failed["message"] == "work(n) did not return n"
    else:  # the full failure, as a public test's: the assertion and where it failed
        assert "work(n) did not return n" in failed["message"]
        assert "submission.call" in failed["message"] and "\n" in failed["message"]
