"""`grade kit`: the candidate gets the prompt, the stub, the public tests and how to
self-check, and nothing of the hidden suite, the reference or the known-bads."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from graders.challenge import REPO_ROOT, list_challenges, load_challenge
from graders.kit import build_kit, toml_text
from graders.validate import known_bad_submission, load_expected
from tests.conftest import REPO, run_grade

CHALLENGES = [c.id for c in list_challenges()]
MIN_LINE = 12  # shorter lines ("return None", "import time") say nothing of a file


def _text_files(root: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _secret_files(challenge_id: str) -> list[Path]:
    challenge = load_challenge(challenge_id)
    return [challenge.reference_path,
            *(p for p in sorted((challenge.root / "hidden").rglob("*")) if p.is_file()),
            *(p for p in sorted((challenge.root / "known_bad").rglob("*")) if p.is_file()),
            *(p for p in sorted((challenge.root / "public_answers").rglob("*")) if p.is_file())]


def _public_lines(challenge_id: str) -> set[str]:
    """Lines the candidate may see anyway: the prompt, stub, driver, helpers, public tests."""
    challenge = load_challenge(challenge_id)
    public = [challenge.root / name for name in ("README.md", "stub.py", "driver.py",
                                                   "conftest.py", "challenge.toml")]
    public += sorted((challenge.root / "public").rglob("*.py"))
    public.append(REPO_ROOT / "sandbox" / "driverkit.py")
    return {line.strip() for path in public if path.is_file()
            for line in path.read_text(encoding="utf-8").splitlines()}


def leaks(kit: Path, challenge_id: str) -> dict[str, list[str]]:
    """Lines of the hidden suite, the reference or a known-bad (as a file, or as the edited
    reference it is graded as) that are in the kit, by the file they come from. A line
    the candidate sees anyway (in the prompt, stub, driver, helpers or public tests) or
    a short one says nothing and is not counted."""
    challenge = load_challenge(challenge_id)
    kit_lines = {line.strip() for text in _text_files(kit).values() for line in text.splitlines()}
    public = _public_lines(challenge_id)
    secrets = {}
    for path in _secret_files(challenge_id):
        try:
            secrets[str(path)] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # data (golden.npy): the digests below cover it
    for name, expected in load_expected(challenge.root / "known_bad").items():
        built, _ = known_bad_submission(challenge, name, expected)
        if built is not None:
            secrets[f"known_bad/{name} (the reference, edited)"] = built.source
    assert len(secrets) > 3
    found: dict[str, list[str]] = {}
    for origin, text in secrets.items():
        lines = [line.strip() for line in text.splitlines()]
        shown = [line for line in lines
                 if len(line) >= MIN_LINE and line not in public and line in kit_lines]
        if shown:
            found[origin] = shown[:3]
    return found


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_the_kit_holds_no_line_of_the_hidden_suite_the_reference_or_a_known_bad(
        challenge_id, tmp_path):
    challenge = load_challenge(challenge_id)
    kit = tmp_path / "kit"
    build_kit(challenge, kit)
    assert leaks(kit, challenge_id) == {}
    kit_files = _text_files(kit)
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in _secret_files(challenge_id)}
    assert not any(hashlib.sha256(p.read_bytes()).hexdigest() in digests for p in kit_files)
    names = {part for p in kit_files for part in p.relative_to(kit).parts}
    assert not names & {"hidden", "known_bad", "reference", "public_answers"}


@pytest.mark.parametrize("leaked", ["hidden", "reference", "known_bad"])
def test_the_leak_check_finds_a_leak(tmp_path, leaked):
    """The check can fail: a kit with one secret file added is caught."""
    challenge = load_challenge("q3_decorator")
    kit = tmp_path / "kit"
    build_kit(challenge, kit)
    source = {"hidden": next((challenge.root / "hidden").glob("test_*.py")),
              "reference": challenge.reference_path,
              "known_bad": challenge.root / "known_bad" / "thread_unsafe.py"}[leaked]
    (kit / "notes.py").write_text(source.read_text())
    assert str(source) in leaks(kit, "q3_decorator")


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_the_kit_holds_the_prompt_the_stub_the_public_tests_and_how_to_self_check(
        challenge_id, tmp_path):
    challenge = load_challenge(challenge_id)
    kit = tmp_path / "kit"
    build_kit(challenge, kit)
    assert (kit / "README.md").read_text() == (challenge.root / "README.md").read_text()
    stub = kit / f"{challenge.config.module}.py"
    assert stub.read_text() == (challenge.root / "stub.py").read_text()
    public = sorted(p.name for p in (challenge.root / "public").glob("*.py"))
    assert public and sorted(p.name for p in (kit / "challenges" / challenge_id / "public")
                             .glob("*.py")) == public
    self_check = (kit / "SELF_CHECK.md").read_text()
    assert f"grade challenges/{challenge_id} {challenge.config.module}.py" in self_check
    config = tomllib.loads((kit / "challenges" / challenge_id / "challenge.toml").read_text())
    assert "validate" not in config and "metrics" not in config.get("performance", {})
    assert load_challenge(kit / "challenges" / challenge_id).suite_dirs() == [
        (kit / "challenges" / challenge_id / "public").resolve()]


def test_the_kit_grades_a_solution_against_the_public_tests(tmp_path):
    kit = tmp_path / "kit"
    run = run_grade("kit", "q3_decorator", kit)
    assert run.exit_code == 0, run.stderr
    solution = kit / "solution.py"
    solution.write_text((REPO / "reference" / "q3_decorator.py").read_text())
    graded = run_grade(kit / "challenges" / "q3_decorator", solution, "--sandbox", "process",
                       json_path=tmp_path / "r.json", cwd=kit)
    assert graded.exit_code == 0, graded.stdout + graded.stderr
    tests = graded.result["tests"]
    assert tests and all(t["visibility"] == "public" and t["status"] == "passed" for t in tests)
    assert graded.result["performance"]["metrics"] == []


def test_the_kit_overwrites_nothing(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    run = run_grade("kit", "q3_decorator", tmp_path)
    assert run.exit_code == 2 and "not an empty directory" in run.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_the_toml_writer_round_trips_every_challenge():
    for challenge in list_challenges():
        raw = tomllib.loads((challenge.root / "challenge.toml").read_text())
        assert tomllib.loads(toml_text(raw)) == raw
