"""The `grade` command line.

    grade CHALLENGE SUBMISSION [--json PATH] [--sandbox auto|docker|process] [--seed N]
    grade list
    grade validate CHALLENGE [--sandbox ...]
    grade sandbox build

Exit codes: 0 passed; 1 graded and not passed (or the submission does not
import); 2 bad usage or bad input; 3 the sandbox could not be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console

from graders.errors import GraderError, UsageError
from graders.sandbox import CHOICES


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
    return parser


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
    from graders.report import render
    from graders.runner import grade
    from graders.submission import read_submission

    options = _grade_parser().parse_args(argv)
    _check_json_path(options.json)
    challenge = load_challenge(options.challenge)
    submission = read_submission(options.submission)
    result = grade(challenge, submission, sandbox=options.sandbox, seed=options.seed)
    if options.json:
        result.write_json(options.json)
    if options.quiet:
        console.print(f"{result.status}: {result.score:g}/{result.max_score:g} {result.message}",
                      soft_wrap=True)
    else:
        render(result, console)
    return 0 if result.status == "passed" else 1


def cmd_list(argv: list[str], console: Console) -> int:
    from graders.challenge import list_challenges

    _Parser(prog="grade list", description="List the challenges.").parse_args(argv)
    for challenge in list_challenges():
        console.print(f"{challenge.id:28} {challenge.config.title} (v{challenge.config.version})")
    return 0


def cmd_validate(argv: list[str], console: Console) -> int:
    """Prove a challenge sound: stub fails, reference passes in full, known-bads as expected."""
    from graders.challenge import load_challenge
    from graders.runner import grade
    from graders.submission import read_submission
    from graders.validate import Expected, check_outcome, load_expected

    parser = _Parser(prog="grade validate", description=cmd_validate.__doc__)
    parser.add_argument("challenge")
    parser.add_argument("--sandbox", choices=CHOICES, default="auto")
    options = parser.parse_args(argv)
    challenge = load_challenge(options.challenge)
    runs = [
        ("stub", challenge.root / "stub.py", Expected(status="failed")),
        ("reference", challenge.reference_path, Expected(status="passed")),
    ]
    known_bad = challenge.root / "known_bad"
    runs += [(f"known_bad/{name}", known_bad / f"{name}.py", expected)
             for name, expected in sorted(load_expected(known_bad).items())]
    failures = 0
    for label, path, expected in runs:
        result = grade(challenge, read_submission(path), sandbox=options.sandbox)
        problems = check_outcome(result, expected)
        if label == "reference" and result.score != result.max_score:
            problems.append(f"score {result.score:g} is not the maximum {result.max_score:g}")
        if label == "stub" and any(t.status == "passed" for t in result.tests):
            problems.append("some tests pass against the stub")
        failures += bool(problems)
        mark = "[red]FAIL[/]" if problems else "[green]ok[/]"
        console.print(f"{mark} {label}: {result.status} {result.score:g}/{result.max_score:g} "
                      f"({result.duration_s:.1f} s) {'; '.join(problems)}")
    return 1 if failures else 0


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
    commands = {"list": cmd_list, "validate": cmd_validate, "sandbox": cmd_sandbox}
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


if __name__ == "__main__":
    sys.exit(main())
