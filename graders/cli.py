"""The `grade` command line.

    grade CHALLENGE SUBMISSION [--json PATH] [--sandbox auto|docker|process] [--seed N]
                               [--feedback full|descriptions|score-only] [--timings]
    grade list
    grade validate CHALLENGE [--sandbox ...] [--quick] [--mutants] [--jobs N]
    grade sandbox build
    grade batch CHALLENGE SUBMISSION_OR_DIR... --out DIR [--jobs N]   (graders/batch.py)
    grade report RESULT.json [--html PATH]
    grade kit CHALLENGE OUTDIR                                        (graders/kit.py)

Exit codes: 0 passed; 1 graded and not passed (or the submission does not
import); 2 bad usage or bad input; 3 the sandbox could not be used.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console

from graders.errors import GraderError, UsageError
from graders.feedback import LEVELS as FEEDBACK_LEVELS
from graders.sandbox import CHOICES

if TYPE_CHECKING:
    from graders.challenge import Challenge
    from graders.result import Result
    from graders.submission import Submission


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message[0].upper()}{message[1:]}; run `{self.prog} --help` for usage.")


def _grade_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="grade", description="Grade a submission against a challenge. Other "
                     "commands: `grade list`, `grade validate CHALLENGE`, `grade sandbox build`.")
    parser.add_argument("challenge", help="challenge directory (challenges/q3_decorator) or id")
    parser.add_argument("submission", type=Path, help="the submitted .py file")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the JSON result")
    parser.add_argument("--sandbox", choices=CHOICES, default="auto",
                        help="where the submission runs (auto: docker when an engine answers)")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: the challenge's)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict line")
    parser.add_argument("--timings", action="store_true",
                        help="also show where the run's time went, phase by phase "
                        "(the result records it either way)")
    parser.add_argument("--feedback", choices=FEEDBACK_LEVELS,
                        help="what the result and report keep (default: the challenge's "
                        "level, normally descriptions)")
    return parser


def _jobs(text: str) -> int:
    """--jobs: a whole number of gradings at once, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _check_json_path(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--json {path} is a directory; give a file path for the result.")
    if not path.parent.is_dir():
        raise UsageError(f"--json {path}: directory {path.parent} does not exist; create it "
                         "or choose another path.")


def cmd_grade(argv: list[str], console: Console) -> int:
    from graders.challenge import load_challenge
    from graders.report import render, render_timings
    from graders.runner import grade
    from graders.submission import read_submission

    options = _grade_parser().parse_args(argv)
    _check_json_path(options.json)
    challenge = load_challenge(options.challenge)
    submission = read_submission(options.submission)
    result = grade(challenge, submission, sandbox=options.sandbox, seed=options.seed,
                   feedback=options.feedback)
    if options.quiet:
        console.print(f"{result.status}: {result.score:g}/{result.max_score:g} {result.message}",
                      soft_wrap=True)
        if options.timings:  # asked for by name: --quiet does not drop it
            render_timings(result, console)
    else:
        render(result, console, timings=options.timings)
    if options.json:  # after the report: a path that cannot be written loses no grade
        try:
            result.write_json(options.json)
        except OSError as exc:
            raise UsageError(f"--json {options.json} could not be written ({exc.strerror or exc}"
                             "); the report above is the result; choose a writable path.") from None
    return 0 if result.status == "passed" else 1


def cmd_list(argv: list[str], console: Console) -> int:
    from graders.challenge import list_challenges

    _Parser(prog="grade list", description="List the challenges.").parse_args(argv)
    for challenge in list_challenges():
        console.print(f"{challenge.id:28} {challenge.config.title} (v{challenge.config.version})")
    return 0


def cmd_validate(argv: list[str], console: Console) -> int:
    """Prove challenges sound: stub fails, reference passes in full every time, each known_bad
    gets its outcome, no hidden test is dead, required metrics have margins."""
    from graders.challenge import list_challenges, load_challenge

    parser = _Parser(prog="grade validate", description=cmd_validate.__doc__)
    parser.add_argument("challenge", nargs="?", help="challenge directory or id")
    parser.add_argument("--all", action="store_true", help="every challenge of the repository")
    parser.add_argument("--sandbox", choices=CHOICES, default="auto")
    parser.add_argument("--quick", action="store_true",
                        help="a proof in minutes: the reference graded once, and known_bads "
                             "that must only fail named tests run on those tests alone")
    parser.add_argument("--mutants", action="store_true",
                        help="also grade generated one-point mutants of the reference")
    parser.add_argument("--jobs", type=_jobs, default=2,
                        help="gradings at once (each in a fresh interpreter when above 1)")
    options = parser.parse_args(argv)
    if options.all == (options.challenge is not None):
        raise UsageError("Give one challenge or --all; run `grade validate --help` for usage.")
    challenges = list_challenges() if options.all else [load_challenge(options.challenge)]
    failed = 0
    for challenge in challenges:
        failed += not _validate_one(challenge, options, console)
    if len(challenges) > 1:
        console.print(f"{len(challenges) - failed}/{len(challenges)} challenges valid.")
    return 1 if failed else 0


def _validate_one(challenge: Challenge, options: argparse.Namespace, console: Console) -> bool:
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    from rich.markup import escape

    from graders.validate import QUICK_LEAVES_OUT, Run, validate

    console.print(f"[bold]{challenge.id}[/]: validating on --sandbox {options.sandbox}")

    def show(run: Run) -> None:
        mark = "[red]FAIL[/]" if run.problems else "[green]ok[/]"
        got = (f"{run.result.status} {run.result.score:g}/{run.result.max_score:g}"
               if run.result else "not graded")
        console.print(f"  {mark} {run.label:34} expected {run.expected:18} got {got:16} "
                      f"{run.duration_s:6.1f} s", soft_wrap=True)
        for problem in run.problems:
            console.print(f"       [red]- {escape(problem)}[/]", soft_wrap=True)

    started = time.perf_counter()
    if options.jobs > 1:
        # pytest and hypothesis keep global state: gradings at once need interpreters
        # apart, each grading one submission after another as `--jobs 1` does here.
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=options.jobs, mp_context=spawn) as pool:
            report = validate(challenge, lambda sub, metrics, only: pool.submit(
                _grade_for_validation, challenge.root, sub, options.sandbox, metrics, only
            ).result(), quick=options.quick, jobs=options.jobs, log=show)
    else:
        report = validate(challenge, lambda sub, metrics, only: _grade_for_validation(
            challenge.root, sub, options.sandbox, metrics, only), quick=options.quick, log=show)
    wall_s = time.perf_counter() - started
    for problem in report.problems:
        console.print(f"  [red]FAIL[/] {escape(problem)}", soft_wrap=True)
    ok = report.ok
    if options.mutants:
        from graders.mutants import render_mutants, run_mutants

        mutants = run_mutants(challenge, sandbox=options.sandbox, jobs=options.jobs,
                              log=lambda line: console.print(f"  [dim]{line}[/]"))
        render_mutants(mutants, console)
        ok = ok and mutants.passed
    if options.quick:
        console.print(f"  [dim]Note: {QUICK_LEAVES_OUT}.[/]", soft_wrap=True)
    verdict = "[green]valid[/]" if ok else "[red]NOT valid[/]"
    console.print(f"{challenge.id}: {verdict} ({len(report.runs)} gradings, "
                  f"{report.duration_s:.0f} s of grading in {wall_s:.0f} s)")
    return ok


