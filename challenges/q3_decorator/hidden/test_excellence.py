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


@excellence
def test_waiting_callers_do_not_hang_when_the_computation_raises(make_cache):
    """When the computation concurrent callers wait for raises, none of them waits forever."""
    cache = make_cache(ttl=100).at(0.0)
    cache.program({"raise": "boom", "delay": 0.2})  # the others wait for this one
    answer = cache.submission.call("concurrent_same_key", handle=cache.handle, threads=8,
                                   timeout=3)
    results, underlying = answer["results"], answer["underlying"]
    assert {"raised": "ValueError"} in results, "the function's exception reached no caller"
    for result in results:
        assert result == {"raised": "ValueError"} or (
            type(result) is int and 2 <= result <= underlying), \
            "a waiting caller got neither the exception nor a value the function returned"
    outcome = cache.call("same")
    assert outcome["raised"] is None, "the exception was cached"


@excellence
def test_waiting_callers_never_hang_when_computations_keep_raising(make_cache):
    """Threads calling the same new key at once, round after round, never hang when f raises."""
    threads, rounds = 8, 600
    cache = make_cache(ttl=1000, maxsize=16).at(0.0)
    cache.program(*[{"raise": "boom"}] * (threads * rounds))
    answer = cache.submission.call("same_key_rounds", handle=cache.handle, threads=threads,
                                   rounds=rounds, wait=2.0, timeout=20)
    assert answer["finished"], "a call hung while other threads called for the same key"
    assert answer["errors"] == ["ValueError"], "a call did not raise the function's exception"
