"""Grading many submissions of one challenge: `grade batch`.

    grade batch CHALLENGE SUBMISSION_OR_DIR... --out DIR [--jobs N]

One submission per .py file; a directory contributes its .py files; a submission is
named by its file (its stem, or `parent/stem` where stems collide). Files that are
not UTF-8, too large, or not .py are listed with the reason and skipped.

**One process each.** Every submission is graded by its own `grade` process
(pytest and hypothesis keep global state), up to `--jobs` at a time. Correctness
phases run in parallel, performance phases one at a time with the CPUs to
themselves: a child is started holding the host's timing lock shared (see
`graders/timing_lock.py`), so while any performance phase runs or waits
no child starts, and a performance phase waits for the running correctness phases
to end. Children are in their own session (a Ctrl-C reaches the batch, which
stops them) and die with the batch (PR_SET_PDEATHSIG).

**Resumable.** Each result is appended to DIR/results.jsonl as it completes
(graders/journal.py). A submission whose key (its bytes' sha256, the challenge's
version and suite hash, the harness version, the backend, seed and feedback
level) has a result there is not graded again, whatever its name: a copy of
another submission reuses its result, and a batch interrupted by Ctrl-C, kill -9
or a power loss starts where it stopped.

DIR then holds results.csv (one row per submission), report.html (one page, sortable,
with the score distribution, each test's pass rate, the performance ratios and the
similarity flags), reports/NAME.html and results/NAME.json per submission, and
logs/NAME.log (what each child printed).
"""

from __future__ import annotations

import csv
import ctypes
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from graders import __version__, similarity, timing_lock
from graders.challenge import REPO_ROOT, Challenge
from graders.errors import GraderError, UsageError
from graders.feedback import FeedbackLevel
from graders.journal import Journal, Record, ResumeKey, latest
from graders.result import CATEGORIES, Result
from graders.submission import read_submission

PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 5.0
POLL_S = 0.1


@dataclass
class Entry:
    """One submission of the batch."""

    name: str
    path: Path
    sha256: str
    slug: str = ""  # its file name in DIR/reports, DIR/results and DIR/logs


@dataclass
class Skipped:
    path: str
    reason: str


