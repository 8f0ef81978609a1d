"""The pytest plugin that runs a challenge's suite against one worker proxy.

It provides the `submission` fixture, sets hypothesis up for reproducible runs
(seeded, no example database, no hypothesis deadline: the proxy enforces
deadlines itself) and turns each test's outcome into a `TestResult`, keeping a
hidden test's source and inputs out of its message.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from graders.protocol import printable
from graders.proxy import ImportFailed, SubmissionRaised, WorkerFailure, WorkerProxy
from graders.result import TestResult

MAX_PUBLIC_MESSAGE = 3000
GENERIC_HIDDEN_MESSAGE = "did not behave as the contract states"

settings.register_profile(
    "graders",
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class NotGraded(Exception):
    """The submission does not import, so this test could not run."""


class GradingPlugin:
    def __init__(self, proxy: WorkerProxy, category_weights: dict[str, float],
                 import_error: str | None, hidden_messages: bool, budget_s: float) -> None:
        self.proxy = proxy
        self.budget_s = budget_s
        self.deadline = time.monotonic() + budget_s
        self.weights = category_weights
        self.import_error = import_error
        self.hidden_messages = hidden_messages
        self.results: list[TestResult] = []
        self._started: dict[str, float] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "category(name): core, robustness or excellence")
        settings.load_profile("graders")

    @pytest.fixture
    def submission(self) -> WorkerProxy:
        if self.import_error is not None:
            raise NotGraded(self.import_error)
        if time.monotonic() > self.deadline:  # a hostile submission cannot stretch a run
            pytest.skip(f"not run: the run's time budget of {self.budget_s:g} s was spent")
        self.proxy.load()
        return self.proxy

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.results.append(self._record(item, call, report))
        return report

    def _record(self, item: pytest.Item, call: pytest.CallInfo[None],
                report: pytest.TestReport) -> TestResult:
        marker = item.get_closest_marker("category")
        category = marker.args[0] if marker else "core"
        visibility = "public" if "public" in Path(str(item.path)).parts else "hidden"
        doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
        status, message = self._outcome(call, report, visibility)
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
                 visibility: str) -> tuple[str, str]:
        if report.passed:
            return "passed", ""
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            return "skipped", reason.removeprefix("Skipped: ")
        exc = call.excinfo.value if call.excinfo else None
        if isinstance(exc, WorkerFailure):
            return exc.status, str(exc)
        if isinstance(exc, NotGraded | ImportFailed):
            return "error", f"not graded: {exc}"
        if isinstance(exc, pytest.fail.Exception) and str(exc).startswith("Timeout"):
            self.proxy.close()  # the worker may still be busy with the abandoned call
            return "timeout", "the test did not finish within its time limit"
        if visibility == "public":
            return "failed", report.longreprtext[-MAX_PUBLIC_MESSAGE:]
        if isinstance(exc, SubmissionRaised):
            return "failed", f"the submission raised {exc.kind}"
        if isinstance(exc, AssertionError) and exc.args and self.hidden_messages:
            return "failed", str(exc.args[0]).splitlines()[0][:300]
        return "failed", GENERIC_HIDDEN_MESSAGE