def _grade_for_validation(root: Path, submission: Submission, sandbox: str,
                          metrics: frozenset[str], only: frozenset[str] | None) -> Result:
    from graders.challenge import load_challenge
    from graders.runner import grade

    return grade(load_challenge(root), submission, sandbox=sandbox, metrics=metrics,
                 feedback="descriptions", only=only)


def cmd_batch(argv: list[str], console: Console) -> int:
    """Grade many submissions, each in its own `grade` process, resumably; write
    results.csv, report.html and one page per submission into DIR."""
    from graders.batch import Options, batch
    from graders.challenge import REPO_ROOT, load_challenge
    from graders.sandbox import open_backend

    parser = _Parser(prog="grade batch", description=cmd_batch.__doc__)
    parser.add_argument("challenge", help="challenge directory or id")
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION_OR_DIR",
                        help=".py files, or directories whose .py files are submissions")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where results.jsonl, results.csv and report.html go")
    parser.add_argument("--jobs", type=_jobs, default=2,
                        help="grade processes at once (performance phases run one at a time)")
    parser.add_argument("--sandbox", choices=CHOICES, default="auto")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: the challenge's)")
    parser.add_argument("--feedback", choices=FEEDBACK_LEVELS,
                        help="what each result keeps (default: the challenge's level)")
    options = parser.parse_args(argv)
    challenge = load_challenge(options.challenge)
    notices: list[str] = []  # resolve auto once: every submission gets the same backend
    backend = open_backend(options.sandbox, REPO_ROOT, challenge.root.parent, notices)
    backend.close()
    for notice in notices:
        console.print(f"[yellow]note:[/] {notice}", soft_wrap=True)
    config = challenge.config
    return batch(Options(
        challenge=challenge, out=options.out, jobs=options.jobs, sandbox=backend.name,
        seed=config.seed if options.seed is None else options.seed,
        feedback=options.feedback or config.feedback.level), options.submissions, console)


