"""How long one grading takes, and where the time goes (issue P10).

    python -m benchmarks.grade_speed [--runs 5] [--sandbox docker process]
                                     [--challenge q3_decorator] [--failing kwarg_order_key]
                                     [--before OTHER_CHECKOUT]

Grades the challenge's reference, then a known-bad that fails one core test, `--runs`
times each on each backend, each run a fresh `grade` process as a candidate runs it
(interpreter start and imports included), alternating the two files. Prints each
file's median wall time per backend and the median of every phase the result records
(`grade --timings` shows one run's). With `--before`, every run is made with that
checkout too (`git worktree add /tmp/before HEAD~3`), alternating, so a before and an
after are measured side by side on the same host in the same minutes: this host's
speed drifts by tens of percent from hour to hour (the figure printed first, the
calibration workload's best time, shows how fast it runs). Run it on a quiet machine:
it measures this host, not the harness alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graders.batch import materialise_known  # noqa: E402
from graders.challenge import load_challenge  # noqa: E402
from graders.result import PHASES  # noqa: E402


def grade_once(challenge: str, path: Path, sandbox: str, out: Path, repo: Path = REPO
                ) -> dict[str, float]:
    """Wall seconds of one `grade` process (of the checkout `repo`) and the seconds of
    each phase it recorded."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "graders.cli", challenge, str(path), "--sandbox",
                    sandbox, "--quiet", "--json", str(out)], cwd=repo, check=False,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    result = json.loads(out.read_text())
    figures = {"wall": wall, "status": result["status"]}
    figures.update({phase["name"]: phase["seconds"] for phase in result.get("timings", [])})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sandbox", nargs="+", default=["docker", "process"])
    parser.add_argument("--challenge", default="q3_decorator")
    parser.add_argument("--failing", default="kwarg_order_key",
                        help="the known-bad graded besides the reference (one core test fails)")
    parser.add_argument("--before", type=Path, metavar="CHECKOUT",
                        help="another checkout of the project, measured alternately with this one")
    options = parser.parse_args(argv)
    if options.before is not None and not (options.before / "graders" / "cli.py").is_file():
        parser.error(f"--before {options.before} is not a checkout of this project (no "
                     "graders/cli.py there); give the directory of `git worktree add`.")
    challenge = load_challenge(options.challenge)
    trees = {"": REPO} if options.before is None else {
        "before ": options.before.resolve(), "after ": REPO}
    print(f"host: the calibration workload takes {host_speed():.3f} s (best of 5; lower is "
          "faster)")
    with tempfile.TemporaryDirectory() as scratch:
        files = {path.stem: path for path in materialise_known(challenge, Path(scratch))}
        chosen = {"reference": files["reference"], options.failing: files[options.failing]}
        out = Path(scratch) / "result.json"
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(options.runs):
            for sandbox in options.sandbox:
                for label, path in chosen.items():
                    for tree, repo in trees.items():
                        figures = grade_once(challenge.id, path, sandbox, out, repo)
                        runs.setdefault((sandbox, tree + label), []).append(figures)
    print(f"{challenge.id}: median of {options.runs} runs, seconds")
    print(f"{'sandbox':8} {'file':30} {'status':7} {'wall':>6} "
          + " ".join(f"{phase:>11}" for phase in PHASES))
    for (sandbox, label), figures in runs.items():
        statuses = sorted({str(f["status"]) for f in figures})
        medians = [statistics.median(float(f.get(phase, 0.0)) for f in figures)
                   for phase in ("wall", *PHASES)]
        print(f"{sandbox:8} {label:30} {'/'.join(statuses):7} {medians[0]:6.2f} "
              + " ".join(f"{value:11.3f}" for value in medians[1:]))
    return 0


def host_speed() -> float:
    """The best of five timings of the worker's calibration workload, in this interpreter."""
    sys.path.insert(0, str(REPO / "sandbox"))
    from worker import calibrate  # type: ignore[import-not-found]

    from graders.performance import CALIBRATION_N

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        calibrate(CALIBRATION_N)
        timings.append(time.perf_counter() - started)
    return min(timings)


if __name__ == "__main__":
    raise SystemExit(main())
