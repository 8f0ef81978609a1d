"""Challenge validation: does the harness give each known submission its expected outcome?

`known_bad/outcomes.toml` states, for each known-bad file, the run status, the
tests that must not pass (and whether they are the only ones), and the metrics
that must fail or pass. `check_outcome` compares a result with that: pure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from graders.errors import UsageError
from graders.result import Result


@dataclass(frozen=True)
class Expected:
    status: str
    fail: list[str] = field(default_factory=list)
    exactly: bool = False
    fail_metrics: list[str] = field(default_factory=list)
    pass_metrics: list[str] = field(default_factory=list)


def load_expected(known_bad: Path) -> dict[str, Expected]:
    path = known_bad / "outcomes.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        expected = {name: Expected(**entry) for name, entry in raw.items()}
    except (OSError, tomllib.TOMLDecodeError, TypeError) as exc:
        raise UsageError(f"{path} is missing or invalid ({exc}); fix it.") from None
    files = {p.stem for p in known_bad.glob("*.py")}
    if files != set(expected):
        raise UsageError(f"{path} must list exactly the files of {known_bad} "
                         f"(unlisted: {sorted(files - set(expected))}, "
                         f"missing: {sorted(set(expected) - files)}).")
    return expected


def _base_name(test_name: str) -> str:
    return test_name.split("[", 1)[0]


def check_outcome(result: Result, expected: Expected) -> list[str]:
    """The ways `result` differs from `expected`; empty when it matches."""
    problems = []
    if result.status != expected.status:
        problems.append(f"status is {result.status}, expected {expected.status}")
    not_passed = {_base_name(t.name) for t in result.tests if t.status != "passed"}
    for name in expected.fail:
        if name not in not_passed:
            problems.append(f"{name} passed but must not")
    if expected.exactly and not_passed - set(expected.fail):
        problems.append(f"unexpected failures: {sorted(not_passed - set(expected.fail))}")
    verdicts = {m.name: m.verdict for m in result.performance.metrics}
    for name in expected.fail_metrics:
        if verdicts.get(name) != "fail":
            problems.append(f"metric {name} is {verdicts.get(name)}, expected fail")
    for name in expected.pass_metrics:
        if verdicts.get(name) != "pass":
            problems.append(f"metric {name} is {verdicts.get(name)}, expected pass")
    return problems
