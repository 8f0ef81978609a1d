"""Performance verdicts are stable, and stay right with a core kept busy (P2).

Three runs each, on the docker backend, with another process spinning on one of
the two cores the whole time: the reference must never fail a metric and the
O(n)-eviction submission must never pass eviction_stream (either may become
inconclusive, which is honest under load). What is measured is the performance
phase, so each run grades one hidden test before it, not the whole suite;
benchmarks/stability.py gives the full figures, whole runs, with more runs.
"""

import pytest

from benchmarks.stability import measure
from tests.conftest import Q3, REPO, known_bad_file

# Under pytest-xdist one worker runs these and the real batch of test_batch.py, one after
# another. While the core spins, `measure` holds the host's timing lock: no other test's
# grading runs beside it.
pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_ready"),
              pytest.mark.xdist_group("busy_core")]

ONE_TEST = "test_hit_within_ttl_is_served"


def test_reference_is_never_failed_under_load():
    stability = measure(str(Q3), str(REPO / "reference" / "q3_decorator.py"), runs=3,
                        sandbox="docker", busy=True, only=ONE_TEST)
    assert not stability.flipped()
    assert set(stability.verdicts) == {"hit_overhead", "eviction_stream"}
    for name, counts in stability.verdicts.items():
        assert counts["fail"] == 0, (name, counts)
        assert counts.total() == 3, (name, counts)


def test_linear_eviction_never_passes_under_load(tmp_path):
    linear_eviction = known_bad_file(Q3, "linear_eviction", tmp_path)
    stability = measure(str(Q3), str(linear_eviction), runs=3,
                        sandbox="docker", busy=True, only=ONE_TEST)
    counts = stability.verdicts["eviction_stream"]
    assert counts["pass"] == 0 and counts.total() == 3, counts
