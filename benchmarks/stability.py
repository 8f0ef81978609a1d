"""How stable are performance verdicts? Grade one submission N times and count.

    python -m benchmarks.stability challenges/q3_decorator reference/q3_decorator.py \
        --runs 5 --sandbox docker [--busy]

Each run is a whole grading in a fresh interpreter, as `grade` runs one; `--only
TEST` runs just that hidden test before the performance phase (the project's tests
use it: the verdicts measured here are the performance phase's). `--busy` keeps one
core busy with another process for the whole benchmark (the noisy-neighbour case);
meanwhile the benchmark holds this host's timing lock, so no other grading on the
host is timed beside the spinning core, and its own runs share a lock of their own.
Prints, per metric, how often each verdict occurred and the spread of the ratio,
and the time the performance phase added to a run. Exits 1 if a metric's verdict
was `pass` in one run and `fail` in another (`inconclusive` may appear under load).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from graders.result import Result


@dataclass
class Stability:
    statuses: Counter[str] = field(default_factory=Counter)
    verdicts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    ratios: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    run_times: list[float] = field(default_factory=list)
    performance_times: list[float] = field(default_factory=list)

    def flipped(self) -> list[str]:
        return [name for name, c in self.verdicts.items() if c["pass"] and c["fail"]]


def _spin() -> None:
    while True:
        pass


@contextmanager
def _busy_core(lock_dir: str) -> Iterator[None]:
    """One core kept busy by another process, with this host's timing lock held: other
    gradings here wait rather than be timed beside it (or slow this benchmark's)."""
    from graders import timing_lock

    spinner = multiprocessing.get_context("fork").Process(target=_spin, daemon=True)
    with timing_lock.exclusive_timing():
        os.environ["GRADERS_LOCK_DIR"] = lock_dir  # for this benchmark's own runs
        spinner.start()
        try:
            yield
        finally:
            spinner.terminate()
            spinner.join()  # its copy of the lock's descriptor goes with it
            del os.environ["GRADERS_LOCK_DIR"]


def _grade(challenge: str, submission: str, sandbox: str, only: str | None,
           out: str) -> None:
    """One grading, in a fresh interpreter (the spawned process this runs in)."""
    from graders.challenge import load_challenge
    from graders.runner import grade
    from graders.submission import read_submission

    grade(load_challenge(challenge), read_submission(Path(submission)), sandbox=sandbox,
          only=None if only is None else [only]).write_json(out)


def measure(challenge: str, submission: str, runs: int, sandbox: str, busy: bool,
            progress: bool = False, only: str | None = None) -> Stability:
    stability = Stability()
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, _busy_core(tmp) if busy else nullcontext():
        for run in range(runs):
            out = Path(tmp) / f"run{run}.json"
            grading = spawn.Process(target=_grade,
                                    args=(challenge, submission, sandbox, only, str(out)))
            grading.start()
            grading.join()
            if grading.exitcode != 0:
                raise RuntimeError(f"run {run + 1} ended with exit code {grading.exitcode}")
            result = Result.from_json(out)
            stability.statuses[result.status] += 1
            stability.run_times.append(result.duration_s)
            stability.performance_times.append(result.performance.duration_s)
            for metric in result.performance.metrics:
                stability.verdicts[metric.name][metric.verdict] += 1
                if metric.ratio is not None:
                    stability.ratios[metric.name].append(metric.ratio)
            if progress:
                print(f"run {run + 1}/{runs}: {result.status} " + " ".join(
                    f"{m.name}={m.verdict}({m.ratio})"
                    for m in result.performance.metrics), flush=True)
    return stability


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("challenge")
    parser.add_argument("submission")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sandbox", default="auto")
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--only", metavar="TEST",
                        help="run just this hidden test before the performance phase")
    options = parser.parse_args()
    stability = measure(options.challenge, options.submission, options.runs, options.sandbox,
                        options.busy, progress=True, only=options.only)
    print(f"\n{options.submission} x{options.runs} on {options.sandbox}"
          f"{' with one core busy' if options.busy else ''}")
    print(f"statuses: {dict(stability.statuses)}")
    for name, counts in stability.verdicts.items():
        spread = stability.ratios[name]
        span = f"ratio {min(spread):.2f}-{max(spread):.2f}" if spread else "no ratio"
        print(f"  {name}: {dict(counts)}  {span}")
    times = stability.performance_times
    print(f"run time: median {statistics.median(stability.run_times):.1f} s; performance "
          f"phase: median {statistics.median(times):.1f} s (min {min(times):.1f}, "
          f"max {max(times):.1f})")
    return 1 if stability.flipped() else 0


if __name__ == "__main__":
    sys.exit(main())