def collect(arguments: Sequence[Path], exclude: Path | None = None
            ) -> tuple[list[Entry], list[Skipped]]:
    """The submissions named by files and directories, and the files skipped with why
    (`exclude`, the batch's own output directory, is passed over in silence)."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for argument in arguments:
        if argument.is_dir():
            for path in sorted(argument.iterdir()):
                if (path.name.startswith(".") or path.name == "__pycache__"
                        or (exclude is not None and path.resolve() == exclude.resolve())):
                    continue
                if path.is_dir():
                    skipped.append(Skipped(str(path), "a directory inside a submissions "
                                           "directory; name it to grade its .py files"))
                elif path.suffix == ".py":
                    files.append(path)
                else:
                    skipped.append(Skipped(str(path), "not a .py file"))
        elif not argument.exists():
            skipped.append(Skipped(str(argument), "does not exist"))
        elif argument.suffix != ".py":
            skipped.append(Skipped(str(argument), "not a .py file"))
        else:
            files.append(argument)
    entries: list[Entry] = []
    seen: set[Path] = set()
    for path in files:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            submission = read_submission(path)
        except UsageError as exc:
            skipped.append(Skipped(str(path), str(exc)))
            continue
        entries.append(Entry(name=path.stem, path=path, sha256=submission.sha256))
    _name(entries)
    return entries, skipped


def _name(entries: list[Entry]) -> None:
    """Unique names (the stem, else parent/stem, else a number) and safe file names."""
    stems: dict[str, int] = {}
    for entry in entries:
        stems[entry.name] = stems.get(entry.name, 0) + 1
    taken: set[str] = set()
    for entry in entries:
        name = entry.name if stems[entry.name] == 1 else f"{entry.path.parent.name}/{entry.name}"
        number = 2
        while name in taken:
            name, number = f"{entry.name}~{number}", number + 1
        taken.add(name)
        entry.name = name
    slugs: set[str] = set()
    for entry in entries:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", entry.name).strip("._") or "submission"
        if slug != entry.name or slug in slugs:
            slug += "-" + hashlib.sha1(entry.name.encode()).hexdigest()[:6]
        slugs.add(slug)
        entry.slug = slug


def materialise_known(challenge: Challenge, outdir: Path) -> list[Path]:
    """The reference and every known-bad of `challenge` as files in `outdir` (one-defect
    known-bads are edits of the reference: they are applied here)."""
    from graders.validate import known_bad_submission, load_expected

    outdir.mkdir(parents=True, exist_ok=True)
    written = [outdir / "reference.py"]
    written[0].write_bytes(challenge.reference_path.read_bytes())
    for name, expected in sorted(load_expected(challenge.root / "known_bad").items()):
        submission, problems = known_bad_submission(challenge, name, expected)
        if submission is None:
            raise UsageError(f"known_bad {name} of {challenge.id} cannot be built "
                             f"({'; '.join(problems)}); run `grade validate {challenge.id}`.")
        path = outdir / f"{name}.py"
        path.write_text(submission.source, encoding="utf-8")
        written.append(path)
    return written


# -- running the children ------------------------------------------------------------------

@dataclass
class Options:
    challenge: Challenge
    out: Path
    jobs: int
    sandbox: str  # docker or process: resolved once, so that every child uses the same
    seed: int
    feedback: FeedbackLevel
    explicit_seed: bool = False
    explicit_feedback: bool = False


@dataclass
class _Job:
    """One distinct key to grade: its first entry is graded, the others reuse the result."""

    key: ResumeKey
    entries: list[Entry]


@dataclass
class _Running:
    job: _Job
    process: subprocess.Popen[bytes]
    started: float
    json_path: Path
    log_path: Path


@dataclass
class Outcome:
    """What one `run_batch` did."""

    graded: int = 0
    resumed: int = 0
    reused: int = 0
    not_graded: dict[str, str] = field(default_factory=dict)
    fatal: tuple[int, str] | None = None
    interrupted: bool = False
    statuses: dict[str, int] = field(default_factory=dict)
    gate_wait_s: float = 0.0  # time a free slot waited for a performance phase
    wall_s: float = 0.0


def resume_key(options: Options, entry: Entry, suite_sha256: str) -> ResumeKey:
    config = options.challenge.config
    return ResumeKey(submission_sha256=entry.sha256, challenge=config.id,
                     challenge_version=config.version, suite_sha256=suite_sha256,
                     harness_version=__version__, sandbox=options.sandbox, seed=options.seed,
                     feedback=options.feedback)


def _pdeathsig() -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def set_up() -> None:  # in the child, before exec: die with the batch
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return set_up


def _start(options: Options, job: _Job, lock_fd: int, set_up: Callable[[], None]) -> _Running:
    entry = job.entries[0]
    work = options.out / ".work"
    json_path = work / f"{entry.slug}.json"
    json_path.unlink(missing_ok=True)
    log_path = options.out / "logs" / f"{entry.slug}.log"
    command = [sys.executable, "-m", "graders.cli", str(options.challenge.root),
               str(entry.path.resolve()), "--json", str(json_path), "--quiet",
               "--sandbox", options.sandbox, "--seed", str(options.seed),
               "--feedback", options.feedback]
    env = {**os.environ, timing_lock.CORRECTNESS_FD_ENV: str(lock_fd), "COLUMNS": "160"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                                   pass_fds=(lock_fd,), start_new_session=True,
                                   preexec_fn=set_up)
    return _Running(job, process, time.monotonic(), json_path, log_path)


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _finish(running: _Running, journal: Journal, outcome: Outcome) -> list[Record]:
    """Journal the result of a child that has exited; the records written."""
    code = running.process.returncode
    wall = round(time.monotonic() - running.started, 3)
    first = running.job.entries[0]
    key = running.job.key
    said = _last_line(running.log_path)
    if code in (0, 1) and running.json_path.is_file():
        try:
            result = Result.from_json(running.json_path)
        except ValueError as exc:
            outcome.not_graded[first.name] = f"its result could not be read ({exc})"
            return []
        running.json_path.unlink(missing_ok=True)
        if not key.agrees_with(result):
            if result.submission.sha256 != key.submission_sha256:
                outcome.not_graded[first.name] = "the file changed while it was graded"
            else:  # the same for every submission from now on: stop
                outcome.fatal = (2, "the challenge or the harness changed while the batch ran "
                                 f"(suite {result.challenge.suite_sha256[:12]}, harness "
                                 f"{result.harness.version}); run the same command again to "
                                 "grade every submission against the same suite")
            return []
        records = [Record(first.name, str(first.path), key, result, wall)]
        for other in running.job.entries[1:]:
            copy = replace(result, submission=replace(result.submission, path=str(other.path)))
            records.append(Record(other.name, str(other.path), key, copy, 0.0,
                                  reused_from=first.name))
        for record in records:
            journal.append(record)
        outcome.graded += 1
        outcome.reused += len(records) - 1
        return records
    if code in (2, 3):  # bad input or a broken challenge; the sandbox unavailable: for all
        outcome.fatal = (code, said or f"grade exited with {code}")
    elif code is not None and code < 0:
        outcome.not_graded[first.name] = f"its grade process was killed by signal {-code}"
    else:
        outcome.not_graded[first.name] = f"grade exited with {code}: {said}"
    return []


def _stop(running: list[_Running]) -> None:
    for item in running:
        if item.process.poll() is None:
            item.process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for item in running:
        try:
            item.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            item.process.kill()
            item.process.wait()


def _tally(statuses: dict[str, int], not_graded: int) -> str:
    parts = [f"{word} {statuses.get(word, 0)}" for word in ("passed", "failed", "error")]
    if not_graded:
        parts.append(f"not graded {not_graded}")
    return " · ".join(parts)


def run_batch(options: Options, entries: list[Entry], console: Console) -> Outcome:
    """Grade every entry not already in the journal; journal each result as it comes."""
    outcome = Outcome()
    started = time.monotonic()
    for folder in ("logs", ".work", "results", "reports"):
        (options.out / folder).mkdir(parents=True, exist_ok=True)
    journal = Journal(options.out / "results.jsonl")
    done = latest(journal.read())
    if journal.skipped_lines:
        console.print(f"[yellow]{journal.skipped_lines} incomplete line(s) of "
                      f"{escape(str(journal.path))} ignored (an interrupted write).[/]")
    by_key: dict[ResumeKey, Record] = {record.key: record for record in done.values()}
    suite = options.challenge.suite_sha256()
    jobs: dict[ResumeKey, _Job] = {}
    for entry in entries:
        key = resume_key(options, entry, suite)
        previous = done.get(entry.name)
        if previous is not None and previous.key == key:
            outcome.resumed += 1
            _count(outcome.statuses, previous.result.status)
        elif key in by_key:  # the same file under another name: its result is this one's
            source = by_key[key]
            copy = replace(source.result,
                           submission=replace(source.result.submission, path=str(entry.path)))
            journal.append(Record(entry.name, str(entry.path), key, copy, 0.0,
                                  reused_from=source.name))
            outcome.reused += 1
            _count(outcome.statuses, copy.status)
        else:
            jobs.setdefault(key, _Job(key, [])).entries.append(entry)
    if outcome.resumed or outcome.reused:
        console.print(f"{outcome.resumed} already graded in {escape(str(journal.path))}, "
                      f"{outcome.reused} reused from identical files; "
                      f"{sum(len(j.entries) for j in jobs.values())} to grade.")
    pending = deque(jobs.values())
    running: list[_Running] = []
    set_up = _pdeathsig()
    previous_handler = signal.signal(signal.SIGTERM, _raise_interrupt)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[tally]}"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, speed_estimate_period=900) as progress:
            task = progress.add_task(options.challenge.id, total=len(entries),
                                     completed=outcome.resumed + outcome.reused,
                                     tally=_tally(outcome.statuses, 0))
            waiting_since: float | None = None
            while pending or running:
                while pending and len(running) < options.jobs and outcome.fatal is None:
                    lock_fd = timing_lock.try_correctness_lock()
                    if lock_fd is None:  # a performance phase runs or waits: keep off the CPUs
                        waiting_since = waiting_since or time.monotonic()
                        break
                    if waiting_since is not None:
                        outcome.gate_wait_s += time.monotonic() - waiting_since
                        waiting_since = None
                    try:
                        running.append(_start(options, pending.popleft(), lock_fd, set_up))
                    finally:
                        os.close(lock_fd)  # the child holds it now
                if outcome.fatal is not None:
                    pending.clear()
                for item in [r for r in running if r.process.poll() is not None]:
                    running.remove(item)
                    records = _finish(item, journal, outcome)
                    for record in records:
                        _count(outcome.statuses, record.result.status)
                        result = record.result
                        progress.console.print(
                            f"  {_styled(result.status)} {result.score:>6g}/{result.max_score:g}"
                            f"  {escape(record.name)}"
                            + (f" (= {escape(record.reused_from)})" if record.reused_from
                               else f" ({record.wall_s:.0f} s)"), soft_wrap=True)
                    if not records:
                        name = item.job.entries[0].name
                        why = outcome.not_graded.get(name) or (outcome.fatal or (0, ""))[1]
                        progress.console.print(f"  [yellow]not graded[/] {escape(name)}: "
                                               f"{escape(why)}",
                                               soft_wrap=True, markup=True, highlight=False)
                    advance = len(records) or len(item.job.entries)
                    progress.update(task, advance=advance,
                                    tally=_tally(outcome.statuses, len(outcome.not_graded)))
                time.sleep(POLL_S)
    except KeyboardInterrupt:
        outcome.interrupted = True
        _stop(running)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
    outcome.wall_s = round(time.monotonic() - started, 3)
    return outcome


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _count(statuses: dict[str, int], status: str) -> None:
    statuses[status] = statuses.get(status, 0) + 1


def _styled(status: str) -> str:
    colour = {"passed": "green", "failed": "red"}.get(status, "yellow")
    return f"[{colour}]{status:6}[/]"


# -- the outputs ------------------------------------------------------------------------------

def _csv_cell(value: Any) -> Any:
    """Text a spreadsheet would take for a formula is quoted (names are the candidates')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def category_points(result: Result) -> dict[str, tuple[float, float]]:
    points: dict[str, tuple[float, float]] = {}
    for test in result.tests:
        earned, available = points.get(test.category, (0.0, 0.0))
        points[test.category] = (earned + (test.weight if test.status == "passed" else 0.0),
                                 available + test.weight)
    return points


def write_csv(path: Path, records: Sequence[Record], metrics: Sequence[str],
              skipped: Sequence[Skipped], not_graded: dict[str, str],
              similar: dict[str, list[str]]) -> None:
    header = ["name", "file", "sha256", "status", "score", "max_score", "tests_passed",
              "tests_total"]
    for category in CATEGORIES:
        header += [f"{category}_score", f"{category}_max"]
    header += ["performance_score", "performance_max"]
    for metric in metrics:
        header += [f"{metric}_ratio", f"{metric}_verdict"]
    header += ["duration_s", "similar_to", "note"]
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, header, restval="")
        writer.writeheader()
        for record in records:
            result = record.result
            row: dict[str, Any] = {
                "name": record.name, "file": record.file, "sha256": result.submission.sha256,
                "status": result.status, "score": result.score, "max_score": result.max_score,
                "tests_passed": sum(t.status == "passed" for t in result.tests),
                "tests_total": len(result.tests),
                "performance_score": result.performance.score,
                "performance_max": result.performance.max_score,
                "duration_s": result.duration_s,
                "similar_to": "; ".join(similar.get(record.name, [])),
                "note": f"same file as {record.reused_from}" if record.reused_from else ""}
            for name, (earned, available) in category_points(result).items():
                row[f"{name}_score"], row[f"{name}_max"] = earned, available
            for m in result.performance.metrics:
                if m.name in metrics:
                    row[f"{m.name}_ratio"] = "" if m.ratio is None else m.ratio
                    row[f"{m.name}_verdict"] = m.verdict
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
        for name, reason in not_graded.items():
            writer.writerow({"name": _csv_cell(name), "status": "not graded",
                             "note": _csv_cell(reason)})
        for item in skipped:
            writer.writerow({"name": _csv_cell(Path(item.path).stem),
                             "file": _csv_cell(item.path), "status": "skipped",
                             "note": _csv_cell(item.reason)})
    os.replace(temporary, path)


