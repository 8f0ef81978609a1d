"""Performance verdicts you can defend: paired, interleaved measurement (DESIGN §5).

The reference and the submission each run in their own worker with the same
sandbox configuration. After warm-up, rounds interleave them (R S, S R, R S, ...)
and the side not being timed is frozen, so neither can slow the other down. Every
time is taken here, on the trusted side, around one call that runs a batch of
work in the worker; the empty-call round trip is measured and reported beside
it. The compared figure gets a bootstrap confidence interval, and the verdict is
`pass`, `fail`, or `inconclusive` when the interval straddles the threshold, in
which case more rounds are measured up to a budget. One early look decides a
verdict no round leaves in doubt (`decided_early`).
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from graders.challenge import Metric, PerformanceConfig
from graders.proxy import ImportFailed, SubmissionRaised, WorkerFailure, WorkerProxy
from graders.result import MetricResult

# Seconds the calibration workload takes on the reference grading host, the
# machine the absolute targets were set on (2 cores), as the engine measures it
# where hiring teams grade: in the reference's docker worker, the best of three
# (median of five gradings 0.113 s, range 0.109-0.127: this host's speed drifts
# by that much). Other interpreters differ: pyenv's 3.11.7 on the same host takes
# ~0.135 s, so the process backend reads that host as ~1.2 times slower.
# See `host_factor`.
CALIBRATION_N = 2_000_000
CALIBRATION_REFERENCE_S = 0.113
BOOTSTRAP_SAMPLES = 2000


class MeasurementFailed(Exception):
    """A measured operation failed; `side` says whose."""

    def __init__(self, side: str, reason: str) -> None:
        super().__init__(reason)
        self.side = side


class BudgetSpent(MeasurementFailed):
    """The run's time budget ran out before the measurement ended: the submission's
    doing (its tests or its timed calls took the time), so its metric fails."""

    def __init__(self) -> None:
        super().__init__("submission", "the run's time budget was spent")


# -- statistics (pure) ---------------------------------------------------------

def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def _statistic(statistic: str, values: np.ndarray) -> np.ndarray:
    """The statistic of the rounds along the last axis (one set, or a stack of resamples)."""
    if statistic == "p95":
        return np.asarray(np.percentile(values, 95, axis=-1))
    return np.asarray(np.median(values, axis=-1) if statistic == "median"
                      else np.mean(values, axis=-1))


def compared_figures(statistic: str, sub: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The submission/reference ratio a threshold is compared with, along the last axis.

    For median and mean, the statistic of the per-round ratios: pairing each
    round cancels slow drifts of the machine. For p95, the ratio of the tails.
    """
    if statistic == "p95":
        return _statistic("p95", sub) / _statistic("p95", ref)
    return _statistic(statistic, sub / ref)


def compared_figure(statistic: str, sub: np.ndarray, ref: np.ndarray) -> float:
    return float(compared_figures(statistic, sub, ref))


def side_figure(statistic: str, values: np.ndarray) -> float:
    return float(_statistic(statistic, values))


