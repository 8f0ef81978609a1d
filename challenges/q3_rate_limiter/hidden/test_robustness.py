"""Hidden suite, robustness: bad arguments, a clock that goes backwards, the tolerance,
the timeout boundary, and real threads."""

from graders.testing import robustness

TOLERANCE = 1e-6


def close(a, b, tolerance=TOLERANCE):
    return abs(a - b) <= tolerance


@robustness
def test_bad_rate_or_capacity_raises_value_error(submission):
    """rate <= 0 or capacity <= 0 raise ValueError."""
    for rate, capacity in [(0, 5), (-1.5, 5), (2, 0), (2, -3)]:
        made = submission.call("make", rate=rate, capacity=capacity)
        assert "raised" in made, "a TokenBucket with rate <= 0 or capacity <= 0 was created"
        assert made["raised"]["type"] == "ValueError", \
            "rate <= 0 or capacity <= 0 did not raise ValueError"


@robustness
def test_bad_amounts_raise_value_error_and_take_nothing(make_bucket):
    """n <= 0 or n > capacity raise ValueError in try_acquire and acquire, taking nothing."""
    bucket = make_bucket(rate=1, capacity=4)
    bucket.take(1.5)
    for tokens in [0, -1, 4.5]:
        answer = bucket.call_try_acquire(tokens)
        assert answer["raised"] is not None and answer["raised"]["type"] == "ValueError", \
            "try_acquire(n) with n <= 0 or n > capacity did not raise ValueError"
        answer = bucket.submission.call("acquire", handle=bucket.handle, tokens=tokens,
                                        time_limit=1.0)
        assert answer["raised"] is not None and answer["raised"]["type"] == "ValueError", \
            "acquire(n) with n <= 0 or n > capacity did not raise ValueError"
        assert answer["slept"] == 0, "acquire slept before rejecting a bad n"
    assert close(bucket.available(), 2.5), "a rejected call took or added tokens"


@robustness
def test_negative_timeout_raises_value_error(make_bucket):
    """acquire with a negative timeout raises ValueError, taking nothing."""
    bucket = make_bucket(rate=1, capacity=4)
    bucket.take(3)
    for tokens in [1, 3]:  # available, and not available
        answer = bucket.submission.call("acquire", handle=bucket.handle, tokens=tokens,
                                        time_limit=-0.5)
        assert answer["raised"] is not None and answer["raised"]["type"] == "ValueError", \
            "acquire with a negative timeout did not raise ValueError"
        assert answer["slept"] == 0, "acquire slept before rejecting a negative timeout"
    assert close(bucket.available(), 1.0), "an acquire that raised took tokens"


@robustness
def test_backwards_clock_adds_and_removes_nothing(make_bucket):
    """A clock going backwards adds and removes nothing, and adds nothing until it climbs back."""
    bucket = make_bucket(rate=2, capacity=10, now=100.0)
    assert close(bucket.available(), 10.0), "a new bucket's available() is not its capacity"
    bucket.take(6)
    assert close(bucket.at(99.0).available(), 4.0), "a clock going backwards changed the tokens"
    assert bucket.try_acquire(1), "tokens available were refused while the clock was behind"
    assert close(bucket.at(99.5).available(), 3.0), \
        "tokens were added while the clock climbed back to its highest reading"
    assert close(bucket.at(100.0).available(), 3.0), \
        "tokens were added while the clock climbed back to its highest reading"
    assert close(bucket.at(100.25).available(), 3.5), \
        "past its highest reading, the clock did not refill at rate"
    assert close(bucket.at(40.0).available(), 3.5), "a clock going backwards changed the tokens"
    assert not bucket.try_acquire(4), "tokens were granted for time the clock went backwards"
    assert close(bucket.at(101.0).available(), 5.0), \
        "after going back and forth, the refill is not rate x (highest reading gained)"


@robustness
def test_tokens_within_tolerance_are_granted(make_bucket):
    """A request for n is granted when at least n - 1e-6 tokens are available, not below."""
    bucket = make_bucket(rate=1, capacity=1).at(0.0)
    bucket.take(1)
    assert bucket.at(1 - 5e-7).try_acquire(1), \
        "a request was refused with fewer than 1e-6 tokens missing"
    bucket = make_bucket(rate=1, capacity=1).at(0.0)
    bucket.take(1)
    assert not bucket.at(1 - 2e-6).try_acquire(1), \
        "a request was granted with more than 1e-6 tokens missing"
    answer = bucket.acquire(1, timeout=0)
    assert answer["value"] is False, "acquire(timeout=0) granted with more than 1e-6 missing"
    bucket.at(1 - 5e-7)
    answer = bucket.acquire(1, timeout=0)
    assert answer["value"] is True and answer["slept"] == 0, \
        "acquire(timeout=0) was refused with fewer than 1e-6 tokens missing"


