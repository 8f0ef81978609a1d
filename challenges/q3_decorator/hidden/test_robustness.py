"""Hidden suite, robustness: bad arguments, edge cases and threads."""

import pytest

from graders.testing import robustness


@robustness
@pytest.mark.parametrize("ttl", [0, -1, -0.5], ids=["zero", "negative", "negative-fraction"])
def test_non_positive_ttl_is_rejected(submission, ttl):
    """ttl <= 0 raises ValueError when the decorator is created."""
    made = submission.call("make", ttl=ttl)
    assert "raised" in made, "a non-positive ttl was accepted"
    assert made["raised"]["type"] == "ValueError", "a non-positive ttl did not raise ValueError"


@robustness
@pytest.mark.parametrize("maxsize", [0, -3], ids=["zero", "negative"])
def test_maxsize_below_one_is_rejected(submission, maxsize):
    """maxsize < 1 raises ValueError when the decorator is created."""
    made = submission.call("make", ttl=10, maxsize=maxsize)
    assert "raised" in made, "maxsize < 1 was accepted"
    assert made["raised"]["type"] == "ValueError", "maxsize < 1 did not raise ValueError"


@robustness
def test_maxsize_none_is_unbounded(make_cache):
    """maxsize=None keeps every entry."""
    cache = make_cache(ttl=100, maxsize=None).at(0.0)
    cache.fill(range(2000))
    assert cache.info()[2:] == (None, 2000), "maxsize=None did not keep every entry"
    assert not cache.computed(0), "maxsize=None evicted an entry"


@robustness
def test_maxsize_one(make_cache):
    """maxsize=1 keeps exactly the latest entry."""
    cache = make_cache(ttl=100, maxsize=1).at(0.0)
    cache(1)
    assert not cache.computed(1)
    cache(2)
    assert cache.computed(1), "maxsize=1 kept two entries"


@robustness
@pytest.mark.parametrize("kind", ["positional", "keyword"])
def test_unhashable_arguments_raise_type_error(make_cache, kind):
    """Unhashable arguments raise TypeError, as functools.lru_cache does."""
    cache = make_cache(ttl=10).at(0.0)
    args, kwargs = ([{"$list": [1, 2]}], {}) if kind == "positional" else ([], {"x": {"$dict": {}}})
    outcome = cache.call(*args, **kwargs)
    assert outcome["raised"] is not None, "unhashable arguments did not raise"
    assert outcome["raised"]["type"] == "TypeError", "unhashable arguments did not raise TypeError"


@robustness
def test_falsy_values_are_cached(make_cache):
    """0, False, '' and empty sequences are cached like any value."""
    cache = make_cache(ttl=10).at(0.0)
    falsy = [0, False, "", [], 0.0]
    cache.program(*({"value": v} for v in falsy))
    for key, value in enumerate(falsy):
        assert cache(key) == value
    for key in range(len(falsy)):
        assert not cache.computed(key), "a falsy result was not cached"


@robustness
def test_failed_call_counts_as_miss_and_stores_nothing(make_cache):
    """A call whose function raises is a miss and leaves nothing in the cache."""
    cache = make_cache(ttl=10, maxsize=4).at(0.0)
    cache.program({"raise": "boom"})
    assert cache.call(1)["raised"] is not None
    assert cache.info() == (0, 1, 4, 0), "a failed call was counted or stored wrongly"


@robustness
def test_expired_entries_are_evicted_before_live_ones(make_cache):
    """When the cache is full, expired entries go before live ones."""
    cache = make_cache(ttl=10, maxsize=2).at(0.0)
    cache("a")
    cache.at(5.0)("b")
    cache.at(6.0)("a")  # "a" is now the most recent, "b" the least recent
    cache.at(11.0)("c")  # "a" has expired; it must go rather than the live "b"
    assert not cache.at(12.0).computed("b"), "a live entry was evicted while an expired one stayed"


@robustness
def test_an_entry_aged_exactly_ttl_is_evicted_as_expired(make_cache):
    """When room is needed, an entry whose age is exactly ttl counts as expired and goes first."""
    cache = make_cache(ttl=10, maxsize=2).at(0.0)
    cache("a")
    cache.at(5.0)("b")
    cache.at(6.0)("a")  # a hit: "b" is the least recently used, "a" was stored at 0
    cache.at(10.0)("c")  # "a" has expired exactly now: it goes, not the live "b"
    assert not cache.computed("b"), "a live entry was evicted while an expired one stayed"

@robustness
def test_expired_entries_go_first_after_a_recomputation(make_cache):
    """Expired entries are evicted before live ones, also once entries have been recomputed."""
    cache = make_cache(ttl=10, maxsize=2).at(0.0)
    cache("a")
    cache.at(5.0)("b")
    assert cache.at(10.0).computed("a")  # expired: recomputed, now stored at 10
    cache.at(12.0)("b")  # a hit: "a" is now the least recently used, but live
    cache.at(16.0)("c")  # "b" (stored at 5) has expired: it must go, not the live "a"
    assert not cache.at(17.0).computed("a"), "a live entry was evicted while an expired one stayed"

@robustness
def test_default_clock_is_monotonic_time(submission):
    """Without a clock argument, entries expire after ttl seconds of real time."""
    answer = submission.call("real_clock_expiry", ttl=0.2)
    assert not answer.get("raised"), "creating the decorator or a call raised unexpectedly"
    assert answer["computed"] == [1, 0, 1], "the default clock did not expire entries in real time"