def known_sources(challenge: Challenge) -> similarity.Sources:
    """The stub, the reference and the known public answers: the guide's code
    (public_answers/*.py, verbatim) and its adaptations among the known-bads
    (known_bad/guide_*.py)."""
    def document(label: str, path: Path) -> similarity.Document:
        return similarity.fingerprint(label, path.read_text(encoding="utf-8", errors="replace"))

    public = [*sorted((challenge.root / "public_answers").glob("*.py")),
              *sorted((challenge.root / "known_bad").glob("guide_*.py"))]
    return similarity.Sources(
        stub=document("[stub]", challenge.root / "stub.py"),
        reference=(document("[reference]", challenge.reference_path)
                   if challenge.reference_path.is_file() else None),
        public=[document(f"[{p.relative_to(challenge.root)}]", p) for p in public])


def write_outputs(options: Options, entries: Sequence[Entry], skipped: Sequence[Skipped],
                  outcome: Outcome) -> tuple[list[Record], list[similarity.Match]]:
    """results.csv, report.html, and each submission's page and JSON, from the journal."""
    from graders import html

    out = options.out
    done = latest(Journal(out / "results.jsonl").read())
    graded = [(entry, done[entry.name]) for entry in entries if entry.name in done]
    graded.sort(key=lambda pair: pair[0].name)
    records = [record for _, record in graded]
    for entry, record in graded:
        record.result.write_json(out / "results" / f"{entry.slug}.json")
        page = html.render_result(record.result, name=record.name, back="../report.html")
        (out / "reports" / f"{entry.slug}.html").write_text(page, encoding="utf-8")

    sources = known_sources(options.challenge)
    documents = []
    texts: dict[str, str] = {}
    for entry in entries:
        try:
            text = entry.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        documents.append(similarity.fingerprint(entry.name, text))
        texts[entry.name] = text
    for source in [sources.stub, sources.reference, *sources.public]:
        if source is not None:
            texts[source.name] = source.source
    matches = similarity.flags(documents, sources)
    similar: dict[str, list[str]] = {}
    for match in matches:
        similar.setdefault(match.a, []).append(f"{match.b} {match.similarity:.0%}")
        if match.kind == "pair":
            similar.setdefault(match.b, []).append(f"{match.a} {match.similarity:.0%}")

    config = options.challenge.config
    metrics = [m.name for m in config.performance.metrics]
    not_graded = {name: why for name, why in outcome.not_graded.items() if name not in done}
    write_csv(out / "results.csv", records, metrics, skipped, not_graded, similar)

    rows = []
    for entry, record in graded:
        result = record.result
        flags = []
        for match in matches:
            if entry.name in (match.a, match.b):
                other = match.b if match.a == entry.name else match.a
                flags.append(html.Flag(other, match.similarity, html.flag_anchor(match.a, match.b)))
        flags.sort(key=lambda flag: -flag.similarity)
        rows.append(html.Row(
            name=record.name, slug=entry.slug, href=f"reports/{entry.slug}.html",
            status=result.status, score=result.score, max_score=result.max_score,
            fraction=result.score / result.max_score if result.max_score else 0.0,
            categories=category_points(result),
            metrics={m.name: (m.ratio, m.verdict) for m in result.performance.metrics},
            duration_s=result.duration_s, reused_from=record.reused_from,
            flags=flags[:html.FLAGS_PER_ROW], more_flags=max(0, len(flags) - html.FLAGS_PER_ROW)))
    notices = []
    not_isolated = sum(not r.result.sandbox.isolated for r in records)
    if not_isolated:
        notices.append(f"{not_isolated} of these results were graded on the process backend, "
                       "which does NOT isolate the host: hiring teams should grade with Docker.")
    if outcome.interrupted:
        notices.append("The batch was interrupted: this page shows what was graded by then; "
                       "run the same command again to grade the rest.")
    view = html.BatchView(
        challenge_id=config.id, title=config.title, version=config.version,
        suite_sha256=options.challenge.suite_sha256(), backend=options.sandbox,
        seed=options.seed, feedback=options.feedback, pass_mark=config.scoring.pass_mark,
        rows=rows, metrics=metrics,
        metric_info={m.name: (m.description, m.threshold.ratio)
                     for m in config.performance.metrics},
        skipped=[(s.path, s.reason) for s in skipped], not_graded=list(not_graded.items()),
        results=[record.result for record in records], flags=matches,
        clusters=similarity.clusters(matches), sources=texts, notices=notices,
        similarity_method=(f"Pairs are flagged from a Jaccard index of "
                           f"{similarity.PAIR_THRESHOLD:.0%}, a submission against a known "
                           f"source when {similarity.SOURCE_THRESHOLD:.0%} of it is found there."))
    page = html.render_batch(view)
    temporary = out / ".report.html.tmp"
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, out / "report.html")
    return records, matches


