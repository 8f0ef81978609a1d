"""Hidden suite, excellence: single flight."""

from graders.testing import excellence


@excellence
def test_concurrent_misses_run_the_function_once(make_cache):
    """Concurrent calls for the same missing key run the function once; the others wait."""
    cache = make_cache(ttl=100, delay=0.3).at(0.0)
    answer = cache.submission.call("concurrent_same_key", handle=cache.handle, threads=8)
    assert answer["underlying"] == 1, "concurrent calls for one key ran the function more than once"
    assert len(set(map(repr, answer["results"]))) == 1, "concurrent callers got different results"
    hits, misses, _, _ = cache.info()
    assert (hits, misses) == (7, 1), "waiting callers were not counted as hits"