@robustness
def test_a_wait_of_exactly_timeout_is_waited(make_bucket):
    """When the wait needed is exactly timeout, acquire waits it and returns True."""
    for rate, capacity, tokens, timeout in [(4, 4, 2, 0.5), (8, 2, 1, 0.125)]:
        bucket = make_bucket(rate=rate, capacity=capacity, now=2.0)
        bucket.take(capacity)
        answer = bucket.acquire(tokens, timeout=timeout)
        assert answer["value"] is True, "acquire gave up on a wait of exactly its timeout"
        assert abs(answer["slept"] - timeout) <= 1e-3, \
            "acquire's total sleep is not deficit / rate within 1 ms"


@robustness
def test_no_race_under_threads(make_bucket):
    """Under threads, try_acquire, acquire and available never over-grant and lose no grant."""
    rate, tick = 64.0, 2.0**-10  # each clock reading moves time on by `tick`
    bucket = make_bucket(rate=rate, capacity=50.0, now=0.0)
    bucket.take(50.0)  # empty: from now on, refill never reaches the cap
    threads, calls = 4, 600
    answer = bucket.submission.call("hammer", handle=bucket.handle, threads=threads,
                                    calls=calls, tokens=1.0, tick=tick, span=60, timeout=30)
    assert answer["errors"] == [], "a call raised (or returned the wrong type) under threads"
    assert answer["granted"] + answer["refused"] == threads * calls * 2 // 3
    left = bucket.available()  # the clock no longer ticks: it reads answer["end"]
    supply = rate * (answer["end"] - answer["start"])
    assert answer["granted"] <= supply + TOLERANCE, \
        "under threads, more tokens were granted than capacity + rate x elapsed allows"
    assert answer["granted"] + left <= supply + TOLERANCE, \
        "under threads, grants did not take their tokens (or refill added too much)"
    assert answer["granted"] + left >= supply - TOLERANCE, \
        "under threads, tokens went missing: refill was lost or a grant took more than asked"


@robustness
def test_acquire_under_threads(make_bucket):
    """Under threads, acquire gets its tokens, respects its timeout and never over-grants."""
    rate, capacity = 50.0, 5.0
    bucket = make_bucket(rate=rate, capacity=capacity, now=0.0)
    timeouts = [None, None, None, None, None, 0.05, 0.2, 1.0]
    calls = 100
    answer = bucket.submission.call("contend", handle=bucket.handle, timeouts=timeouts,
                                    calls=calls, tokens=1.0, span=60, timeout=30)
    assert not answer["negative_sleep"], "acquire called sleep with a negative time"
    assert answer["errors"] == [], "acquire raised (or slept without end) under threads"
    granted = 0
    for timeout, thread in zip(timeouts, answer["threads"], strict=True):
        granted += thread["granted"]
        if timeout is None:
            assert thread["granted"] == calls, \
                "under threads, an acquire without timeout returned False"
        else:
            assert thread["most_slept"] <= timeout + 1e-9, \
                "under threads, an acquire slept longer than its timeout"
    left = bucket.available()
    supply = capacity + rate * (answer["end"] - answer["start"])
    assert granted <= supply + TOLERANCE, \
        "under threads, acquire granted more than capacity + rate x elapsed allows"
    assert left >= -TOLERANCE - 1e-9 and granted + left <= supply + TOLERANCE, \
        "under threads, acquire's grants did not take their tokens"


@robustness
def test_default_clock_and_sleep_in_real_time(submission):
    """With the default clock and sleep, acquire under threads waits in real time, never faster."""
    rate, capacity, threads, calls = 100.0, 2.0, 4, 10
    answer = submission.call("real_time", rate=rate, capacity=capacity, threads=threads,
                             calls=calls, timeout=20)
    assert answer["raised"] is None, "TokenBucket(rate, capacity) without clock or sleep raised"
    assert answer["errors"] == [], "acquire raised under threads with the real clock"
    assert answer["granted"] == threads * calls, "acquire without timeout returned False"
    assert answer["granted"] <= capacity + rate * answer["elapsed"] + TOLERANCE, \
        "with the default clock, tokens were granted faster than rate"
