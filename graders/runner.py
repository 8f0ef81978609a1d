"""One grading run: sandbox, suite, performance, result. The only orchestration."""

from __future__ import annotations

import importlib
import io
import sys
import time
import types
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

from graders import __version__, scoring, timing_lock
from graders.challenge import REPO_ROOT, Challenge, Metric, PerformanceConfig, driver_operations
from graders.errors import ChallengeError
from graders.feedback import FeedbackLevel, apply_level
from graders.proxy import MissingOperation, WorkerProxy
from graders.result import (
    PHASES,
    ChallengeInfo,
    HarnessInfo,
    MetricResult,
    Performance,
    Phase,
    PhaseName,
    Result,
    SubmissionInfo,
    TestResult,
)
from graders.sandbox import Backend, open_backend
from graders.submission import Submission, read_submission

# What the suite and the performance phase use, ~0.3 s of imports (pytest, hypothesis,
# numpy): imported by grade() while the first worker starts, not before it.
SUITE_TOOLS = ("pytest", "graders.plugin", "graders.performance")


def make_proxy(backend: Backend, challenge: Challenge, source: str, job: str) -> WorkerProxy:
    limits = challenge.config.limits
    return WorkerProxy(
        backend, challenge.limits, challenge_id=challenge.id, module=challenge.config.module,
        source=source, call_timeout_s=limits.call_timeout_s,
        load_timeout_s=limits.load_timeout_s, job=job,
        operations=frozenset(driver_operations(challenge.root / "driver.py")),
    )


def run_suite(challenge: Challenge, proxy: WorkerProxy, seed: int,
              import_error: str | None, feedback: str = "descriptions",
              only: Collection[str] | None = None,
              deadline: float | None = None) -> list[TestResult]:
    """Run the public and hidden tests here, on the trusted side, against `proxy`
    (with `only`, just the tests whose names contain one of those test names), until
    `deadline` (time.monotonic(); default: the run's budget from now).

    Raises ChallengeError if a test file or conftest does not import, or the proxy found
    the challenge's driver broken: the author's error, which no grade should hide.
    """
    import pytest

    from graders.plugin import GradingPlugin

    weights = {str(k): v for k, v in challenge.config.scoring.categories.items()}
    limits = challenge.config.limits
    plugin = GradingPlugin(proxy, weights, import_error,
                           challenge.config.feedback.hidden_messages,
                           limits.run_budget_s, limits.test_timeout_s, feedback=feedback,
                           deadline=deadline)
    args = [
        *map(str, challenge.suite_dirs()),
        f"--rootdir={challenge.root}", "--import-mode=importlib", "-p", "no:cacheprovider",
        "--assert=plain", "--tb=short", f"--hypothesis-seed={seed}", "-q", "--no-header",
        "-p", "no:timeout",  # the proxy enforces each test's time limit (see plugin.py)
        # No submitted code runs in this process, so nothing here raises unraisable
        # exceptions (that plugin's five gc passes cost ~0.2 s a run); nor do the suites
        # use anyio, pytest-benchmark or (the project's own tests do) pytest-xdist, which
        # would be imported for every run.
        "-p", "no:unraisableexception", "-p", "no:anyio", "-p", "no:benchmark",
        "-p", "no:xdist",
        "-c", "/dev/null",
        *(["-k", " or ".join(sorted(only))] if only else []),
    ]
    sink = io.StringIO()  # pytest's own terminal report is not ours to show
    with redirect_stdout(sink), redirect_stderr(sink), _forgetting_modules_of(challenge.root):
        pytest.main(args, plugins=[plugin])
    if plugin.broken_files:
        (path, error), *others = plugin.broken_files.items()
        where = path.relative_to(challenge.root) if path.is_relative_to(challenge.root) else path
        more = f" (and {len(others)} more file(s))" if others else ""
        raise ChallengeError(f"challenge {challenge.id!r} is broken: {where} does not import "
                             f"({error}){more}; fix that file.")
    fault = proxy.challenge_fault
    if fault is not None:
        if isinstance(fault, MissingOperation) and plugin.fault_test is not None:
            fault.caller = f"test {plugin.fault_test}"
        raise fault
    return plugin.results


@contextmanager
def _forgetting_modules_of(root: Path) -> Iterator[None]:
    """Drop from sys.modules what a suite run imported from `root` (its test files, which
    importlib mode names `hidden.test_core` in every challenge, and its `conftest`), so
    the next suite graded in this process, another challenge's, imports its own."""
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if any(Path(place).is_relative_to(root) for place in _places(sys.modules[name])):
                del sys.modules[name]


