"""Hidden suite, excellence: floating-point rounding at large clock readings, a clock
behind its highest reading in acquire, and one clock reading per call."""

from graders.testing import excellence

SLEEP_TOLERANCE = 1e-3


@excellence
def test_acquire_does_not_hang_on_rounding_at_large_clock_readings(make_bucket):
    """At large clock readings, rounding never makes acquire sleep for ever on tiny deficits."""
    # (clock, rate, acquire's tokens): each from an empty bucket of capacity 2
    for now, rate, tokens in [(123456789.0, 3.0, 1.0), (1e9, 2.5, 1.0), (2.0**30 + 0.5, 7.0, 1.0),
                              (123456789.0, 1.3, 1.1), (1e9, 0.7, 0.9)]:
        bucket = make_bucket(rate=rate, capacity=2.0, now=now)
        bucket.take(2.0)
        answer = bucket.acquire(tokens)  # the helper fails the test if it never returns
        assert answer["value"] is True, "acquire returned False although it could wait"
        assert abs(answer["slept"] - tokens / rate) <= SLEEP_TOLERANCE, \
            "acquire's total sleep is not deficit / rate within 1 ms"


@excellence
def test_acquire_counts_the_climb_back_of_a_clock_behind(make_bucket):
    """With the clock behind its highest reading, acquire's wait includes the climb back."""
    bucket = make_bucket(rate=2, capacity=4, now=100.0)
    bucket.take(4)
    bucket.at(99.0)  # 1 s behind the highest reading: 1 s + 0.5 s to get 1 token
    answer = bucket.acquire(1, timeout=0.75)
    assert answer["value"] is False, \
        "acquire's wait did not count the time for the clock to climb back"
    assert answer["slept"] == 0, "acquire slept before giving up on a timeout it could not meet"
    answer = bucket.acquire(1, timeout=1.75)
    assert answer["value"] is True, "acquire gave up although the wait was within its timeout"
    assert answer["now"] >= 100.5 - 1e-6, "acquire returned before its tokens had refilled"


@excellence
def test_reads_the_clock_once_per_call(make_bucket):
    """Each call of try_acquire or available reads clock() exactly once."""
    bucket = make_bucket(rate=1, capacity=3, now=5.0)
    steps = [("available", None), ("try_acquire", 2), ("try_acquire", 2), ("available", None),
             ("try_acquire", 1.5), ("available", None)]
    for number, (op, tokens) in enumerate(steps):
        bucket.at(5.0 + number * 0.75)
        if op == "available":
            answer = bucket.call_available()
        else:
            answer = bucket.call_try_acquire(tokens)
        assert answer["raised"] is None, f"{op} raised unexpectedly"
        assert answer["reads"] == 1, f"{op} did not read clock() exactly once"
