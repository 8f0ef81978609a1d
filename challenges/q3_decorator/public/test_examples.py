"""Example tests a candidate may read; `grade` runs them with full detail.

They drive your `ttl_cache` inside the sandbox through the challenge's driver
(driver.py): `make_cache(ttl, maxsize)` decorates a fresh function whose every
real call returns a new number, and `cache.at(t)` sets the clock it reads.
"""

from graders.testing import core


@core
def test_repeated_call_is_served_from_cache(make_cache):
    """Example: a repeated call within the TTL returns the cached value."""
    cache = make_cache(ttl=10).at(0.0)
    first = cache(1)
    assert cache.at(5.0)(1) == first


@core
def test_call_after_ttl_recomputes(make_cache):
    """Example: once the TTL has passed, the next call recomputes."""
    cache = make_cache(ttl=10).at(0.0)
    first = cache(1)
    assert cache.at(10.0)(1) != first
