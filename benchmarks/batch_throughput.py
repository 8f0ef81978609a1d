"""Throughput of `grade batch`, and whether batching changes any performance verdict.

    python benchmarks/batch_throughput.py OUT [--count 100] [--jobs 2] [--sandbox process]
                                              [--distinct] [--one-by-one]

Writes --count submissions of q3_decorator into OUT/submissions: copies of its
reference and its known-bads (one-defect ones built from the reference), renamed
candidate_001.py, ... in turn. With --distinct each copy gets a comment naming it, so
that every copy is a different file and is graded (without it, identical files are
graded once and their result reused: see graders/batch.py). Then it runs the batch,
timed, and prints where the time went, summed over the `grade` processes:

    worker start   process start to grading (interpreter, imports, challenge), and exit
    correctness    the tests' own time
    performance    the performance phases (the timing lock held)
    other          probing, workers, and waiting for the timing lock

With --one-by-one it then grades every distinct file alone, one after the other, and
compares each metric's verdict with the batch's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graders.batch import materialise_known  # noqa: E402
from graders.challenge import load_challenge  # noqa: E402
from graders.journal import Journal  # noqa: E402
from graders.result import Result  # noqa: E402


def make_submissions(out: Path, count: int, distinct: bool) -> list[Path]:
    challenge = load_challenge("q3_decorator")
    with tempfile.TemporaryDirectory() as scratch:
        originals = materialise_known(challenge, Path(scratch))
        texts = [path.read_text() for path in originals]
    folder = out / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(1, count + 1):
        path = folder / f"candidate_{number:03}.py"
        text = texts[(number - 1) % len(texts)]
        path.write_text(text + (f"\n# candidate {number}\n" if distinct else ""))
        written.append(path)
    return written


def verdicts(result: Result) -> dict[str, str]:
    return {m.name: m.verdict for m in result.performance.metrics}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sandbox", default="process")
    parser.add_argument("--distinct", action="store_true")
    parser.add_argument("--one-by-one", action="store_true")
    options = parser.parse_args()
    files = make_submissions(options.out, options.count, options.distinct)
    batch_dir = options.out / "batch"
    start = time.monotonic()
    code = subprocess.call([sys.executable, "-m", "graders.cli", "batch", "q3_decorator",
                            str(options.out / "submissions"), "--out", str(batch_dir),
                            "--jobs", str(options.jobs), "--sandbox", options.sandbox], cwd=REPO)
    wall = time.monotonic() - start
    records = {r.name: r for r in Journal(batch_dir / "results.jsonl").read()}
    graded = [r for r in records.values() if r.reused_from is None]
    start_s = sum(r.wall_s - r.result.duration_s for r in graded)
    tests_s = sum(t.duration_s for r in graded for t in r.result.tests)
    perf_s = sum(r.result.performance.duration_s for r in graded)
    other_s = sum(r.result.duration_s for r in graded) - tests_s - perf_s
    statuses = Counter(r.result.status for r in records.values())
    print(f"\n{len(records)}/{len(files)} submissions in {wall:.0f} s (exit {code}), "
          f"{len(graded)} graded, {len(records) - len(graded)} reused; --jobs {options.jobs}, "
          f"--sandbox {options.sandbox}; statuses {dict(statuses)}")
    print(f"summed over the {len(graded)} grade processes: worker start {start_s:.0f} s, "
          f"correctness {tests_s:.0f} s, performance {perf_s:.0f} s, other {other_s:.0f} s")
    phases: Counter[str] = Counter()
    for record in graded:
        for phase in record.result.timings or []:
            phases[phase.name] += phase.seconds
    if phases:  # what the results record, phase by phase (grade --timings)
        print("summed phases: " + ", ".join(f"{name} {seconds:.0f} s"
                                            for name, seconds in phases.items()))
    if graded:
        print(f"per graded submission: {sum(r.wall_s for r in graded) / len(graded):.1f} s "
              f"in its process, of which performance {perf_s / len(graded):.1f} s")
    summary = {"wall_s": wall, "submissions": len(files), "graded": len(graded),
               "worker_start_s": start_s, "correctness_s": tests_s, "performance_s": perf_s,
               "other_s": other_s, "phases_s": dict(phases)}
    if options.one_by_one:
        alone_dir = options.out / "alone"
        alone_dir.mkdir(exist_ok=True)
        different = []
        for record in graded:
            path = Path(record.file)
            target = alone_dir / f"{path.stem}.json"
            if not target.exists():
                subprocess.call([sys.executable, "-m", "graders.cli", "q3_decorator", str(path),
                                 "--json", str(target), "--quiet", "--sandbox", options.sandbox],
                                cwd=REPO, env={**os.environ})
            alone = verdicts(Result.from_json(target))
            if alone != verdicts(record.result):
                different.append((record.name, verdicts(record.result), alone))
        print(f"one by one: {len(graded) - len(different)}/{len(graded)} with the same "
              "verdicts as in the batch")
        for name, batched, single in different:
            print(f"  DIFFERENT {name}: batch {batched}, alone {single}")
        summary["different_verdicts"] = len(different)
    digest = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:8]
    (options.out / f"summary-{digest}.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
