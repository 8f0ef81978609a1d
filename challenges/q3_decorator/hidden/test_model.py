"""Hidden suite, core: random call sequences checked against a model of TTL + LRU.

The clock is the trusted side's: the model and the worker see the same time.
"""

from collections import OrderedDict

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from graders.testing import core

TTL = 10.0


class Model:
    """What the contract says a TTL + LRU cache does. Tracks live entries only."""

    def __init__(self, maxsize):
        self.maxsize = maxsize
        self.entries = OrderedDict()  # key -> t0, least recently used first
        self.hits = self.misses = 0

    def call(self, key, now):
        """Whether the call is a hit, updating the model."""
        for stale in [k for k, t0 in self.entries.items() if now - t0 >= TTL]:
            del self.entries[stale]  # expired entries are never served and go first
        if key in self.entries:
            self.entries.move_to_end(key)
            self.hits += 1
            return True
        if self.maxsize is not None and len(self.entries) >= self.maxsize:
            self.entries.popitem(last=False)
        self.entries[key] = now
        self.misses += 1
        return False

    def live(self, now):
        return sum(now - t0 < TTL for t0 in self.entries.values())


@core
def test_behaves_like_the_model(submission):
    """Random sequences of calls, clock advances and clears behave as TTL + LRU demands."""

    class CacheMachine(RuleBasedStateMachine):
        @initialize(maxsize=st.sampled_from([1, 2, 3, 5, None]))
        def create(self, maxsize):
            made = submission.call("make", ttl=TTL, maxsize=maxsize)
            assert "handle" in made, "creating the decorator raised"
            self.handle = made["handle"]
            self.now = 0.0
            self.model = Model(maxsize)
            submission.call("set_time", handle=self.handle, now=self.now)

        @rule(key=st.integers(0, 5), as_keyword=st.booleans())
        def call(self, key, as_keyword):
            args, kwargs = ([], {"k": key}) if as_keyword else ([key], {})
            outcome = submission.call("call", handle=self.handle, args=args, kwargs=kwargs)
            assert outcome["raised"] is None, "a call raised unexpectedly"
            expected_hit = self.model.call((as_keyword, key), self.now)
            if expected_hit:
                assert outcome["computed"] == 0, "a live entry was recomputed (or evicted early)"
            else:
                assert outcome["computed"] == 1, "a call was served that should have recomputed"

        @rule(step=st.sampled_from([0.0, 0.5, 3.0, 9.5, 10.0, 25.0]))
        def advance(self, step):
            self.now += step
            submission.call("set_time", handle=self.handle, now=self.now)

        @rule()
        def clear(self):
            submission.call("clear", handle=self.handle)
            self.model = Model(self.model.maxsize)

        @invariant()
        def info_matches(self):
            if not hasattr(self, "handle"):
                return
            named = submission.call("info", handle=self.handle)["named"]
            assert (named["hits"], named["misses"]) == (self.model.hits, self.model.misses), \
                "cache_info() hits/misses disagree with the calls made"
            assert named["maxsize"] == self.model.maxsize, "cache_info().maxsize is wrong"
            currsize = named["currsize"]
            assert type(currsize) is int, "cache_info().currsize is not an int"
            assert currsize >= self.model.live(self.now), "currsize is below the live entries"
            if self.model.maxsize is not None:
                assert currsize <= self.model.maxsize, "currsize exceeded maxsize"

    CacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(CacheMachine, settings=CacheMachine.TestCase.settings)
