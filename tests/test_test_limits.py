"""A failing test costs seconds, and its status never depends on the machine's load.

Shrinking a failure is bounded by a time budget; a test's time limit is enforced
by the proxy, from outside the test, and reported as `timeout` with the
counterexample found so far (in public tests only); a worker failure met while
shrinking does not change the status the first failure decided.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import Q3, REPO, run_grade
from tests.test_suite_errors import PROBE_REFERENCE, copy_probe, grade_probe

SLOW_SHRINK = '''
from hypothesis import given, settings, strategies as st

from graders.testing import core


@core
@settings(max_examples=100)
@given(xs=st.lists(st.integers(0, 1000), min_size=1, max_size=30))
def test_slow_to_shrink(submission, xs):
    """Fails for large sums; every example makes a slow call."""
    submission.call("sleep", seconds=0.2)
    assert sum(xs) < 2000, "the sum is too large"
'''

# The first example fails at once; every later one (the shrink) calls, and what that
# call does is the test's: hang, or crash the worker.
FAIL_THEN = '''
import itertools

from hypothesis import given, settings, strategies as st

from graders.testing import core

_examples = itertools.count()


@core
@settings(max_examples=20)
@given(xs=st.lists(st.integers(), min_size=3, max_size=3))
def test_fails_then_{name}(submission, xs):
    """The first example fails; the others {name}."""
    if next(_examples) == 0:
        assert False, "the first example fails"
    {call}
'''
HANG = 'submission.call("sleep", seconds=30, timeout=60)'
CRASH = 'submission.call("work", n=-1)'


def _add_test(root: Path, visibility: str, name: str, source: str) -> None:
    (root / visibility).mkdir(exist_ok=True)
    (root / visibility / f"test_{name}.py").write_text(source)


def _tests(run) -> dict[str, dict]:
    assert run.result is not None, (run.stdout, run.stderr)
    return {t["name"]: t for t in run.result["tests"]}


def test_shrinking_a_failure_stops_after_its_time_budget(tmp_path):
    root = copy_probe(tmp_path, test_timeout_s=60)
    _add_test(root, "public", "slow_shrink", SLOW_SHRINK)
    start = time.monotonic()
    run = grade_probe(root, json_path=tmp_path / "result.json", timeout=120)
    elapsed = time.monotonic() - start
    test = _tests(run)["test_slow_to_shrink"]
    assert test["status"] == "failed", test
    assert "Falsifying example" in test["message"] and "xs=" in test["message"]
    assert test["duration_s"] < 15, test  # ~5 s of shrinking, not a full shrink at 0.2 s a step
    assert elapsed < 30


def test_the_time_limit_is_enforced_from_outside_with_the_counterexample_so_far(tmp_path):
    root = copy_probe(tmp_path, test_timeout_s=3)
    for visibility in ("public", "hidden"):
        _add_test(root, visibility, f"hang_{visibility}",
                  FAIL_THEN.format(name=f"hang_{visibility}", call=HANG))
    run = grade_probe(root, json_path=tmp_path / "result.json", timeout=60)
    tests = _tests(run)
    public, hidden = tests["test_fails_then_hang_public"], tests["test_fails_then_hang_hidden"]
    for test in (public, hidden):
        assert test["status"] == "timeout", test
        assert test["message"].startswith("the test did not finish within its time limit of 3 s")
        assert 2.5 < test["duration_s"] < 10, test
    assert "the latest failing example" in public["message"]
    assert "xs=" in public["message"] and "the first example fails" in public["message"]
    assert "xs=" not in hidden["message"] and "example" not in hidden["message"]
    assert _tests(run)["test_work_returns_n"]["status"] == "passed"  # the next test is served


def test_a_worker_failure_while_shrinking_leaves_the_status_to_the_failure_found(tmp_path):
    root = copy_probe(tmp_path)
    for visibility in ("public", "hidden"):
        _add_test(root, visibility, f"crash_{visibility}",
                  FAIL_THEN.format(name=f"crash_{visibility}", call=CRASH))
    crasher = tmp_path / "crasher.py"
    crasher.write_text(PROBE_REFERENCE.read_text() + (
        "\n\nimport os\n_work = work\n\n\ndef work(n):\n"
        "    if n < 0:\n        os._exit(3)\n    return _work(n)\n"))
    run = grade_probe(root, crasher, json_path=tmp_path / "result.json", timeout=60)
    tests = _tests(run)
    public, hidden = tests["test_fails_then_crash_public"], tests["test_fails_then_crash_hidden"]
    assert public["status"] == hidden["status"] == "failed", (public, hidden)
    assert hidden["message"] == "the first example fails"
    assert "while shrinking a failure" in public["message"] and "xs=" in public["message"]


FIFO_FIND = "                            move_to_end(key)\n                            hits += 1\n"
FIFO_REPLACE = "                            hits += 1\n"


def test_a_failing_model_test_costs_seconds_and_the_same_statuses_every_run(tmp_path):
    # A hit that does not refresh recency (FIFO, not LRU): the model test fails, and
    # shrinking its counterexample took 50-120 s before the shrink budget.
    reference = (REPO / "reference" / "q3_decorator.py").read_text()
    assert reference.count(FIFO_FIND) == 1
    submission = tmp_path / "fifo.py"
    submission.write_text(reference.replace(FIFO_FIND, FIFO_REPLACE))
    statuses = []
    # Hypothesis loads its "ci" profile (derandomized: another seed) where CI is set;
    # the grade must not change with it.
    for attempt, ci in enumerate([None, "true"]):
        start = time.monotonic()
        run = run_grade(Q3, submission, "--sandbox", "process", env={"CI": ci},
                        json_path=tmp_path / f"result{attempt}.json", timeout=120)
        assert time.monotonic() - start < 30, "a failing grade of q3_decorator took 30 s or more"
        tests = _tests(run)
        assert tests["test_behaves_like_the_model"]["status"] == "failed"
        statuses.append({name: test["status"] for name, test in tests.items()})
    assert statuses[0] == statuses[1]


SLOW_TEST = '''
from graders.testing import core


@core
def test_a_slow_start(submission):
    """Calls work again and again: each call takes the submission over a second."""
    for _ in range(20):
        assert submission.call("work", n=5) == 5
'''


def test_a_hostile_run_ends_within_its_budget_performance_phase_included(tmp_path):
    """Every call of the submission takes 1.5 s (under the 2 s call deadline): its
    tests and its timed calls would take minutes; the run's budget of 6 s ends it."""
    root = copy_probe(tmp_path, metrics=True, run_budget_s=6)
    _add_test(root, "hidden", "a_slow_start", SLOW_TEST)
    slow = tmp_path / "slow.py"
    slow.write_text("import time\n\n\ndef work(n):\n    time.sleep(1.5)\n    return n\n\n\n"
                    "def steps(n):\n    return n\n")
    start = time.monotonic()
    run = grade_probe(root, slow, json_path=tmp_path / "result.json", timeout=120)
    elapsed = time.monotonic() - start
    assert elapsed < 6 + 5, f"the run took {elapsed:.1f} s against a budget of 6 s"
    tests = _tests(run)
    cut = tests["test_a_slow_start"]
    assert cut["status"] == "timeout", cut
    assert cut["message"].startswith("the run's time budget of 6 s was spent"), cut
    assert {t["status"] for name, t in tests.items() if name > "test_a_slow_start"} == {
        "skipped"}, tests
    metrics = {m["name"]: m for m in run.result["performance"]["metrics"]}
    for metric in metrics.values():
        assert metric["verdict"] == "fail", metric
        assert "the run's time budget was spent" in metric["message"], metric
