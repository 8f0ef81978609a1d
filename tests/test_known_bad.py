"""Every known-bad submission of every challenge gets the outcome its manifest states."""

import pytest

from graders.challenge import list_challenges
from graders.validate import check_outcome, load_expected
from tests.conftest import run_grade

CASES = [(challenge, name, expected)
         for challenge in list_challenges()
         for name, expected in sorted(load_expected(challenge.root / "known_bad").items())]


@pytest.mark.parametrize(("challenge", "name", "expected"), CASES,
                         ids=[f"{c.id}/{n}" for c, n, _ in CASES])
def test_known_bad_outcome(challenge, name, expected, backend, tmp_path):
    from graders.result import Result

    run = run_grade(challenge.root, challenge.root / "known_bad" / f"{name}.py",
                    "--sandbox", backend, json_path=tmp_path / "r.json")
    assert run.result is not None, run.stderr
    result = Result.from_dict(run.result)
    assert check_outcome(result, expected) == []
    assert run.exit_code == (0 if expected.status == "passed" else 1)
