"""The performance engine end to end on the probe challenge: paired rounds, counters,
absolute targets with host normalisation, and the side not timed frozen.

The runs are on the fake backend (tests/fakes.py): each submission of the probe's
fixtures (the reference, probe_slow.py, probe_lazy.py) is answered by a model of it
whose batches sleep, so the grade, the suite, the engine, the proxy and the protocol
are the real ones while no worker starts and timing costs no CPU. A real worker's
performance phase is graded in tests/test_result_schema.py (the probe reference) and
tests/test_timings.py (the q3 reference).
"""

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import pytest

from graders import performance, timing_lock
from graders.challenge import load_challenge
from graders.runner import grade, make_proxy
from graders.submission import read_submission
from tests.conftest import PROBE, PROBE_REFERENCE, REPO
from tests.fakes import FakeBackend, FakeWorker, ProbeModel, driver, ok

# Under pytest-xdist (`make test`) one worker runs this module: its fixture grades once.
pytestmark = pytest.mark.xdist_group("test_performance_engine")

SUBMISSIONS = REPO / "tests" / "fixtures" / "submissions"
REFERENCE = PROBE_REFERENCE

STEP_S = 5e-9  # the reference's measured batch, work(1_000_000), takes 5 ms
CALIBRATION_S = performance.CALIBRATION_REFERENCE_S / 2  # a host twice the reference host's speed
MODELS = {  # each fixture file's source, and what its worker answers
    REFERENCE.read_text(): ProbeModel(STEP_S),
    (SUBMISSIONS / "probe_slow.py").read_text(): ProbeModel(5 * STEP_S, steps=2),
    (SUBMISSIONS / "probe_lazy.py").read_text(): ProbeModel(STEP_S, lazy=True),
}


@dataclass
class Run:
    result: dict[str, Any]  # as `grade --json` writes it
    backend: FakeBackend


def _grade(submission, lock_dir, metrics=None) -> Run:
    backend = FakeBackend(driver(MODELS, calibration_s=CALIBRATION_S))
    with pytest.MonkeyPatch.context() as patch:
        # Batches that sleep need not wait for, nor hold up, real timing on this host.
        patch.setattr(timing_lock, "LOCK_PATH", lock_dir / "perf.lock")
        result = grade(load_challenge(PROBE), read_submission(submission), backend=backend,
                       metrics=metrics)
    assert backend.left_running == [], "the run left a worker running"
    assert timing_lock.CORRECTNESS_FD_ENV not in os.environ, "the run kept its hold on the lock"
    return Run(json.loads(result.to_json()), backend)


@pytest.fixture(scope="module")
def slow_run(tmp_path_factory):
    return _grade(SUBMISSIONS / "probe_slow.py", tmp_path_factory.mktemp("slow"))


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    return _grade(REFERENCE, tmp_path_factory.mktemp("ref"))


def _metrics(run):
    return {m["name"]: m for m in run.result["performance"]["metrics"]}


def test_reference_against_itself_passes_every_metric(reference_run):
    metrics = _metrics(reference_run)
    assert {m["verdict"] for m in metrics.values()} == {"pass"}, metrics
    assert reference_run.result["status"] == "passed"
    steps = metrics["work_steps"]
    assert steps["ratio"] == 1.0 and steps["submission"] == steps["reference"] == 1000


def test_every_metric_reports_how_it_was_measured(reference_run):
    for metric in _metrics(reference_run).values():
        # counts the same in every round are exact: the first few rounds decide
        assert metric["rounds"] == 3 if metric["kind"] == "counter" else metric["rounds"] >= 6
        assert metric["overhead_s"] is not None and 0 < metric["overhead_s"] < 0.5
        low, high = metric["interval"]
        assert low <= high
        assert set(metric["threshold"]) <= {"ratio", "absolute"}


def test_absolute_target_is_normalised_by_the_host_speed(reference_run):
    latency = _metrics(reference_run)["work_latency"]
    assert latency["threshold"] == {"absolute": 0.5}
    # The calibration takes half the reference host's time here (and a sleep never less)
    assert 0.5 <= latency["host_factor"] < 1
    assert latency["normalised"] == pytest.approx(latency["submission"] / latency["host_factor"])


def test_five_times_the_work_fails_the_time_ratio(slow_run):
    work = _metrics(slow_run)["work_time"]
    assert work["verdict"] == "fail"
    assert work["interval"][0] > 2.0


