"""Proving a challenge sound (DESIGN §8): the checks of `grade validate`.

`known_bad/outcomes.toml` declares, for each known-bad submission, the outcome
the harness must give it: the run status, the tests that must not pass (and
whether they are the only ones), and the metrics that must fail or pass. A
one-defect known-bad is declared as `edits` of the reference (exact find/replace
pairs, each required to match exactly once) and built here, so a refactored
reference breaks it loudly instead of leaving a stale copy; any other known-bad
is a file `known_bad/<name>.py`.

The checks themselves (`check_outcome`, `dead_tests`, `margin_problems`, ...)
are pure functions of results; `validate` runs the gradings and collects them.
"""

from __future__ import annotations

import ast
import hashlib
import time
import tomllib
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graders.challenge import Challenge
from graders.errors import UsageError
from graders.result import Result
from graders.submission import Submission, read_submission

REFERENCE_RUNS = 3
# A margin is a factor of 1.25: a slow known-bad's figure is at least 1.25 times the
# threshold, and the reference's at most the threshold divided by 1.25.
MARGIN = 1.25


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    find: str = Field(min_length=1)
    replace: str


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    status: str = Field(pattern="^(passed|failed|error)$")
    fail: list[str] = []
    exactly: bool = False
    fail_metrics: list[str] = []
    pass_metrics: list[str] = []
    edits: list[Edit] = []
    why: str = ""

    def metrics(self, every: Collection[str]) -> frozenset[str]:
        """The metrics of `every` its outcome depends on, the ones to measure: all of them
        for a known-bad that must pass (any one failing would fail it); otherwise the ones
        it names, since no other verdict can turn a failed or error status into another."""
        if self.status == "passed":
            return frozenset(every)
        return frozenset(self.fail_metrics) | frozenset(self.pass_metrics)

    @property
    def fails_named_tests(self) -> bool:
        """Whether its outcome is a failure with named tests failing: the quick form runs
        those tests alone (and measures the metrics it names), since no other test can
        turn that failure into another status; only exactness needs every test run."""
        return self.status == "failed" and bool(self.fail)


def load_expected(known_bad: Path) -> dict[str, Expected]:
    """The declared outcomes, checked against the files of `known_bad`."""
    path = known_bad / "outcomes.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is missing or not valid TOML ({exc}); fix it.") from None
    expected = {}
    for name, entry in raw.items():
        try:
            expected[name] = Expected.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"{path} is invalid: [{name}] field '{where}': {first['msg']}; "
                             "fix that field.") from None
    files = {p.stem for p in known_bad.glob("*.py")}
    declared_files = {name for name, e in expected.items() if not e.edits}
    both = sorted(files & {name for name, e in expected.items() if e.edits})
    if files != declared_files or both:
        raise UsageError(
            f"{path} must list each file of {known_bad} without edits, and each entry without "
            f"edits must have its file (files not listed: {sorted(files - set(expected))}; "
            f"entries without a file or edits: {sorted(declared_files - files)}; "
            f"entries with both: {both}).")
    return expected


def apply_edits(source: str, edits: Sequence[Edit]) -> tuple[str, list[str]]:
    """The source with each edit applied in turn, and the edits that did not apply once."""
    problems = []
    for number, edit in enumerate(edits, start=1):
        count = source.count(edit.find)
        if count != 1:
            problems.append(f"edit {number} ({edit.find.strip()[:60]!r}) matches {count} times "
                            "in the reference, not exactly once")
            continue
        source = source.replace(edit.find, edit.replace)
    return source, problems


def known_bad_submission(challenge: Challenge, name: str, expected: Expected
                         ) -> tuple[Submission | None, list[str]]:
    """The known-bad submission `name`: its file, or the reference with its edits applied."""
    path = challenge.root / "known_bad" / f"{name}.py"
    if not expected.edits:
        return read_submission(path), []
    reference = challenge.reference_path.read_text(encoding="utf-8")
    source, problems = apply_edits(reference, expected.edits)
    if problems:
        return None, problems
    if source == reference:
        return None, ["its edits leave the reference unchanged"]
    return Submission(path=path, source=source,
                      sha256=hashlib.sha256(source.encode()).hexdigest()), []


def _base_name(test_name: str) -> str:
    return test_name.split("[", 1)[0]


def not_passed(result: Result) -> set[str]:
    return {_base_name(t.name) for t in result.tests if t.status != "passed"}


def check_outcome(result: Result, expected: Expected, *, only_named: bool = False
                  ) -> list[str]:
    """The ways `result` differs from `expected`; empty when it matches. `only_named`:
    the result is of the named tests alone, so only their failures are checked."""
    problems = []
    if result.status != expected.status and not only_named:
        problems.append(f"status is {result.status}, expected {expected.status}")
    failing = not_passed(result)
    for name in expected.fail:
        if name not in failing:
            problems.append(f"{name} passed but must not")
    if expected.exactly and not only_named and failing - set(expected.fail):
        problems.append(f"unexpected failures: {sorted(failing - set(expected.fail))}")
    verdicts = {m.name: m.verdict for m in result.performance.metrics}
    for name in expected.fail_metrics:
        if verdicts.get(name) != "fail":
            problems.append(f"metric {name} is {verdicts.get(name)}, expected fail")
    for name in expected.pass_metrics:
        if verdicts.get(name) != "pass":
            problems.append(f"metric {name} is {verdicts.get(name)}, expected pass")
    return problems