@robustness
def test_thread_safety(make_cache):
    """Calls from many threads never corrupt the cache, and hits + misses equals the calls."""
    threads, calls = 8, 3000
    cache = make_cache(ttl=1000, maxsize=16).at(0.0)
    # ~0.4 s when nothing deadlocks; a deadlock is given up on after 1 s without a call
    # returning (the time limit only backs that up)
    answer = cache.submission.call("hammer", handle=cache.handle, threads=threads, calls=calls,
                                   keys=40, wait=1.0, timeout=5)
    assert answer["finished"], "calls from several threads hung (a deadlock)"
    assert answer["errors"] == [], "calls from several threads raised"
    hits, misses, _, currsize = cache.info()
    assert hits + misses == threads * calls, "hits + misses is not the number of calls"
    assert currsize <= 16, "currsize exceeded maxsize under threads"
    assert answer["underlying"] == misses, "the function ran more or fewer times than misses"


@robustness
@pytest.mark.parametrize("bad", ["ttl", "maxsize"])
def test_bad_arguments_raise_before_any_function_is_decorated(submission, bad):
    """ttl <= 0 or maxsize < 1 raise ValueError from ttl_cache(...) itself, before decorating."""
    arguments = {"ttl": 0} if bad == "ttl" else {"ttl": 10, "maxsize": 0}
    answer = submission.call("create", **arguments)
    assert answer["raised"] is not None, \
        "ttl_cache(...) with a bad argument did not raise until a function was decorated"
    assert answer["raised"]["type"] == "ValueError", \
        "ttl_cache(...) with a bad argument did not raise ValueError"


@robustness
def test_default_maxsize_is_unbounded(make_cache):
    """Without a maxsize argument the cache is unbounded and cache_info().maxsize is None."""
    cache = make_cache(ttl=100).at(0.0)
    assert cache.info() == (0, 0, None, 0), "a new cache without maxsize is not (0, 0, None, 0)"
    cache.fill(range(300))
    assert cache.info()[2:] == (None, 300), "the default maxsize did not keep every entry"
    assert not cache.computed(0), "the default maxsize evicted an entry"


@robustness
def test_a_failed_call_evicts_nothing(make_cache):
    """A call whose function raises evicts no entry, even from a full cache."""
    cache = make_cache(ttl=100, maxsize=2).at(0.0)
    cache("a"), cache("b")
    cache.program({"raise": "boom"})
    assert cache.call("c")["raised"] is not None, "the function's exception did not propagate"
    assert not cache.computed("a"), "a call whose function raised evicted an entry"
    assert not cache.computed("b"), "a call whose function raised evicted an entry"


@robustness
@pytest.mark.parametrize("failure", ["function-raised", "unhashable-arguments"])
def test_cache_stays_usable_from_other_threads_after_a_call_raised(make_cache, failure):
    """After a call that raised (in the function, or TypeError), other threads can use the cache."""
    cache = make_cache(ttl=100, maxsize=4).at(0.0)
    if failure == "function-raised":
        cache.program({"raise": "boom"})
        raised, expected = cache.call(1)["raised"], "ValueError"
    else:
        raised, expected = cache.call({"$list": [1]})["raised"], "TypeError"
    assert raised is not None and raised["type"] == expected, "the failing call did not raise"
    other = cache.submission.call("call_in_thread", handle=cache.handle, args=[1], wait=1.0)
    assert other["finished"], "a call from another thread hung after a call that raised"
    assert other["raised"] is None and other["computed"] == 1, \
        "a call from another thread failed after a call that raised"
    assert not cache.computed(1), "the other thread's result was not cached"
    again = cache.submission.call("call_in_thread", handle=cache.handle, args=[1], wait=1.0)
    assert again["finished"] and again["raised"] is None and again["computed"] == 0, \
        "a third thread was not served from the cache after a call that raised"


@robustness
def test_other_threads_see_hits_and_expiry(make_cache):
    """An entry stored by one thread is a hit in another, and is recomputed there once expired."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(1)
    other = cache.submission.call("call_in_thread", handle=cache.handle, args=[1], wait=1.0)
    assert other["finished"] and other["raised"] is None, "a call from another thread failed"
    assert other["computed"] == 0, "another thread did not get a hit"
    cache.at(10.0)
    other = cache.submission.call("call_in_thread", handle=cache.handle, args=[1], wait=1.0)
    assert other["finished"], "a call from another thread hung once the entry had expired"
    assert other["raised"] is None and other["computed"] == 1, \
        "another thread did not recompute an expired entry"


@robustness
def test_threads_calling_the_same_new_keys_together(make_cache):
    """Many threads calling the same new key at once, round after round, never hang or fail."""
    threads, rounds = 8, 600
    # f sleeps a little, so every thread of a round is inside the cache at once: without
    # it, whether a race shows depends on the scheduler (an unlocked cache passed 1 in 8).
    cache = make_cache(ttl=1000, maxsize=16, delay=0.0002).at(0.0)
    answer = cache.submission.call("same_key_rounds", handle=cache.handle, threads=threads,
                                   rounds=rounds, wait=1.0, timeout=20)
    assert answer["finished"], "a call hung while other threads called for the same key"
    assert answer["errors"] == [], "calls from several threads raised"
    hits, misses, _, currsize = cache.info()
    assert hits + misses == threads * rounds, "hits + misses is not the number of calls"
    assert currsize <= 16, "currsize exceeded maxsize under threads"
    assert answer["underlying"] == misses, "the function ran more or fewer times than misses"