def test_counters_are_compared_exactly(slow_run):
    steps = _metrics(slow_run)["work_steps"]
    assert (steps["submission"], steps["reference"], steps["ratio"]) == (2000, 1000, 2.0)
    assert steps["verdict"] == "fail"
    assert slow_run.result["status"] == "failed"
    assert "work_time failed" in slow_run.result["message"]


def test_performance_phase_duration_is_reported(slow_run):
    performance = slow_run.result["performance"]
    assert 0 < performance["duration_s"] < slow_run.result["duration_s"]
    assert performance["max_score"] == 3


def test_the_side_not_timed_is_frozen_during_every_timed_call(slow_run):
    """From the reference's first import on, every call and calibration is timed: from its
    request to its answer, each live worker of the other side (a spare started during
    the suite included) is paused."""
    config = load_challenge(PROBE).config.performance
    live: set[FakeWorker] = set()
    paused: set[FakeWorker] = set()
    timed = 0
    measuring = False
    for event in slow_run.backend.events:
        side = event.worker.job.endswith("-ref")
        measuring = measuring or (side and event.kind == "request"
                                  and event.request["op"] == "load")
        if event.kind == "start":
            live.add(event.worker)
        elif event.kind == "kill":
            live.discard(event.worker)
        elif event.kind == "pause":
            paused.add(event.worker)
        elif event.kind == "resume":
            paused.discard(event.worker)
        elif measuring and event.request and event.request["op"] in ("call", "calibrate"):
            others = {worker for worker in live if worker.job.endswith("-ref") != side}
            assert others <= paused, (event, others - paused)
            timed += event.kind == "request"
    rounds = sum(2 * (m["rounds"] + (0 if m["kind"] == "counter" else config.warmup))
                 for m in _metrics(slow_run).values())
    assert timed == rounds + 3  # and the three calibrations of the absolute target


def test_a_run_can_measure_just_some_metrics(tmp_path):
    """Validation measures a known-bad on the metrics its outcome names, no others."""
    run = _grade(SUBMISSIONS / "probe_slow.py", tmp_path, metrics={"work_steps"})
    assert list(_metrics(run)) == ["work_steps"]
    assert _grade(REFERENCE, tmp_path, metrics=set()).result["performance"]["metrics"] == []


def test_a_batch_that_skips_its_work_fails(tmp_path):
    run = _grade(SUBMISSIONS / "probe_lazy.py", tmp_path)
    work = _metrics(run)["work_time"]
    assert work["verdict"] == "fail"
    assert "answered a measured batch differently from the reference" in work["message"]


@pytest.mark.parametrize(("a", "b", "same"), [
    (1, 1, True), (1, 1.0, False), (True, 1, False), ([1, [2]], [1, [2]], True),
    ({"a": 1}, {"a": 1}, True), ({"a": 1}, {"a": True}, False), ([1], [1, 2], False),
])
def test_same_json_compares_types(a, b, same):
    from graders.performance import same_json

    assert same_json(a, b) is same


def _sides(handler) -> tuple[performance.Sides, FakeBackend]:
    backend = FakeBackend(handler)
    challenge = load_challenge(PROBE)
    proxies = (make_proxy(backend, challenge, "", job) for job in ("s", "s-ref"))
    return performance.Sides(*proxies), backend


def _unasked(request, worker):
    raise AssertionError(f"no worker should be asked anything; asked {request}")


def _slow_to_start(request, worker):
    """A worker that takes 0.15 s to come up and as long to import, and answers calls at once."""
    if request["op"] in ("ping", "load"):
        time.sleep(0.15)
    return ok([1])


def test_a_timed_call_never_includes_starting_or_importing():
    """With warmup = 0 the first round meets a closed worker: it is loaded before the timer."""
    from graders.challenge import Metric
    from graders.performance import _timed_call

    sides, backend = _sides(_slow_to_start)
    metric = Metric(name="m", description="", operation="work", threshold={"ratio": 2}, weight=1)
    try:
        elapsed, value = _timed_call(sides, sides.submission, metric, timeout=5, seed=1)
    finally:
        sides.submission.close()
    assert value == [1]
    assert [request["op"] for request in backend.workers[0].requests] == ["ping", "load", "call"]
    assert elapsed < 0.1, f"the timed region included the load ({elapsed:.2f} s)"


