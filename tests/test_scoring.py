"""Scoring is a pure function of test outcomes and metric verdicts (DESIGN §4)."""

import pytest

from graders.result import Category, MetricResult, TestResult, TestStatus, Verdict
from graders.scoring import decide


def _test(category: Category, status: TestStatus, weight: float = 2.0) -> TestResult:
    return TestResult(id=f"t-{category}", name="t", description="d", category=category,
                      weight=weight, status=status, duration_s=0.0, message="",
                      visibility="hidden")


def _metric(verdict: Verdict, required: bool = True, weight: float = 5.0) -> MetricResult:
    return MetricResult(name="m", description="d", kind="time", unit="s", submission=1.0,
                        reference=1.0, ratio=1.0, interval=[0.9, 1.1],
                        threshold={"ratio": 2.0}, verdict=verdict, required=required,
                        weight=weight, rounds=10, overhead_s=0.0)


ALL_PASS = [_test("core", "passed"), _test("robustness", "passed"), _test("excellence", "passed")]


def test_everything_passes():
    assert decide(ALL_PASS, [_metric("pass")], 0.7)[:3] == ("passed", 11.0, 11.0)


def test_excellence_is_optional():
    tests = [*ALL_PASS[:2], _test("excellence", "failed")]
    status, score, max_score, _ = decide(tests, [_metric("pass")], 0.7)
    assert (status, score, max_score) == ("passed", 9.0, 11.0)


@pytest.mark.parametrize("category", ["core", "robustness"])
@pytest.mark.parametrize("status", ["failed", "timeout", "crashed", "error", "skipped"])
def test_any_required_test_not_passing_fails_the_run(category, status):
    tests = [_test(c, status if c == category else "passed")
             for c in ("core", "robustness", "excellence")]
    assert decide(tests, [], 0.0)[0] == "failed"


def test_required_metric_fail_or_inconclusive_blocks_a_pass():
    assert decide(ALL_PASS, [_metric("fail")], 0.0)[0] == "failed"
    status, _, _, message = decide(ALL_PASS, [_metric("inconclusive")], 0.0)
    assert status == "failed" and "inconclusive" in message and "quieter" in message


def test_optional_metric_only_costs_points():
    status, score, _, _ = decide(ALL_PASS, [_metric("fail", required=False)], 0.5)
    assert (status, score) == ("passed", 6.0)


def test_pass_mark():
    assert decide(ALL_PASS, [_metric("fail", required=False, weight=100)], 0.5)[0] == "failed"


def test_import_error_scores_zero():
    status, score, max_score, message = decide(ALL_PASS, [], 0.7, "it has a syntax error")
    assert (status, score, max_score) == ("error", 0.0, 6.0)
    assert "syntax error" in message


def test_empty_suite_is_an_error():
    assert decide([], [], 0.7)[0] == "error"