def _places(module: types.ModuleType) -> list[str]:
    """Where a module was loaded from: its file, or a namespace package's directories."""
    places = [getattr(module, "__file__", None)]
    spec = getattr(module, "__spec__", None)
    try:  # an extension module's spec may hold anything
        places += list(getattr(spec, "submodule_search_locations", None) or [])
    except TypeError:
        pass
    return [place for place in places if isinstance(place, str) and place]


def grade(challenge: Challenge, submission: Submission, *, sandbox: str = "auto",
          seed: int | None = None, repo_root: Path = REPO_ROOT,
          measure: bool = True, feedback: FeedbackLevel | None = None,
          only: Collection[str] | None = None, metrics: Collection[str] | None = None,
          backend: Backend | None = None) -> Result:
    """Grade `submission`: the suite, then (unless `measure` is False) the metrics.

    `feedback` (default: the challenge's level) decides what the result keeps; `only`
    (validation's quick form) runs just the tests of those names, and `metrics`
    (validation) measures just the metrics of those names. `backend`, given,
    is used (and closed) in place of the one `sandbox` names: the project's tests pass
    a fake, as an HTTP client is given a mock transport; `--sandbox` never can."""
    level = feedback or challenge.config.feedback.level
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    start = time.perf_counter()
    # One budget for the whole run, performance phase included: a hostile submission
    # costs at most this (plus a call's kill and the teardown), never a stalled batch.
    deadline = time.monotonic() + challenge.config.limits.run_budget_s
    seed = challenge.config.seed if seed is None else seed
    notices: list[str] = []
    if backend is None:
        backend = open_backend(sandbox, repo_root, challenge.root.parent, notices)
    if not backend.isolated:
        notices.append("This run was NOT isolated: the process backend runs the submission "
                       "as you, on this machine. Hiring teams should grade with Docker.")
    job = uuid.uuid4().hex[:8]
    proxy = make_proxy(backend, challenge, submission.source, job)
    reference: WorkerProxy | None = None  # made only to measure: a kit has no reference
    perf = Performance()
    phases: list[Phase] = []
    # No performance phase on this host may overlap this run's correctness work: wait
    # for any that runs or waits (no part of the run's own time, so the budget moves on
    # by it), then hold it off until this run's own performance phase or its end.
    waited = timing_lock.hold_for_correctness()
    deadline += waited
    try:
        proxy.warm_spare()  # the first worker starts while the suite's tools import
        for tool in SUITE_TOOLS:
            importlib.import_module(tool)
        import_error = proxy.probe()
        probed = time.perf_counter()
        # Up to the first import's request, the run was starting: backend, proxy, worker
        # (and, meanwhile, the suite's tools importing).
        phases += [_phase("start", probed - start - waited - proxy.import_s),
                   _phase("import", proxy.import_s)]
        config = challenge.config.performance
        if metrics is not None:
            config = config.model_copy(update={
                "metrics": [m for m in config.metrics if m.name in metrics]})
        measuring = measure and import_error is None and bool(config.metrics)
        if measuring:  # the performance phase's two fresh workers start while the suite runs
            reference = make_proxy(backend, challenge,
                                   read_submission(challenge.reference_path).source, f"{job}-ref")
            proxy.warm_spare()
            reference.warm_spare()
        tests = run_suite(challenge, proxy, seed, import_error, level, only, deadline)
        proxy.close()
        phases.append(_phase("suite", time.perf_counter() - probed))
        if reference is not None:
            perf = measure_performance(challenge, proxy, reference, seed, phases, deadline,
                                       config)
    finally:
        timing_lock.release_correctness_lock()  # if no performance phase did
        closing = time.perf_counter()
        for side in (proxy, reference):
            if side is not None:
                side.close()
                side.close_spare()
        backend.close()
        phases.append(_phase("teardown", time.perf_counter() - closing))
    phases = _waited_for_the_lock(phases, waited)
    status, score, max_score, message = scoring.decide(
        tests, perf.metrics, challenge.config.scoring.pass_mark, import_error)
    result = Result(
        status=status, score=score, max_score=max_score, message=message,
        challenge=ChallengeInfo(id=challenge.id, version=challenge.config.version,
                                title=challenge.config.title,
                                suite_sha256=challenge.suite_sha256()),
        submission=SubmissionInfo(path=str(submission.path), sha256=submission.sha256),
        harness=HarnessInfo(version=__version__),
        sandbox=backend.describe(challenge.limits),
        seed=seed, started_at=started_at, duration_s=round(time.perf_counter() - start, 3),
        tests=tests, performance=perf,
        candidate_output=proxy.candidate_output(),
        notices=notices, timings=phases,
    )
    return apply_level(result, level)


