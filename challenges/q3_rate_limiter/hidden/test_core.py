"""Hidden suite, core: refill, try_acquire, available and acquire in one thread.

Time is the trusted side's: `bucket.at(t)` sets the clock, and acquire's sleeps
advance it by exactly what they ask.
"""

from graders.testing import core

TOLERANCE = 1e-6  # on token counts
SLEEP_TOLERANCE = 1e-3  # on the total acquire sleeps


def close(a, b, tolerance=TOLERANCE):
    return abs(a - b) <= tolerance


@core
def test_starts_full(make_bucket):
    """A new bucket starts full: available() is its capacity, and all of it can be taken."""
    bucket = make_bucket(rate=1, capacity=2.5, now=50.0)
    assert close(bucket.available(), 2.5), "a new bucket's available() is not its capacity"
    assert bucket.try_acquire(2.5), "a new bucket did not grant its whole capacity"
    assert close(bucket.available(), 0.0), "taking the whole capacity did not empty the bucket"


@core
def test_refills_continuously_at_rate(make_bucket):
    """Tokens refill continuously at `rate` per second of clock() time, fractions included."""
    bucket = make_bucket(rate=2, capacity=10).at(0.0)
    bucket.take(10)
    for now, expected in [(0.25, 0.5), (0.3, 0.6), (1.0, 2.0), (2.2, 4.4)]:
        assert close(bucket.at(now).available(), expected), \
            "available() does not show rate x elapsed tokens refilled"
    slow = make_bucket(rate=0.4, capacity=1.5, now=7.0)
    slow.take(1.5)
    assert close(slow.at(8.0).available(), 0.4), "a fractional rate did not refill continuously"
    assert not slow.try_acquire(0.5), "tokens that had not refilled yet were granted"
    assert slow.at(9.5).try_acquire(1.0), "tokens refilled at a fractional rate were not granted"
    assert close(slow.available(), 0.0), "try_acquire(n) did not take exactly n tokens"


@core
def test_refill_stops_at_capacity(make_bucket):
    """Tokens never refill above capacity, however long the clock runs."""
    bucket = make_bucket(rate=3, capacity=4).at(0.0)
    bucket.take(1)
    assert close(bucket.at(100.0).available(), 4.0), "tokens refilled above capacity"
    bucket.take(4)
    assert not bucket.try_acquire(0.5), "tokens refilled above capacity were granted"
    assert close(bucket.at(100.5).available(), 1.5), "refill after an idle time is wrong"


@core
def test_try_acquire_takes_the_amount_asked(make_bucket):
    """try_acquire(n) grants when n tokens are available and takes exactly n; n defaults to 1."""
    bucket = make_bucket(rate=1, capacity=5)
    assert bucket.try_acquire(2.5), "a request for available tokens was refused"
    assert close(bucket.available(), 2.5), "try_acquire(n) did not take exactly n tokens"
    assert bucket.try_acquire(), "try_acquire() was refused with tokens available"
    assert close(bucket.available(), 1.5), "try_acquire() did not take exactly 1 token"
    assert not bucket.try_acquire(2), "a request for more tokens than available was granted"
    assert bucket.try_acquire(1.5), "a request for exactly the tokens available was refused"
    assert close(bucket.available(), 0.0), "try_acquire(n) did not take exactly n tokens"


@core
def test_failed_try_acquire_takes_nothing(make_bucket):
    """A try_acquire that returns False takes no tokens."""
    bucket = make_bucket(rate=1, capacity=3)
    bucket.take(2.5)
    assert not bucket.try_acquire(1), "a request for more tokens than available was granted"
    assert close(bucket.available(), 0.5), "a refused try_acquire took tokens"
    assert not bucket.at(0.25).try_acquire(1), \
        "a request for more tokens than available was granted"
    assert bucket.at(0.5).try_acquire(1), \
        "tokens were missing after a refused try_acquire: it took some"


@core
def test_acquire_sleeps_exactly_the_wait(make_bucket):
    """acquire sleeps deficit / rate in total (within 1 ms), then takes its tokens."""
    # (rate, capacity, taken first, acquire's tokens, timeout); "default" leaves it out
    cases = [(3, 5, 5, 2, "default"), (0.5, 2, 1.75, 1.5, 10.0), (7, 1, 1, "default", None),
             (1.3, 8, 8, 7.9, "default"), (40, 3, 2.99, 0.02, 1.0), (0.25, 6, 6, 5.5, None)]
    for rate, capacity, taken, tokens, timeout in cases:
        bucket = make_bucket(rate=rate, capacity=capacity, now=10.0)
        at_once = bucket.acquire(tokens, timeout)
        assert at_once["value"] is True and at_once["slept"] == 0, \
            "acquire slept (or refused) although its tokens were available"
        bucket = make_bucket(rate=rate, capacity=capacity, now=10.0)
        bucket.take(taken)
        amount = 1 if tokens == "default" else tokens
        wait = (amount - (capacity - taken)) / rate
        answer = bucket.acquire(tokens, timeout)
        assert answer["value"] is True, "acquire returned False although it could wait"
        assert abs(answer["slept"] - wait) <= SLEEP_TOLERANCE, \
            "acquire's total sleep is not deficit / rate within 1 ms"
        left = bucket.available()
        assert left >= -TOLERANCE - 1e-9, "acquire took its tokens before they had refilled"
        assert left <= rate * SLEEP_TOLERANCE + TOLERANCE, "acquire did not take its tokens"


@core
def test_acquire_gives_up_at_once(make_bucket):
    """A wait of more than timeout: acquire returns False at once, sleeping and taking nothing."""
    bucket = make_bucket(rate=2, capacity=4, now=3.0)
    bucket.take(3.5)
    answer = bucket.acquire(3, timeout=1.2)  # needs 2.5 tokens: 1.25 s
    assert answer["value"] is False, "acquire waited for longer than its timeout"
    assert answer["slept"] == 0, "acquire slept before giving up on a timeout it could not meet"
    assert close(bucket.available(), 0.5), "acquire took tokens when it gave up"
    answer = bucket.acquire(3, timeout=1.3)
    assert answer["value"] is True, "acquire gave up although the wait was within its timeout"
    assert abs(answer["slept"] - 1.25) <= SLEEP_TOLERANCE, \
        "acquire's total sleep is not deficit / rate within 1 ms"


@core
def test_acquire_timeout_zero_never_sleeps(make_bucket):
    """acquire(n, timeout=0) never sleeps: True if n tokens are there now, else False at once."""
    bucket = make_bucket(rate=1, capacity=2)
    answer = bucket.acquire(1.5, timeout=0)
    assert answer["value"] is True and answer["slept"] == 0, \
        "acquire(timeout=0) did not take available tokens at once"
    answer = bucket.acquire(1, timeout=0)
    assert answer["value"] is False, "acquire(timeout=0) waited for tokens"
    assert answer["slept"] == 0, "acquire(timeout=0) slept"
    assert close(bucket.available(), 0.5), "acquire(timeout=0) took tokens when it gave up"
