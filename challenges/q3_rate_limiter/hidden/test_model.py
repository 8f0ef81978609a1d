"""Hidden suite, core: random sequences of calls checked against a model of the bucket.

The clock is the trusted side's: the model and the worker read the same times, and
acquire's sleeps advance the clock by what they ask. The model computes exactly
(fractions); where a grant is within a hair of the 1e-6 boundary, either answer is
accepted and the model follows the submission.
"""

from fractions import Fraction

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from graders.testing import core

TOLERANCE = Fraction(1e-6)
EDGE = Fraction(1, 10**9)  # closer than this to a boundary, either answer is right
SLEEP_TOLERANCE = Fraction(1, 1000)

RATES = [0.1, 0.5, 0.7, 1.0, 2.5, 3.0, 10.0]
CAPACITIES = [0.5, 1.0, 2.5, 4.0, 7.3, 10.0]
STARTS = [0.0, 12.5, 1e6]
AMOUNTS = [0.1, 0.25, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, "default"]
STEPS = [0.0, 0.001, 0.1, 0.25, 1 / 3, 0.5, 1.0, 2.5, 7.0]
BACKWARDS = [0.001, 0.5, 3.0]
TIMEOUTS = [None, "default", 0.0, 0.5, 2.0, 30.0]


class Model:
    """What the contract says the bucket holds, exactly."""

    def __init__(self, rate, capacity, now):
        self.rate, self.capacity = Fraction(rate), Fraction(capacity)
        self.tokens = self.capacity
        self.high = Fraction(now)

    def refill(self, now):
        now = Fraction(now)
        if now > self.high:
            self.tokens = min(self.capacity, self.tokens + (now - self.high) * self.rate)
            self.high = now

    def must_grant(self, amount):
        """True: must be granted; False: must be refused; None: either is right."""
        margin = self.tokens - (amount - TOLERANCE)
        return True if margin > EDGE else False if margin < -EDGE else None


def amount_of(tokens):
    return Fraction(1) if tokens == "default" else Fraction(tokens)


@core
def test_behaves_like_the_model(submission):
    """Random sequences of calls and clock moves (also backwards) behave as the contract says."""

    class BucketMachine(RuleBasedStateMachine):
        @initialize(rate=st.sampled_from(RATES), capacity=st.sampled_from(CAPACITIES),
                    start=st.sampled_from(STARTS))
        def create(self, rate, capacity, start):
            made = submission.call("make", rate=rate, capacity=capacity, now=start)
            assert "handle" in made, "creating a TokenBucket raised"
            self.handle, self.now = made["handle"], start
            self.model = Model(rate, capacity, start)
            self.check_available()

        def call(self, op, **kwargs):
            return submission.call(op, handle=self.handle, **kwargs)

        def check_available(self):
            answer = self.call("available")
            assert answer["raised"] is None, "available() raised"
            assert type(answer["value"]) in (int, float), "available() did not return a number"
            self.model.refill(self.now)
            assert abs(Fraction(answer["value"]) - self.model.tokens) <= TOLERANCE, \
                "available() differs from what refill, the cap and the grants so far leave"

        @rule(step=st.sampled_from(STEPS))
        def advance(self, step):
            self.now += step
            self.call("set_time", now=self.now)

        @rule(step=st.sampled_from(BACKWARDS))
        def go_back(self, step):
            self.now -= step
            self.call("set_time", now=self.now)

        @rule(step=st.sampled_from(BACKWARDS))
        def back_and_forth(self, step):
            self.call("set_time", now=self.now - step)
            before = self.now
            self.now -= step
            self.check_available()
            self.now = before
            self.call("set_time", now=self.now)

        @rule()
        def available(self):
            self.check_available()

        @rule(tokens=st.sampled_from(AMOUNTS))
        def try_acquire(self, tokens):
            answer = self.call("try_acquire", tokens=tokens)
            amount = amount_of(tokens)
            if amount > self.model.capacity:
                assert answer["raised"] is not None and answer["raised"]["type"] == "ValueError", \
                    "try_acquire(n) with n > capacity did not raise ValueError"
                return
            assert answer["raised"] is None, "try_acquire raised unexpectedly"
            assert type(answer["value"]) is bool, "try_acquire did not return True or False"
            self.model.refill(self.now)
            expected = self.model.must_grant(amount)
            if expected is True:
                assert answer["value"], "try_acquire refused tokens that were available"
            elif expected is False:
                assert not answer["value"], "try_acquire granted tokens that were not available"
            if answer["value"]:
                self.model.tokens -= amount

        @precondition(lambda self: Fraction(self.now) >= self.model.high)
        @rule(tokens=st.sampled_from(AMOUNTS), timeout=st.sampled_from(TIMEOUTS))
        def acquire(self, tokens, timeout):
            answer = self.call("acquire", tokens=tokens, time_limit=timeout)
            assert not answer["endless"], "acquire kept sleeping without end"
            amount = amount_of(tokens)
            if amount > self.model.capacity:
                assert answer["raised"] is not None and answer["raised"]["type"] == "ValueError", \
                    "acquire(n) with n > capacity did not raise ValueError"
                assert answer["slept"] == 0, "acquire(n) with n > capacity slept"
                return
            assert answer["raised"] is None, "acquire raised unexpectedly"
            assert type(answer["value"]) is bool, "acquire did not return True or False"
            self.model.refill(self.now)
            deficit = amount - self.model.tokens
            wait = max(Fraction(0), deficit / self.model.rate)
            limit = None if timeout in (None, "default") else Fraction(timeout)
            verdict = self.model.must_grant(amount)
            if verdict is True:
                assert answer["value"] is True and answer["slept"] == 0, \
                    "acquire slept (or refused) although its tokens were available"
            elif verdict is None:
                pass  # a hair from the boundary: granting at once and waiting are both right
            elif limit is not None and wait > limit + EDGE:
                assert answer["value"] is False, "acquire waited for longer than its timeout"
                assert answer["slept"] == 0, \
                    "acquire slept before giving up on a timeout it could not meet"
            elif limit is None or wait < limit - EDGE:
                assert answer["value"] is True, "acquire gave up although it could wait"
                assert abs(Fraction(answer["slept"]) - wait) <= SLEEP_TOLERANCE, \
                    "acquire's total sleep is not deficit / rate within 1 ms"
            self.now = answer["now"]
            self.model.refill(self.now)
            if answer["value"]:
                assert self.model.must_grant(amount) is not False, \
                    "acquire returned before its tokens had refilled"
                self.model.tokens -= amount
            else:
                assert answer["slept"] == 0, "acquire slept before giving up"

    settings_ = settings(max_examples=60, stateful_step_count=30)
    run_state_machine_as_test(BucketMachine, settings=settings_)
