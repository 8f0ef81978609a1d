"""The performance engine end to end on the probe challenge (process backend):
paired rounds, counters, absolute targets with host normalisation."""

import pytest

from tests.conftest import REPO, run_grade

PROBE = REPO / "tests" / "fixtures" / "challenges" / "probe"
SUBMISSIONS = REPO / "tests" / "fixtures" / "submissions"


@pytest.fixture(scope="module")
def slow_run(tmp_path_factory):
    return run_grade(PROBE, SUBMISSIONS / "probe_slow.py", "--sandbox", "process",
                     json_path=tmp_path_factory.mktemp("slow") / "r.json")


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    return run_grade(PROBE, REPO / "tests" / "fixtures" / "reference" / "probe.py",
                     "--sandbox", "process",
                     json_path=tmp_path_factory.mktemp("ref") / "r.json")


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
    assert latency["host_factor"] > 0
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


def test_a_batch_that_skips_its_work_fails(tmp_path):
    run = run_grade(PROBE, SUBMISSIONS / "probe_lazy.py", "--sandbox", "process",
                    json_path=tmp_path / "r.json")
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


class _LazyProxy:
    """A stand-in worker proxy whose import takes 0.3 s and whose calls are instant."""

    def __init__(self) -> None:
        self.alive = False

    def load(self) -> None:
        import time

        time.sleep(0.3)
        self.alive = True

    def call(self, name, *, timeout=None, **kwargs):
        if not self.alive:  # what the real proxy does for a call on a closed worker
            self.load()
        return [1]

    def pause(self) -> None: ...

    def resume(self) -> None: ...


def test_a_timed_call_never_includes_starting_or_importing():
    """With warmup = 0 the first round meets a closed worker: it is loaded before the timer."""
    from graders.challenge import Metric
    from graders.performance import Sides, _timed_call

    sides = Sides(submission=_LazyProxy(), reference=_LazyProxy())
    metric = Metric(name="m", description="", operation="op", threshold={"ratio": 2}, weight=1)
    elapsed, value = _timed_call(sides, sides.submission, metric, timeout=5, seed=1)
    assert value == [1]
    assert elapsed < 0.1, f"the timed region included the load ({elapsed:.2f} s)"


@pytest.mark.parametrize(("counts", "rounds"), [
    ([(2000, 1000)] * 40, 3),  # exact: three rounds
    ([(2000 + i % 2, 1000) for i in range(40)], 6),  # counts that vary: the usual 6
])
def test_a_counter_stops_early_only_when_its_counts_never_vary(monkeypatch, counts, rounds):
    from graders import performance
    from graders.challenge import load_challenge

    config = load_challenge(PROBE).config.performance
    metric = next(m for m in config.metrics if m.kind == "counter")
    taken = iter(counts)
    monkeypatch.setattr(performance, "_round", lambda *args, **kwargs: next(taken))
    monkeypatch.setattr(performance, "_overhead", lambda sides: 0.001)
    result = performance.measure_metric(metric, config, sides=None, timeout=1.0, seed=1)
    assert result.verdict == "fail" and result.rounds == rounds


@pytest.mark.parametrize(("ratios", "rounds"), [
    ([4.0] * 40, 6),  # every round far beyond the threshold of 2: decided at the early look
    ([0.9, 1.1] * 20, 6),  # every round far within it: likewise
    ([4.0] * 5 + [2.2] * 35, 10),  # one round of the six near the threshold: all 10
])
def test_a_time_ratio_is_decided_early_only_when_every_round_is_far_from_the_threshold(
        monkeypatch, ratios, rounds):
    from graders import performance
    from graders.challenge import load_challenge

    config = load_challenge(PROBE).config.performance.model_copy(update={"rounds": 10})
    metric = next(m for m in config.metrics if m.name == "work_time")
    assert metric.threshold.ratio == 2.0 and metric.statistic == "median"
    taken = iter((0.01 * ratio, 0.01) for ratio in ratios)
    monkeypatch.setattr(performance, "_round", lambda *args, **kwargs: next(taken))
    monkeypatch.setattr(performance, "_overhead", lambda sides: 0.001)
    result = performance.measure_metric(metric, config, sides=None, timeout=1.0, seed=1)
    assert result.rounds == rounds