def cmd_report(argv: list[str], console: Console) -> int:
    """Show one result (a `--json` file): on the terminal, or as a self-contained HTML page."""
    from graders.report import render
    from graders.result import Result

    parser = _Parser(prog="grade report", description=cmd_report.__doc__)
    parser.add_argument("result", type=Path, metavar="RESULT.json")
    parser.add_argument("--html", type=Path, metavar="PATH", help="write the page here")
    options = parser.parse_args(argv)
    try:
        result = Result.from_json(options.result)
    except OSError as exc:
        raise UsageError(f"{options.result} cannot be read ({exc.strerror}); give the path "
                         "of a result written by `grade ... --json`.") from None
    except ValueError as exc:
        raise UsageError(f"{options.result} is not a graders result: {exc}.") from None
    if options.html is None:
        render(result, console)
        return 0
    from graders.html import render_result

    _check_json_path(options.html)
    try:
        options.html.write_text(render_result(result), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--html {options.html} could not be written "
                         f"({exc.strerror or exc}); choose a writable path.") from None
    console.print(f"wrote {options.html}")
    return 0


def cmd_kit(argv: list[str], console: Console) -> int:
    """Write the candidate's kit: the prompt, the stub, the public tests and how to
    self-check; never the hidden suite, the reference or the known-bads."""
    from graders.challenge import load_challenge
    from graders.kit import build_kit

    parser = _Parser(prog="grade kit", description=cmd_kit.__doc__)
    parser.add_argument("challenge", help="challenge directory or id")
    parser.add_argument("outdir", type=Path, help="a new (or empty) directory")
    options = parser.parse_args(argv)
    written = build_kit(load_challenge(options.challenge), options.outdir)
    console.print(f"wrote the kit of {options.challenge} to {options.outdir} "
                  f"({len(written)} files); see {options.outdir / 'SELF_CHECK.md'}",
                  soft_wrap=True)
    return 0


def cmd_sandbox(argv: list[str], console: Console) -> int:
    parser = _Parser(prog="grade sandbox", description="Manage the sandbox image.")
    parser.add_argument("action", choices=("build",), help="build: build the image if needed")
    parser.parse_args(argv)
    from graders.challenge import REPO_ROOT
    from graders.sandbox.image import build_image

    image_id = build_image(REPO_ROOT, log=lambda line: console.print(f"[dim]{line}[/]"))
    console.print(image_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    console = Console(highlight=False)
    commands = {"list": cmd_list, "validate": cmd_validate, "sandbox": cmd_sandbox,
                "batch": cmd_batch, "report": cmd_report, "kit": cmd_kit}
    try:
        if argv and argv[0] in commands:
            return commands[argv[0]](argv[1:], console)
        return cmd_grade(argv, console)
    except GraderError as exc:
        print(f"grade: {exc}", file=sys.stderr)  # one unwrapped line, whatever the terminal
        return exc.exit_code
    except KeyboardInterrupt:
        print("grade: interrupted.", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The `grade` command: main(), then the exit handlers (finalizers, flushes), and an
    exit that skips the interpreter's teardown of pytest, hypothesis and numpy (~0.15 s
    of a candidate's wait): every file is closed and every worker gone by then."""
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (`grade ... | head`)
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
