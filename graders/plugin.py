"""The pytest plugin that runs a challenge's suite against one worker proxy.

It provides the `submission` fixture, sets hypothesis up for reproducible runs
(seeded, no example database, no hypothesis deadline: the proxy enforces
deadlines itself) and turns each test's outcome into a `TestResult`, keeping a
hidden test's source and inputs out of its message.

Time. Each test has a time limit (`limits.test_timeout_s`), enforced by the proxy
from outside the test: once it has passed, every call raises `TestTimeout`, a
BaseException, so hypothesis stops at once and the test is `timeout`. Shrinking a
failure stops after `SHRINK_BUDGET_S`, with the smallest counterexample found by
then, so a failing test costs seconds.

Reproducibility. A test's status never depends on how far shrinking got: it is
decided by the first failure hypothesis finds, while generating examples from the
seed (derandomized, never cut short by time). Shrinking only chooses the
counterexample shown, so on a loaded machine a public test may show a larger one.
Hence one failure per test (`report_multiple_bugs=False`: which failures a shrink
meets would depend on time), and a worker failure met while shrinking an earlier
failure (a crash, a call's deadline) leaves the test `failed`. The test's own time
limit is the one boundary that depends on the machine, as any time limit does:
generation plus the shrink budget stays far below it.
Nor does it depend on threads an earlier test left behind: after a test that did not
pass, a worker still running threads besides its main one is replaced by a fresh one.

Broken challenges. A test or conftest that does not import is recorded here, and
the run then ends with a `ChallengeError` naming the file (see `runner.run_suite`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.config import ConftestImportFailure
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal import observability
from hypothesis.internal.conjecture import engine as hypothesis_engine

from graders.errors import ChallengeError
from graders.protocol import printable
from graders.proxy import (
    ImportFailed,
    SubmissionRaised,
    TestTimeout,
    WorkerFailure,
    WorkerProxy,
)
from graders.result import Category, TestResult, TestStatus, Visibility
from graders.testing import Submission

MAX_PUBLIC_MESSAGE = 3000
MAX_EXAMPLE_CHARS = 1500
GENERIC_HIDDEN_MESSAGE = "did not behave as the contract states"
# Seconds hypothesis may spend shrinking a test's failure (at most a quarter of the
# test's time limit); then it reports the smallest counterexample found so far.
SHRINK_BUDGET_S = 5.0

# The parent is hypothesis's own default, named: the profile in force at import is
# "ci" wherever a CI variable is set, and its derandomize would replace our seed.
settings.register_profile(
    "graders",
    parent=settings.get_profile("default"),
    derandomize=False,  # seeded by the runner (--hypothesis-seed), never by the environment
    database=None,
    deadline=None,
    print_blob=False,
    report_multiple_bugs=False,  # one failure per test, whatever the shrink meets
    # no explain phase: it traces every example once a failure is found, several times slower
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class NotGraded(Exception):
    """The submission does not import, so this test could not run."""


class GradingPlugin:
    def __init__(self, proxy: WorkerProxy, category_weights: dict[str, float],
                 import_error: str | None, hidden_messages: bool, budget_s: float,
                 test_timeout_s: float, feedback: str = "descriptions",
                 deadline: float | None = None) -> None:
        self.proxy = proxy
        self.feedback = feedback  # full: hidden tests' failures shown as public ones are
        self.budget_s = budget_s
        self.deadline = time.monotonic() + budget_s if deadline is None else deadline
        self.test_timeout_s = test_timeout_s
        self.weights = category_weights
        self.import_error = import_error
        self.hidden_messages = hidden_messages
        self.results: list[TestResult] = []
        # test files and conftests that do not import: path -> what they raised
        self.broken_files: dict[Path, str] = {}
        self.fault_test: str | None = None  # the test that met proxy.challenge_fault
        self._described: set[str] = set()  # collection failures whose exception was seen
        self._rootpath = Path.cwd()
        self._started: dict[str, float] = {}
        self._failure: observability.TestCaseObservation | None = None  # this test's latest
        self._saved_hypothesis: tuple[Any, Any] | None = None

    # -- session ---------------------------------------------------------------

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "category(name): core, robustness or excellence")
        settings.load_profile("graders")
        self._rootpath = config.rootpath
        # Both are hypothesis's to be patched (see their comments there), restored below.
        self._saved_hypothesis = (hypothesis_engine.MAX_SHRINKING_SECONDS,
                                  observability.OBSERVABILITY_COLLECT_COVERAGE)
        hypothesis_engine.MAX_SHRINKING_SECONDS = min(  # type: ignore[assignment]
            SHRINK_BUDGET_S, self.test_timeout_s / 4)
        observability.OBSERVABILITY_COLLECT_COVERAGE = False  # tracing would slow every example

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._saved_hypothesis is not None:
            (hypothesis_engine.MAX_SHRINKING_SECONDS,
             observability.OBSERVABILITY_COLLECT_COVERAGE) = self._saved_hypothesis

    @pytest.hookimpl(wrapper=True)
    def pytest_load_initial_conftests(self) -> Generator[None, Any, Any]:
        try:
            return (yield)
        except ConftestImportFailure as exc:  # pytest then ends before collecting anything
            self.broken_files.setdefault(Path(exc.path), describe_exception(exc.cause))
            raise

    def pytest_exception_interact(self, node: pytest.Item | pytest.Collector,
                                  call: pytest.CallInfo[Any],
                                  report: pytest.CollectReport | pytest.TestReport) -> None:
        if isinstance(report, pytest.CollectReport) and report.failed and call.excinfo:
            self._described.add(report.nodeid)
            error = call.excinfo.value
            if isinstance(error, ConftestImportFailure):
                self.broken_files.setdefault(Path(error.path), describe_exception(error.cause))
            else:
                self.broken_files.setdefault(Path(str(node.path)), describe_exception(error))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A collection failure pytest_exception_interact did not see: its report must do.
        if report.failed and report.nodeid not in self._described:
            error = _last_line(report.longreprtext) or "it failed to collect"
            self.broken_files.setdefault(self._rootpath / report.fspath, error)

    # -- tests -------------------------------------------------------------------

    @pytest.fixture
    def submission(self) -> Iterator[Submission]:
        if self.import_error is not None:
            raise NotGraded(self.import_error)
        left = self.deadline - time.monotonic()
        if left <= 0:  # a hostile submission cannot stretch a run
            pytest.skip(f"not run: the run's time budget of {self.budget_s:g} s was spent")
        if left < self.test_timeout_s:  # nor overrun the budget inside its last test
            self.proxy.limit_test(left, f"the run's time budget of {self.budget_s:g} s was "
                                        "spent before the test finished")
        else:
            self.proxy.limit_test(self.test_timeout_s)
        try:
            self.proxy.load()
            yield Submission(self.proxy)
        finally:
            self.proxy.limit_test(None)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()
        self._failure = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        # Hypothesis tells each example's outcome to observers: the latest failing one
        # is the counterexample so far, should the test end before hypothesis reports it.
        with observability.with_observability_callback(self._observe):
            return (yield)

    def _observe(self, observation: observability.Observation) -> None:
        if (isinstance(observation, observability.TestCaseObservation)
                and observation.status == "failed"):
            self._failure = observation

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._record(item, call, report))
        if self.proxy.challenge_fault is not None:
            if self.fault_test is None:
                self.fault_test = item.nodeid
                item.session.shouldstop = "the challenge is broken"
        elif report.when == "call" and not report.passed:
            self._drop_worker_if_threads_remain()
        return report

    def _drop_worker_if_threads_remain(self) -> None:
        """After a test that did not pass: threads it left (a call hung, say) may still
        spin in the worker and slow the next tests, so they get a fresh worker."""
        try:
            if self.proxy.stray_threads():
                self.proxy.close()
        except WorkerFailure:
            pass  # the worker is gone already: the next test starts a fresh one

    def _record(self, item: pytest.Item, call: pytest.CallInfo[None],
                report: pytest.TestReport) -> TestResult:
        marker = item.get_closest_marker("category")
        category: Category = marker.args[0] if marker else "core"
        visibility: Visibility = "public" if "public" in Path(str(item.path)).parts else "hidden"
        doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
        shown_as = "public" if self.feedback == "full" else visibility
        status, message = self._outcome(call, report, shown_as)
        message = printable(message)  # worker-sourced text may hide terminal escapes
        return TestResult(
            id=item.nodeid,
            name=item.name,
            description=doc.splitlines()[0] if doc else item.name,
            category=category,
            weight=self.weights.get(category, 0.0),
            status=status,
            duration_s=round(time.perf_counter() - self._started.get(item.nodeid, 0.0), 4),
            message=message,
            visibility=visibility,
        )

    def _outcome(self, call: pytest.CallInfo[None], report: pytest.TestReport,
                 visibility: str) -> tuple[TestStatus, str]:
        if report.passed:
            return "passed", ""
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            return "skipped", reason.removeprefix("Skipped: ")
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, ChallengeError):
            return "error", str(exc)
        if isinstance(exc, WorkerFailure):
            return self._worker_failure(exc, visibility)
        if isinstance(exc, NotGraded | ImportFailed):
            return "error", f"not graded: {exc}"
        if visibility == "public":
            return "failed", report.longreprtext[-MAX_PUBLIC_MESSAGE:]
        if isinstance(exc, SubmissionRaised):
            return "failed", f"the submission raised {exc.kind}"
        if isinstance(exc, AssertionError) and exc.args and self.hidden_messages:
            return "failed", str(exc.args[0]).splitlines()[0][:300]
        return "failed", GENERIC_HIDDEN_MESSAGE

    def _worker_failure(self, exc: WorkerFailure, visibility: str) -> tuple[TestStatus, str]:
        """A test ended by its worker or its time limit, perhaps while shrinking a failure."""
        failure = self._failure
        if failure is None:
            return exc.status, str(exc)
        # Hypothesis had found a failure: shown as the counterexample so far (public tests).
        example = (f"; the latest failing example:\n{failure.representation[:MAX_EXAMPLE_CHARS]}"
                   f"\n{_last_line(failure.metadata.traceback)}")
        if isinstance(exc, TestTimeout):
            return "timeout", str(exc) + (example if visibility == "public" else "")
        # Where shrinking met this depends on time, so the failure found decides the status.
        if visibility == "public":
            return "failed", f"{exc}, while shrinking a failure{example}"
        assertion = _last_line(failure.metadata.traceback)
        if self.hidden_messages and assertion.startswith("AssertionError: "):
            return "failed", assertion.removeprefix("AssertionError: ")[:300]
        return "failed", GENERIC_HIDDEN_MESSAGE


def _last_line(text: str | None) -> str:
    """The last line of a traceback (pytest marks it `E   `): the exception raised."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return re.sub(r"^E\s+", "", lines[-1].strip()) if lines else ""


def describe_exception(error: BaseException) -> str:
    """What a test file or conftest raised on import, in one line."""
    if isinstance(error, pytest.Collector.CollectError) and error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, SyntaxError):
        where = f" at line {error.lineno}" if error.lineno else ""
        return f"SyntaxError{where}: {error.msg}"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
