"""Batch-grade the reference and every known-bad of challenges, killing the batch midway.

    python benchmarks/batch_known.py OUT [--challenge ID ...] [--jobs N] [--sandbox S]
                                         [--kill-after K]

For each challenge: the reference and its known-bads are written as files into
OUT/<id>/submissions (one-defect known-bads are the reference with their edits
applied), and `grade batch` grades them into OUT/<id>/batch. With --kill-after K the
batch is killed with SIGKILL once K results are in its journal, then started again
with the same command; the script then checks that the restart graded nothing
already done (each name is journalled once, and no child log was rewritten) and lost
nothing (every submission has a result), and that results.csv and report.html exist.
Exit 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graders.batch import materialise_known  # noqa: E402
from graders.challenge import list_challenges, load_challenge  # noqa: E402


def journal_names(path: Path) -> list[str]:
    names = []
    if path.is_file():
        for line in path.read_bytes().split(b"\n")[:-1]:
            try:
                names.append(json.loads(line)["name"])
            except (ValueError, KeyError):
                pass
    return names


def run(command: list[str], kill_after: int | None, journal: Path) -> tuple[int, float]:
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO)
    if kill_after is not None:
        while process.poll() is None and len(journal_names(journal)) < kill_after:
            time.sleep(0.2)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            print(f"--- killed the batch (SIGKILL) with {len(journal_names(journal))} "
                  "results journalled", flush=True)
    return process.wait(), time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--challenge", action="append", help="(default: every challenge)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--kill-after", type=int)
    options = parser.parse_args()
    challenges = ([load_challenge(c) for c in options.challenge] if options.challenge
                  else list_challenges())
    problems: list[str] = []
    for challenge in challenges:
        base = options.out / challenge.id
        files = materialise_known(challenge, base / "submissions")
        batch_dir = base / "batch"
        journal = batch_dir / "results.jsonl"
        command = [sys.executable, "-m", "graders.cli", "batch", challenge.id,
                   str(base / "submissions"), "--out", str(batch_dir),
                   "--jobs", str(options.jobs), "--sandbox", options.sandbox]
        print(f"=== {challenge.id}: {len(files)} submissions", flush=True)
        code, first_s = run(command, options.kill_after, journal)
        before = journal_names(journal)
        logs_before = {p.name: p.stat().st_mtime_ns for p in (batch_dir / "logs").glob("*.log")
                       if p.stem in before}
        second_s = 0.0
        if options.kill_after is not None:
            code, second_s = run(command, None, journal)
        after = journal_names(journal)
        expected = {path.stem for path in files}
        rewritten = [name for name, mtime in logs_before.items()
                     if (batch_dir / "logs" / name).stat().st_mtime_ns != mtime]
        duplicated = sorted({n for n in after if after.count(n) > 1})
        missing = sorted(expected - set(after))
        outputs = [name for name in ("results.jsonl", "results.csv", "report.html")
                   if not (batch_dir / name).is_file()]
        print(f"=== {challenge.id}: exit {code}; {len(before)} done before the restart, "
              f"{len(set(after))}/{len(expected)} after; first run {first_s:.0f} s, "
              f"restart {second_s:.0f} s", flush=True)
        for label, items in (("regraded after the restart", duplicated + rewritten),
                             ("lost", missing), ("output missing", outputs)):
            if items:
                problems.append(f"{challenge.id}: {label}: {', '.join(items)}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    print("all checks hold" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
