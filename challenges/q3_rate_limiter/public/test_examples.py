"""Example tests a candidate may read; `grade` runs them with full detail.

They drive your `TokenBucket` inside the sandbox through the challenge's driver
(driver.py): `make_bucket(rate, capacity, now)` creates a bucket whose clock is
the grader's, `bucket.at(t)` sets that clock, and `bucket.acquire(...)` reports,
besides what acquire returned, the total time it slept (each sleep advances the
clock by exactly what it asked).
"""

from graders.testing import core


@core
def test_starts_full_and_refills_at_rate(make_bucket):
    """Example: a new bucket is full; taken tokens come back at `rate` per second."""
    bucket = make_bucket(rate=2, capacity=5, now=0.0)
    assert bucket.available() == 5
    assert bucket.try_acquire(5)
    assert not bucket.try_acquire(1)
    assert abs(bucket.at(0.25).available() - 0.5) <= 1e-6


@core
def test_acquire_sleeps_just_long_enough(make_bucket):
    """Example: acquire sleeps deficit / rate (here 3 tokens at 2 per second: 1.5 s)."""
    bucket = make_bucket(rate=2, capacity=4, now=0.0)
    assert bucket.try_acquire(4)
    answer = bucket.acquire(3)
    assert answer["value"] is True
    assert abs(answer["slept"] - 1.5) <= 1e-3
    answer = bucket.acquire(4, timeout=1.0)  # needs 2 s: gives up at once
    assert answer["value"] is False and answer["slept"] == 0
