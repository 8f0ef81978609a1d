"""Hidden suite, core: the basic contract of ttl_cache."""

from graders.testing import core


@core
def test_hit_within_ttl_is_served(make_cache):
    """A repeated call within the TTL is served from the cache without recomputing."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(1)
    assert not cache.at(3.0).computed(1), "a call within the TTL recomputed"
    assert not cache.at(9.5).computed(1), "a call within the TTL recomputed"


@core
def test_value_is_returned_from_cache(make_cache):
    """A hit returns the value the function returned when the entry was stored."""
    cache = make_cache(ttl=10).at(0.0)
    cache.program({"value": "stored"}, {"value": "recomputed"})
    assert cache(1) == "stored"
    assert cache.at(1.0)(1) == "stored", "a hit did not return the cached value"


@core
def test_expiry_boundary_is_exclusive(make_cache):
    """An entry is served while clock() - t0 < ttl and recomputed once it equals ttl."""
    cache = make_cache(ttl=10).at(100.0)
    assert cache.computed("k")
    assert not cache.at(109.75).computed("k"), "an entry was recomputed before its TTL"
    assert cache.at(110.0).computed("k"), "an entry was served at exactly its TTL"


@core
def test_hit_does_not_extend_ttl(make_cache):
    """A hit does not extend an entry's lifetime: it expires ttl after it was stored."""
    cache = make_cache(ttl=10).at(0.0)
    cache(1)
    cache.at(8.0)(1)
    assert cache.at(10.0).computed(1), "a hit extended the entry's lifetime"


@core
def test_a_recomputed_entry_is_the_most_recently_used(make_cache):
    """An entry recomputed after it expired is new: the most recently used, with a new t0."""
    cache = make_cache(ttl=10, maxsize=2).at(0.0)
    cache("a")
    cache.at(5.0)("b")
    assert cache.at(10.0).computed("a")  # expired: recomputed, so now the most recently used
    cache.at(11.0)("c")  # needs room: evicts the least recently used
    assert not cache.at(19.0).computed("a"), "a recomputed entry was evicted as if still old"
    assert cache.at(20.0).computed("a"), "a recomputed entry outlived its new t0 + ttl"

@core
def test_t0_is_read_after_the_function_returns(make_cache):
    """The entry's time is read once the function has returned, not before it ran."""
    cache = make_cache(ttl=10).at(0.0)
    cache.program({"value": "slow", "advance": 5.0})
    assert cache(1) == "slow"
    assert not cache.at(14.0).computed(1), "t0 was read before the function ran"
    assert cache.at(15.0).computed(1), "the entry outlived its TTL"


@core
def test_distinct_arguments_are_distinct_entries(make_cache):
    """Calls with different arguments do not share an entry."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(1)
    assert cache.computed(2), "calls with different arguments shared an entry"
    assert cache.computed(1, 2), "calls with different arguments shared an entry"
    assert cache.computed(x=1), "calls with different arguments shared an entry"
    assert not cache.computed(1), "an entry was lost"


@core
def test_equal_arguments_share_an_entry(make_cache):
    """Arguments that are equal but of different types (like 1 and 1.0) share one entry."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(1)
    assert not cache.computed(1.0), "equal positional arguments of different types did not share"
    assert not cache.computed(True), "equal positional arguments of different types did not share"
    assert cache.computed([3, 4])
    assert not cache.computed([3.0, 4]), "equal tuple arguments did not share an entry"
    assert cache.computed(x=5)
    assert not cache.computed(x=5.0), "equal keyword arguments of different types did not share"


@core
def test_unequal_arguments_with_equal_hashes_never_share(make_cache):
    """Unequal arguments never share an entry, even when their hashes are equal."""
    cache = make_cache(ttl=10).at(0.0)
    for first, second in [(-1, -2), (1, 2**61)]:  # equal hashes in CPython
        assert cache.computed(first)
        assert cache.computed(second), "unequal arguments with equal hashes shared an entry"
        assert cache.computed(x=first)
        assert cache.computed(x=second), "unequal arguments with equal hashes shared an entry"
    assert not cache.computed(-1) and not cache.computed(-2), "an entry was lost"