@pytest.mark.parametrize(("counts", "rounds"), [
    ([(2000, 1000)] * 40, 3),  # exact: three rounds
    ([(2000 + i % 2, 1000) for i in range(40)], 12),  # counts that vary: the configured 12
])
def test_a_counter_stops_early_only_when_its_counts_never_vary(monkeypatch, counts, rounds):
    config = load_challenge(PROBE).config.performance
    metric = next(m for m in config.metrics if m.kind == "counter")
    taken = iter(counts)
    monkeypatch.setattr(performance, "_round", lambda *args, **kwargs: next(taken))
    monkeypatch.setattr(performance, "_overhead", lambda sides: 0.001)
    sides, backend = _sides(_unasked)  # the rounds are the ones given: no worker starts
    result = performance.measure_metric(metric, config, sides, timeout=1.0, seed=1)
    assert backend.workers == []
    assert result.verdict == "fail" and result.rounds == sides.rounds == rounds


@pytest.mark.parametrize(("ratios", "rounds"), [
    ([4.0] * 40, 6),  # every round far beyond the threshold of 2: decided at the early look
    ([0.9, 1.1] * 20, 6),  # every round far within it: likewise
    ([4.0] * 5 + [2.2] * 35, 10),  # one round of the six near the threshold: all 10
])
def test_a_time_ratio_is_decided_early_only_when_every_round_is_far_from_the_threshold(
        monkeypatch, ratios, rounds):
    config = load_challenge(PROBE).config.performance.model_copy(update={"rounds": 10})
    metric = next(m for m in config.metrics if m.name == "work_time")
    assert metric.threshold.ratio == 2.0 and metric.statistic == "median"
    taken = iter((0.01 * ratio, 0.01) for ratio in ratios)
    monkeypatch.setattr(performance, "_round", lambda *args, **kwargs: next(taken))
    monkeypatch.setattr(performance, "_overhead", lambda sides: 0.001)
    sides, backend = _sides(_unasked)  # the rounds are the ones given: no worker starts
    result = performance.measure_metric(metric, config, sides, timeout=1.0, seed=1)
    assert backend.workers == []
    assert result.rounds == sides.rounds == rounds


@pytest.mark.parametrize("order", [["work_steps", "work_time"], ["work_time", "work_steps"],
                                   ["work_time", "work_steps", "work_latency"]])
def test_only_the_timed_span_holds_the_lock_exclusive(tmp_path, monkeypatch, order):
    """A count is not a time: a counter before the first timed metric or after the last is
    measured under the run's shared hold, as its tests are (no timer elsewhere meanwhile,
    correctness work beside it); nor is a warm-up: the first timed metric warms up under
    it too. From the first timed round to the end of the last timed metric, the lock is
    held exclusive. The metrics are measured, and reported, in the challenge's order."""
    lock = tmp_path / "perf.lock"
    monkeypatch.setattr(timing_lock, "LOCK_PATH", lock)
    challenge = load_challenge(PROBE)
    config = challenge.config.performance
    by_name = {m.name: m for m in config.metrics}
    challenge.config = challenge.config.model_copy(update={
        "performance": config.model_copy(update={"metrics": [by_name[n] for n in order]})})
    held: dict[str, list[tuple[bool, bool]]] = {name: [] for name in order}
    one_round = performance._round

    def observed(metric, *args, **kwargs):
        other = timing_lock.try_correctness_lock(lock)  # None while a timer holds it
        if other is not None:
            os.close(other)
        held[metric.name].append((other is None, timing_lock.CORRECTNESS_FD_ENV in os.environ))
        return one_round(metric, *args, **kwargs)

    monkeypatch.setattr(performance, "_round", observed)
    backend = FakeBackend(driver(MODELS, calibration_s=CALIBRATION_S))
    result = grade(challenge, read_submission(REFERENCE), backend=backend)
    assert [m.name for m in result.performance.metrics] == order
    timed = [i for i, name in enumerate(order) if name != "work_steps"]
    exclusive, shared = (True, False), (False, True)
    for i, name in enumerate(order):
        rounds = held[name]
        assert len(rounds) > config.warmup, (name, held)
        if i == timed[0]:  # its warm-up under the shared hold, then every round exclusive
            assert rounds == [shared] * config.warmup + [exclusive] * (
                len(rounds) - config.warmup), (name, held)
        else:
            assert set(rounds) == {exclusive if timed[0] < i <= timed[-1] else shared}, (
                name, held)
    assert timing_lock.CORRECTNESS_FD_ENV not in os.environ, "the run kept its hold on the lock"