# -- the whole proof ------------------------------------------------------------

@dataclass
class Run:
    """One grading run of validation and what was wrong with its outcome."""

    label: str
    expected: str
    result: Result | None
    duration_s: float
    problems: list[str] = field(default_factory=list)


@dataclass
class Report:
    challenge: str
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # of the challenge as a whole

    @property
    def ok(self) -> bool:
        return not self.problems and not any(run.problems for run in self.runs)

    @property
    def duration_s(self) -> float:
        return sum(run.duration_s for run in self.runs)


def test_names(folder: Path) -> set[str]:
    """The test function names of the suite in `folder`, read without importing it."""
    names = set()
    for path in sorted(folder.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names |= {node.name for node in tree.body
                  if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.name.startswith("test")}
    return names


def name_problems(challenge: Challenge, expected: dict[str, Expected]) -> list[str]:
    """Names in outcomes.toml and challenge.toml that name no test or metric."""
    tests = test_names(challenge.root / "hidden") | test_names(challenge.root / "public")
    metrics = {m.name for m in challenge.config.performance.metrics}
    problems = []
    for name, entry in sorted(expected.items()):
        for test in entry.fail:
            if test not in tests:
                problems.append(f"known_bad {name} names test {test}, which the suite lacks")
        for metric in (*entry.fail_metrics, *entry.pass_metrics):
            if metric not in metrics:
                problems.append(f"known_bad {name} names metric {metric}, which "
                                "challenge.toml lacks")
    for test in challenge.config.validate_.stub_only:
        if test not in tests:
            problems.append(f"[validate] stub_only names test {test}, which the suite lacks")
    return problems


def dead_tests(hidden: set[str], known_bad_results: Sequence[Result],
               stub_only: dict[str, str]) -> list[str]:
    """Hidden tests that no known-bad fails (the stub does not count), unless declared so."""
    caught: set[str] = set()
    for result in known_bad_results:
        caught |= not_passed(result)
    return sorted(name for name in hidden - caught if name not in stub_only)


def margin_problems(challenge: Challenge, reference: Result,
                    slow: dict[str, list[tuple[str, Result]]]) -> list[str]:
    """Each required metric: a known-bad declared slow fails it clearly, and the reference
    is clearly within it (for an absolute target, within target / MARGIN on this host)."""
    problems = []
    ref_metrics = {m.name: m for m in reference.performance.metrics}
    for metric in challenge.config.performance.metrics:
        if not metric.required:
            continue
        threshold = metric.threshold.ratio or metric.threshold.absolute or 0.0
        ref = ref_metrics.get(metric.name)
        if metric.threshold.absolute is not None:
            figure = ref.normalised if ref else None
            if figure is None or figure > threshold / MARGIN:
                problems.append(f"metric {metric.name}: the reference's normalised figure "
                                f"{_fmt(figure)} is not within {threshold / MARGIN:.4g} "
                                f"(target / {MARGIN})")
        elif ref is None or ref.interval is None or ref.interval[1] > threshold / MARGIN:
            high = ref.interval[1] if ref and ref.interval else None
            problems.append(f"metric {metric.name}: the reference's ratio to itself reaches "
                            f"{_fmt(high)}, not within {threshold / MARGIN:.4g} "
                            f"(threshold / {MARGIN})")
        declared = slow.get(metric.name, [])
        if not declared:
            problems.append(f"metric {metric.name} is required but no known_bad declares it "
                            "in fail_metrics, so nothing shows its threshold catches anything")
        for name, result in declared:
            got = {m.name: m for m in result.performance.metrics}.get(metric.name)
            figure = (got.normalised if metric.threshold.absolute is not None else got.ratio
                      ) if got else None
            if figure is not None and figure < threshold * MARGIN:
                problems.append(f"metric {metric.name}: known_bad {name} fails it with "
                                f"{_fmt(figure)}, less than {MARGIN} x the threshold "
                                f"{threshold:g}: no margin")
    return problems


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def outcome_signature(result: Result) -> list[tuple[str, str]]:
    return sorted((t.id, t.status) for t in result.tests)


# grader(submission, metrics, only): a Result, with a performance phase measuring the
# metrics of those names (none: no performance phase); `only`, if given, names the tests
# to run.
Grader = Callable[[Submission, frozenset[str], frozenset[str] | None], Result]

QUICK_LEAVES_OUT = ("the quick form graded the reference once (no flakiness check) and ran "
                    "each known_bad that must fail named tests on those tests alone, with "
                    "the metrics its outcome names (no exactness or dead-test check); the "
                    "full form does it all")


def validate(challenge: Challenge, grader: Grader, *, quick: bool = False, jobs: int = 1,
             log: Callable[[Run], None] = lambda run: None) -> Report:
    """Run every grading the proof needs through `grader(submission, metrics, only)`, up
    to `jobs` at once (then `grader` must be safe to call from several threads), and
    judge them in a fixed order, so the report and the log read the same either way.

    `quick` leaves out what QUICK_LEAVES_OUT says, for a proof in minutes.
    """
    report = Report(challenge.id)
    expected = load_expected(challenge.root / "known_bad")
    report.problems += name_problems(challenge, expected)
    every = frozenset(m.name for m in challenge.config.performance.metrics)
    # One at a time, each grading runs here, in this thread: grade() runs pytest, which
    # is not to be run from other threads, so a grader safe for those grades elsewhere.
    pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 else None

    def timed(submission: Submission | None, measure: frozenset[str],
              only: frozenset[str] | None) -> tuple[Result | None, float]:
        started = time.perf_counter()
        result = grader(submission, measure, only) if submission is not None else None
        return result, round(time.perf_counter() - started, 1)

    # With a pool, the gradings are handed to it longest first (measured ones, then whole
    # suites, then named tests alone), so no long one begins last while a core idles.
    planned: list[tuple[int, int, Callable[[], None]]] = []
    launched = False

    def start(label: str, expect: str, submission: Submission | None, measure: frozenset[str],
              problems: list[str], only: frozenset[str] | None = None
              ) -> Callable[[], Run]:
        """Plan a grading (begun at once once the first ones are launched); the returned
        function waits for it and records its Run."""
        futures: list[Future[tuple[Result | None, float]]] = []

        def submit() -> None:
            if pool is not None:
                futures.append(pool.submit(timed, submission, measure, only))

        if launched:
            submit()
        else:
            planned.append((2 if measure else 1 if only is None else 0, len(planned), submit))

        def finish() -> Run:  # without a pool, the grading runs now
            result, seconds = (futures[0].result() if futures
                               else timed(submission, measure, only))
            done = Run(label, expect, result, seconds, problems)
            report.runs.append(done)
            return done
        return finish

    try:
        stub_source = read_submission(challenge.root / "stub.py")
        stub_run = start("stub", "failed", stub_source, frozenset(), [])
        reference = read_submission(challenge.reference_path)
        reference_runs = [start(f"reference #{number + 1}", "passed, full score", reference,
                                every, []) for number in range(1 if quick else REFERENCE_RUNS)]
        known_bad_runs = []
        for name, entry in sorted(expected.items()):
            submission, problems = known_bad_submission(challenge, name, entry)
            only = frozenset(entry.fail) if quick and entry.fails_named_tests else None
            known_bad_runs.append((name, entry, only, start(
                f"known_bad/{name}", entry.status, submission, entry.metrics(every),
                problems, only)))
        for _, _, submit in sorted(planned, key=lambda plan: (-plan[0], plan[1])):
            submit()
        launched = True

        stub = stub_run()
        graded = stub.result
        assert graded is not None
        if graded.status == "passed" and every and all(
                t.status == "passed" for t in graded.tests):
            # A stub may be correct and slow by design (q9's is): its metrics must fail it.
            report.runs.remove(stub)
            stub = start("stub, measured", "failed by a metric", stub_source, every, [])()
            if stub.result is not None and stub.result.status == "passed":
                stub.problems.append("the stub passes every test and every required metric")
        else:
            if graded.status == "passed":
                stub.problems.append("the stub passes")
            passing = sorted(t.name for t in graded.tests if t.status == "passed")
            if passing:
                stub.problems.append(f"tests pass against the stub: {passing}")
        log(stub)

        references: list[Result] = []
        for finish in reference_runs:
            ref = finish()
            assert ref.result is not None
            if ref.result.status != "passed" or ref.result.score != ref.result.max_score:
                ref.problems.append(f"{ref.result.status} with {ref.result.score:g}/"
                                    f"{ref.result.max_score:g}: {ref.result.message}")
            if references and outcome_signature(ref.result) != outcome_signature(references[0]):
                ref.problems.append("test outcomes differ from reference #1: the suite is flaky")
            references.append(ref.result)
            log(ref)

        known_bad_results: list[Result] = []
        slow: dict[str, list[tuple[str, Result]]] = {}
        for name, entry, only, finish in known_bad_runs:
            done = finish()
            if done.result is not None:
                done.problems += check_outcome(done.result, entry, only_named=only is not None)
            log(done)  # with its problems: a line never says ok for a run that is not
            if done.result is None:
                continue
            known_bad_results.append(done.result)
            for metric in entry.fail_metrics:
                slow.setdefault(metric, []).append((name, done.result))
    finally:
        if pool is not None:  # after an error, no grading not yet begun
            pool.shutdown(cancel_futures=True)

    hidden = test_names(challenge.root / "hidden")
    stub_only = challenge.config.validate_.stub_only
    for name in [] if quick else dead_tests(hidden, known_bad_results, stub_only):
        report.problems.append(f"hidden test {name} fails for no known_bad (dead test: add a "
                               "known_bad it catches, or record it in [validate] stub_only "
                               "with the reason)")
    if every and references:
        report.problems += margin_problems(challenge, references[0], slow)
    return report