def _waited_for_the_lock(phases: list[Phase], before_start: float) -> list[Phase]:
    """The phases with the wait before the run began added to the `lock` phase: one
    figure for the time spent waiting for other runs' performance phases."""
    others = [p for p in phases if p.name != "lock"]
    if len(others) == len(phases) and before_start < 1e-4:  # never waited: no lock phase
        return phases
    lock = sum(p.seconds for p in phases if p.name == "lock") + before_start
    return sorted([*others, _phase("lock", lock)], key=lambda p: PHASES.index(p.name))


def _phase(name: PhaseName, seconds: float, rounds: int | None = None,
          rounds_s: float | None = None) -> Phase:
    """A phase as a result records it: seconds to 0.1 ms, never below 0 (`start` is a
    difference of differences)."""
    return Phase(name=name, seconds=round(max(seconds, 0.0), 4), rounds=rounds,
                 rounds_s=None if rounds_s is None else round(rounds_s, 4))


def _timed_span(metrics: list[Metric]) -> tuple[list[Metric], list[Metric], list[Metric]]:
    """The metrics in their order, cut in three: the counters before the first timed
    metric, the span from the first timed metric to the last, the counters after it."""
    timed = [i for i, m in enumerate(metrics) if m.kind != "counter"]
    if not timed:
        return list(metrics), [], []
    return metrics[:timed[0]], metrics[timed[0]:timed[-1] + 1], metrics[timed[-1] + 1:]


def measure_performance(challenge: Challenge, proxy: WorkerProxy, ref_proxy: WorkerProxy,
                        seed: int, phases: list[Phase] | None = None,
                        deadline: float = float("inf"),
                        config: PerformanceConfig | None = None) -> Performance:
    """Measure the submission (`proxy`) against the reference (`ref_proxy`), the timed
    metrics with the host's timing lock held exclusive, until `deadline`
    (time.monotonic(); moved on by the waits for the lock, which are no part of the
    run's own time), on the metrics of `config` (default: the challenge's); append the
    `lock` and `performance` phases to `phases`, if given."""
    from graders import performance

    start = time.perf_counter()
    config = config or challenge.config.performance
    timeout = challenge.config.limits.call_timeout_s  # a measured batch is a call like any
    waited: float | None = None  # for the timing lock (not part of the phase); None: not yet
    sides = performance.Sides(submission=proxy, reference=ref_proxy, deadline=deadline)
    before, timed, after = _timed_span(config.metrics)

    def measure(metrics: list[Metric], begin_timing: Callable[[], None] = lambda: None
                ) -> list[MetricResult]:
        return [performance.measure_metric(m, config, sides, timeout, seed, begin_timing)
                for m in metrics]

    # A count is not a time: counters before the first timed metric and after the last
    # are measured under this run's shared hold, as its tests are (no timer runs
    # meanwhile, other gradings' correctness work may); only the timed metrics hold the
    # lock exclusive, so a count does not keep the host's other core idle. Nor does a
    # warm-up: the lock is taken once the first timed metric has warmed up (q6 builds
    # its graphs there), and held to the end of the last.
    try:
        metrics = measure(before)
        with ExitStack() as span:
            def begin_timing() -> None:
                nonlocal waited
                if waited is None:
                    waited = span.enter_context(timing_lock.exclusive_timing())
                    sides.deadline = deadline + waited

            metrics += measure(timed, begin_timing)
        waited = waited or 0.0
        if after:
            held = timing_lock.hold_for_correctness()
            waited += held
            sides.deadline += held
            metrics += measure(after)
    finally:
        ref_proxy.close()
    earned, available = scoring.performance_score(metrics)
    measured = time.perf_counter() - start - waited
    if phases is not None:
        phases += [_phase("lock", waited),
                   _phase("performance", measured, sides.rounds, sides.rounds_s)]
    return Performance(score=earned, max_score=available, metrics=metrics,
                       duration_s=round(measured, 3))