@core
def test_keyword_names_are_part_of_the_key(make_cache):
    """A keyword argument never shares an entry with another name or with a positional argument."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(x=5)
    assert cache.computed(y=5), "keyword arguments with different names shared an entry"
    assert cache.computed(["x", 5]), "a keyword argument and a positional argument shared an entry"
    assert cache.computed(["x", 5], x=5), "calls with different arguments shared an entry"
    assert not cache.computed(x=5) and not cache.computed(y=5), "an entry was lost"

@core
def test_keyword_order_does_not_matter(make_cache):
    """Equal keyword arguments given in a different order share one entry."""
    cache = make_cache(ttl=10).at(0.0)
    assert cache.computed(0, a=1, b=2)
    assert not cache.computed(0, b=2, a=1), "keyword order changed the cache key"


@core
def test_exceptions_propagate_and_are_not_cached(make_cache):
    """An exception raised by the function propagates and is never cached."""
    cache = make_cache(ttl=10).at(0.0)
    cache.program({"raise": "boom"}, {"value": "fine"})
    outcome = cache.call(1)
    assert outcome["raised"] is not None, "the exception did not propagate"
    assert outcome["raised"]["type"] == "ValueError", "the exception's type changed"
    outcome = cache.call(1)
    assert outcome["raised"] is None, "an exception was cached"
    assert outcome["value"] == "fine" and outcome["computed"] == 1


@core
def test_an_exception_after_expiry_propagates(make_cache):
    """When recomputing an expired entry raises, the exception propagates; no stale value."""
    cache = make_cache(ttl=10).at(0.0)
    cache.program({"value": "old"}, {"raise": "boom"}, {"value": "new"})
    assert cache(1) == "old"
    outcome = cache.at(10.0).call(1)
    assert outcome["raised"] is not None, "an expired value was returned instead of the exception"
    assert cache.at(11.0)(1) == "new", "the call after a failed recomputation did not recompute"

@core
def test_none_is_cached(make_cache):
    """A None result is cached like any other value."""
    cache = make_cache(ttl=10).at(0.0)
    cache.program({"value": None})
    assert cache.computed(1)
    assert not cache.computed(1), "a None result was not cached"


@core
def test_each_function_has_its_own_cache(make_cache):
    """Two decorated functions (even with the same name) never share entries."""
    first, second = make_cache(ttl=10).at(0.0), make_cache(ttl=10).at(0.0)
    first.program({"value": "first"})
    second.program({"value": "second"})
    assert first(1) == "first"
    assert second(1) == "second", "two decorated functions shared a cache entry"


@core
def test_one_decorator_object_gives_each_function_its_own_cache(submission):
    """One ttl_cache(...) object applied to two functions gives each function its own cache."""
    answer = submission.call("shared_decorator", ttl=100)
    assert answer["raised"] is None, "decorating two functions with one ttl_cache(...) raised"
    assert answer["results"][:2] == ["function 0", "function 1"], \
        "two functions decorated by one ttl_cache(...) object shared an entry"
    assert answer["results"][2:] == ["function 0", "function 1"] and answer["calls"] == [1, 1], \
        "a repeated call was not served from its own function's cache"

@core
def test_wrapper_keeps_metadata(submission):
    """The wrapper keeps __name__, __qualname__, __doc__, __module__ and __wrapped__."""
    meta = submission.call("metadata")
    assert meta["name"] == "documented_function", "__name__ was not kept"
    assert meta["qualname"] == meta["expected_qualname"], "__qualname__ was not kept"
    assert meta["doc"] == "Documentation of the original.", "__doc__ was not kept"
    assert meta["module_kept"] is True, "__module__ was not kept"
    assert meta["wrapped_is_original"] is True, "__wrapped__ is not the original function"


@core
def test_cache_info_counts(make_cache):
    """cache_info() is a named tuple (hits, misses, maxsize, currsize) with the right counts."""
    cache = make_cache(ttl=10, maxsize=8).at(0.0)
    answer = cache.submission.call("info", handle=cache.handle)
    assert answer["fields"] == ["hits", "misses", "maxsize", "currsize"], \
        "cache_info() fields are not (hits, misses, maxsize, currsize)"
    cache(1), cache(1), cache(2), cache(1)
    assert cache.info() == (2, 2, 8, 2), "cache_info() counts are wrong"
    assert tuple(answer["values"]) == (0, 0, 8, 0), "a new cache's info is not (0, 0, maxsize, 0)"


@core
def test_cache_clear(make_cache):
    """cache_clear() empties the cache and resets its statistics, as lru_cache's does."""
    cache = make_cache(ttl=10, maxsize=4).at(0.0)
    cache(1), cache(2), cache(1)
    cache.clear()
    assert cache.info() == (0, 0, 4, 0), "cache_clear() did not reset cache_info()"
    assert cache.computed(1), "an entry survived cache_clear()"


@core
def test_lru_eviction(make_cache):
    """A full cache evicts the least recently used entry; a hit refreshes recency."""
    cache = make_cache(ttl=100, maxsize=2).at(0.0)
    cache("a"), cache("b")
    assert not cache.computed("a")  # "a" is now the most recent
    cache("c")  # evicts "b"
    assert not cache.computed("a"), "the most recently used entry was evicted"
    assert cache.computed("b"), "the least recently used entry was not evicted"


@core
def test_size_never_exceeds_maxsize(make_cache):
    """A bounded cache never holds more than maxsize entries."""
    cache = make_cache(ttl=100, maxsize=5).at(0.0)
    for key in range(40):
        cache(key)
        assert cache.info()[3] <= 5, "currsize exceeded maxsize"