def batch(options: Options, arguments: Sequence[Path], console: Console) -> int:
    """`grade batch`: the exit code (0 all graded, 1 some skipped or not graded, 2 and 3
    as `grade`, 130 interrupted)."""
    if options.out.exists() and not options.out.is_dir():
        raise UsageError(f"--out {options.out} is a file; give a directory for the batch.")
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {options.out} cannot be created ({exc.strerror}); "
                         "choose another directory.") from None
    entries, skipped = collect(arguments, exclude=options.out)
    for item in skipped:
        console.print(f"[yellow]skipped[/] {escape(item.path)}: {escape(item.reason)}",
                      soft_wrap=True,
                      highlight=False)
    if not entries:
        write_outputs(options, entries, skipped, Outcome())
        raise UsageError("No submission to grade (no readable .py file among the paths given); "
                         "give .py files or directories holding them.")
    out = escape(str(options.out))
    console.print(f"grading {len(entries)} submission(s) of {options.challenge.id} on "
                  f"--sandbox {options.sandbox}, {options.jobs} at a time, into {out}",
                  soft_wrap=True)
    outcome = run_batch(options, entries, console)
    records, matches = write_outputs(options, entries, skipped, outcome)
    waited = (f", {outcome.gate_wait_s:.0f} s of it waiting for performance phases"
              if outcome.gate_wait_s >= 1 else "")
    console.print(f"{len(records)}/{len(entries)} graded ({outcome.graded} now, "
                  f"{outcome.resumed} resumed, {outcome.reused} reused) in "
                  f"{outcome.wall_s:.0f} s{waited}; {len(matches)} similarity flag(s). "
                  f"Wrote {out}/results.csv and {out}/report.html.", soft_wrap=True)
    if outcome.interrupted:
        console.print("[yellow]Interrupted:[/] run the same command again to grade the rest.")
        return 130
    if outcome.fatal is not None:
        code, said = outcome.fatal
        raise _Fatal(code, said)
    return 1 if skipped or outcome.not_graded else 0


class _Fatal(GraderError):
    def __init__(self, code: int, said: str) -> None:
        super().__init__(f"the batch stopped: a grade process exited with {code}: "
                         f"{said.removeprefix('grade: ')}")
        self.exit_code = code
