"""Hidden suite, excellence: single flight."""

from graders.testing import excellence


@excellence
def test_concurrent_misses_run_the_function_once(make_cache):
    """Concurrent calls for the same missing key run the function once; the others wait."""
    # The 8 threads are released together and reach the cache within milliseconds: 0.1 s
    # of computation keeps every one of them inside it while the first computes.
    cache = make_cache(ttl=100, delay=0.1).at(0.0)
    answer = cache.submission.call("concurrent_same_key", handle=cache.handle, threads=8,
                                   wait=1.0, timeout=3)
    assert answer["finished"], "a caller hung while another computed the key"
    assert answer["underlying"] == 1, "concurrent calls for one key ran the function more than once"
    assert len(set(map(repr, answer["results"]))) == 1, "concurrent callers got different results"
    hits, misses, _, _ = cache.info()
    assert (hits, misses) == (7, 1), "waiting callers were not counted as hits"


@excellence
def test_waiting_callers_do_not_hang_when_the_computation_raises(make_cache):
    """When the computation concurrent callers wait for raises, none of them waits forever."""
    cache = make_cache(ttl=100).at(0.0)
    cache.program({"raise": "boom", "delay": 0.1})  # the others wait for this one
    answer = cache.submission.call("concurrent_same_key", handle=cache.handle, threads=8,
                                   wait=1.0, timeout=3)
    assert answer["finished"], "a waiting caller hung when the computation raised"
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
                                   rounds=rounds, wait=1.0, timeout=20)
    assert answer["finished"], "a call hung while other threads called for the same key"
    assert answer["errors"] == ["ValueError"], "a call did not raise the function's exception"
