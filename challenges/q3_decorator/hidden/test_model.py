"""Hidden suite, core: random call sequences checked against a model of TTL + LRU.

The clock is the trusted side's: the model and the worker see the same time.
"""

from collections import OrderedDict

import pytest
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
        self.stored = set()  # every key stored since the last clear: currsize is at most this
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
        self.stored.add(key)
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
            assert currsize <= len(self.model.stored), "currsize counts entries never stored"
            if self.model.maxsize is not None:
                assert currsize <= self.model.maxsize, "currsize exceeded maxsize"

    CacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25)
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(CacheMachine, settings=CacheMachine.TestCase.settings)


# Fixed sequences for what random ones rarely reach: (time, key) calls, or "clear".
SCRIPTS = {
    # Store order differs from use order, far from time 0: the least recently used goes.
    "lru-after-hits": (2, [(100, "a"), (101, "b"), (102, "a"), (103, "c"), (104, "a"),
                           (105, "b"), (106, "c"), (107, "a")]),
    # Expired entries go first, one after another; then live ones by recency.
    "expired-one-after-another": (2, [(0, "a"), (5, "b"), (11, "c"), (16, "d"), (17, "c"),
                                      (18, "e"), (19, "c"), (30, "f"), (31, "g"), (32, "f")]),
    # Live entries evicted by recency, then the remaining ones expire and go first.
    "lru-then-expired": (2, [(0, "a"), (1, "b"), (2, "c"), (10.5, "d"), (11, "c"),
                             (12.5, "e"), (13, "d"), (25, "a"), (26, "b")]),
    # After cache_clear() the cache fills, expires and evicts as if new.
    "after-clear": (2, [(0, "a"), (0, "b"), "clear", (1, "c"), (2, "d"), (20, "e"),
                        (21, "c"), (22, "f"), (23, "e")]),
}


@core
@pytest.mark.parametrize("script", SCRIPTS)
def test_scripted_sequences_behave_like_the_model(make_cache, script):
    """Fixed sequences of calls that evict, expire and clear behave as TTL + LRU demands."""
    maxsize, steps = SCRIPTS[script]
    cache = make_cache(ttl=TTL, maxsize=maxsize)
    model = Model(maxsize)
    for step in steps:
        if step == "clear":
            cache.clear()
            model = Model(maxsize)
            continue
        now, key = step
        expected_hit = model.call(key, now)
        if expected_hit:
            assert not cache.at(now).computed(key), "a live entry was recomputed (or evicted early)"
        else:
            assert cache.at(now).computed(key), "a call was served that should have recomputed"
        hits, misses, _, currsize = cache.info()
        assert (hits, misses) == (model.hits, model.misses), \
            "cache_info() hits/misses disagree with the calls made"
        assert model.live(now) <= currsize <= maxsize, "currsize is wrong after an eviction"
