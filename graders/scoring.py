"""Scoring: pure functions from test outcomes and metric verdicts to a grade."""

from __future__ import annotations

from collections.abc import Sequence

from graders.result import MetricResult, RunStatus, TestResult

REQUIRED_CATEGORIES = ("core", "robustness")


def tests_score(tests: Sequence[TestResult]) -> tuple[float, float]:
    """(points earned, points available) from the tests; skipped tests count as available."""
    return (
        sum(t.weight for t in tests if t.status == "passed"),
        sum(t.weight for t in tests),
    )


def performance_score(metrics: Sequence[MetricResult]) -> tuple[float, float]:
    return (
        sum(m.weight for m in metrics if m.verdict == "pass"),
        sum(m.weight for m in metrics),
    )


def decide(
    tests: Sequence[TestResult],
    metrics: Sequence[MetricResult],
    pass_mark: float,
    import_error: str | None = None,
) -> tuple[RunStatus, float, float, str]:
    """(status, score, max_score, message) of a run. See DESIGN §4 for the rule."""
    earned_t, total_t = tests_score(tests)
    earned_p, total_p = performance_score(metrics)
    score, max_score = round(earned_t + earned_p, 6), round(total_t + total_p, 6)
    if import_error is not None:
        return "error", 0.0, max_score, f"Not graded: {import_error}."
    if not tests:
        return "error", 0.0, max_score, "Not graded: the challenge's suite has no tests."
    reasons = []
    failing = [t for t in tests if t.category in REQUIRED_CATEGORIES and t.status != "passed"]
    if failing:
        reasons.append(f"{len(failing)} required test(s) did not pass")
    for metric in metrics:
        if metric.required and metric.verdict == "fail":
            reasons.append(f"required metric {metric.name} failed")
        elif metric.required and metric.verdict == "inconclusive":
            reasons.append(f"required metric {metric.name} was inconclusive "
                           "(re-run on a quieter machine)")
    if score < pass_mark * max_score - 1e-9:
        reasons.append(f"score {score:g} is below the pass mark {pass_mark * max_score:g}")
    if reasons:
        return "failed", score, max_score, "Not passed: " + "; ".join(reasons) + "."
    return "passed", score, max_score, "Passed: every required test and metric passed."