def bootstrap_interval(
    figures: Callable[[np.ndarray], np.ndarray], rounds: int, confidence: float, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap over round indices (pairs stay together): `figures` maps a
    stack of resampled index rows to one figure per row, all in one numpy call (2,000
    resamples one by one took ~50 ms a metric)."""
    rng = np.random.default_rng(seed)
    samples = figures(rng.integers(0, rounds, (BOOTSTRAP_SAMPLES, rounds)))
    tail = (1 - confidence) / 2 * 100
    return percentile(samples, tail), percentile(samples, 100 - tail)


def verdict(interval: tuple[float, float], threshold: float) -> str:
    """Lower is better: pass if the whole interval is within the threshold."""
    low, high = interval
    if high <= threshold:
        return "pass"
    if low > threshold:
        return "fail"
    return "inconclusive"


# Early looks, before the configured rounds (see `decided_early`): a counter metric's
# after 3 rounds, a time ratio's after 6.
COUNTER_ROUNDS = 3
EARLY_ROUNDS = 6
EARLY_MARGIN = 1.25


def host_factor(calibration_s: float) -> float:
    """How much slower this host is than the reference grading host (>1: slower)."""
    return calibration_s / CALIBRATION_REFERENCE_S


# -- measurement (I/O) -----------------------------------------------------------

@dataclass
class Sides:
    submission: WorkerProxy
    reference: WorkerProxy
    # time.monotonic() by which the run's budget is spent: no call may run past it
    deadline: float = float("inf")
    # The measured rounds completed and their seconds, over every metric: where the
    # performance phase's time goes (result.Phase).
    rounds: int = 0
    rounds_s: float = 0.0

    def other(self, proxy: WorkerProxy) -> WorkerProxy:
        return self.reference if proxy is self.submission else self.submission

    def name(self, proxy: WorkerProxy) -> str:
        return "submission" if proxy is self.submission else "reference"


@contextmanager
def _side(sides: Sides, proxy: WorkerProxy) -> Iterator[None]:
    """Any failure of a call to `proxy` during a measurement is that side's failure."""
    try:
        yield
    except (SubmissionRaised, WorkerFailure, ImportFailed) as exc:
        raise MeasurementFailed(sides.name(proxy), str(exc)) from None


def _timed_call(sides: Sides, proxy: WorkerProxy, metric: Metric, timeout: float,
                seed: int) -> tuple[float, Any]:
    """Time one batch call with the other side frozen."""
    other = sides.other(proxy)
    args = {**metric.args, "seed": seed} if metric.seeded else metric.args
    left = sides.deadline - time.monotonic()
    if left <= 0:
        raise BudgetSpent
    timeout = min(timeout, left)
    with _side(sides, proxy):
        if not proxy.alive:  # (re)start and import outside the timer: never timed
            proxy.load()
        other.pause()
        try:
            start = time.perf_counter()
            value = proxy.call(metric.operation, timeout=timeout, **args)
            elapsed = time.perf_counter() - start
        finally:
            other.resume()
    return elapsed, value


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values, types included (True is not 1, 1.0 is not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return bool(a == b)


def _counter(value: Any, name: str, side: str) -> float:
    counters = value.get("counters") if isinstance(value, dict) else None
    count = counters.get(name) if isinstance(counters, dict) else None
    if isinstance(count, int | float) and type(count) is not bool and count >= 0:
        return float(count)  # exact JSON types only: True is not 1
    raise MeasurementFailed(side, f"the operation did not report counter {name!r}")


def _overhead(sides: Sides, repeats: int = 15) -> float:
    with _side(sides, sides.submission):
        return statistics.median(sides.submission.ping() for _ in range(repeats))


def _host_factor(sides: Sides) -> float:
    """Calibrate in the reference's worker, with the submission frozen."""
    with _side(sides, sides.reference):
        sides.submission.pause()
        try:
            return host_factor(min(sides.reference.calibrate(CALIBRATION_N) for _ in range(3)))
        finally:
            sides.submission.resume()


def _round(metric: Metric, sides: Sides, timeout: float, flip: bool) -> tuple[float, float]:
    """One interleaved round: (submission figure, reference figure)."""
    order = (sides.reference, sides.submission)
    for proxy in order:
        # (Re)start and import outside the timer, both sides before either is timed: a
        # spare worker not yet taken by a load would run on while the other side is timed.
        with _side(sides, proxy):
            if not proxy.alive:
                proxy.load()
    seed = secrets.randbits(31)  # fresh: a submission cannot prepare its answers
    taken: dict[str, tuple[float, Any]] = {}
    for proxy in order[::-1] if flip else order:
        taken[sides.name(proxy)] = _timed_call(sides, proxy, metric, timeout, seed)
    (sub_time, sub_value), (ref_time, ref_value) = taken["submission"], taken["reference"]
    if metric.seeded and not same_json(sub_value, ref_value):
        raise MeasurementFailed("submission", "it answered a measured batch differently from "
                                "the reference, so its time does not count")
    if metric.kind == "counter":
        return (_counter(sub_value, metric.counter or "", "submission"),
                _counter(ref_value, metric.counter or "", "reference"))
    return sub_time, ref_time


def measure_metric(metric: Metric, config: PerformanceConfig, sides: Sides,
                   timeout: float, seed: int,
                   begin_timing: Callable[[], None] = lambda: None) -> MetricResult:
    """Warm up (loads, untimed calls), call `begin_timing()`, then time the rounds: a
    caller that takes the host's timing lock there does not hold it through warm-ups."""
    header: dict[str, Any] = {
        "name": metric.name, "description": metric.description, "kind": metric.kind,
        "unit": metric.unit, "threshold": metric.threshold.model_dump(exclude_none=True),
        "required": metric.required, "weight": metric.weight,
    }
    sub: list[float] = []
    ref: list[float] = []
    counter = metric.kind == "counter"
    try:
        for _ in range(0 if counter else config.warmup):  # a count does not warm up
            _round(metric, sides, timeout, flip=False)
        begin_timing()
        overhead = _overhead(sides)
        factor = _host_factor(sides) if metric.threshold.absolute is not None else None
        looks = _looks(metric, config)
        while True:  # rounds up to the next look; then more while inconclusive
            look = next(looks)
            while len(sub) < look:
                started = time.perf_counter()
                s, r = _round(metric, sides, timeout, flip=len(sub) % 2 == 1)
                sides.rounds += 1
                sides.rounds_s += time.perf_counter() - started
                sub.append(s)
                ref.append(r)
            judged = _judge(metric, config, np.array(sub), np.array(ref), factor, seed)
            if len(sub) >= config.max_rounds or (judged["verdict"] != "inconclusive" and (
                    len(sub) >= config.rounds or decided_early(metric, sub, ref))):
                break
    except MeasurementFailed as exc:
        message = (f"not measured to the end: {exc}" if isinstance(exc, BudgetSpent)
                   else f"the {exc.side}'s measured operation failed: {exc}")
        return MetricResult(**header, submission=None, reference=None, ratio=None, interval=None,
                            verdict="fail" if exc.side == "submission" else "inconclusive",
                            rounds=len(sub), overhead_s=None, message=message)
    if judged["verdict"] == "inconclusive":
        judged["message"] = (f"inconclusive after {len(sub)} rounds: the interval straddles "
                             "the threshold; re-run on a quieter machine")
    return MetricResult(**header, **judged, rounds=len(sub), overhead_s=round(overhead, 6),
                        host_factor=factor)


def _judge(metric: Metric, config: PerformanceConfig, sub: np.ndarray, ref: np.ndarray,
           factor: float | None, seed: int) -> dict[str, Any]:
    stat = metric.statistic
    ratio = compared_figure(stat, sub, ref)
    common = {"submission": side_figure(stat, sub), "reference": side_figure(stat, ref),
              "ratio": round(ratio, 4)}
    if metric.threshold.absolute is not None:
        assert factor is not None
        normalised = side_figure(stat, sub) / factor
        interval = bootstrap_interval(lambda idx: _statistic(stat, sub[idx]) / factor,
                                      len(sub), config.confidence, seed)
        threshold = metric.threshold.absolute
        common["normalised"] = normalised
    else:
        interval = bootstrap_interval(lambda idx: compared_figures(stat, sub[idx], ref[idx]),
                                      len(sub), config.confidence, seed)
        threshold = metric.threshold.ratio or 0.0
    return {**common, "interval": [round(interval[0], 4), round(interval[1], 4)],
            "verdict": verdict(interval, threshold)}


def _looks(metric: Metric, config: PerformanceConfig) -> Iterator[int]:
    """The round counts at which the verdict is looked at: an early one (counters; time
    ratios of a median or mean: a p95 or an absolute target needs every round), then
    every `rounds` rounds."""
    if metric.kind == "counter":
        early = COUNTER_ROUNDS
    elif metric.threshold.ratio is not None and metric.statistic != "p95":
        early = EARLY_ROUNDS
    else:
        early = config.rounds
    if early < config.rounds:
        yield early
    yield from range(config.rounds, 1 << 30, config.rounds)


def decided_early(metric: Metric, sub: Sequence[float], ref: Sequence[float]) -> bool:
    """Whether the rounds so far settle a ratio verdict before the configured rounds.

    Counts that are the same in every round are exact, not samples: more rounds would
    repeat them. Otherwise every round's ratio must lie beyond the threshold by
    EARLY_MARGIN, on the same side. Were the submission's median ratio on the other
    side of the threshold, each round (paired, independent) would land beyond it with
    probability at most 1/2, so all of EARLY_ROUNDS do with probability at most
    2**-6 = 1.6% (a sign test), before the margin, which makes it far rarer: the error
    this adds to the interval's own.
    """
    if metric.kind == "counter" and len(set(sub)) == 1 and len(set(ref)) == 1:
        return True
    threshold = metric.threshold.ratio
    if threshold is None or len(sub) < EARLY_ROUNDS or min(ref) <= 0:
        return False
    ratios = [s / r for s, r in zip(sub, ref, strict=True)]
    return (all(x > threshold * EARLY_MARGIN for x in ratios)
            or all(x < threshold / EARLY_MARGIN for x in ratios))
