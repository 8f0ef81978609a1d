"""Hidden suite, core: random call sequences checked against a model of TTL + LRU.

The clock is the trusted side's: the model and the worker see the same time.
"""

from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# The steps of a random sequence: a call (its key, and whether passed by keyword), the
# clock moved on, or cache_clear(). Each step is one draw (sampled_from), which keeps
# generating a 40-step sequence cheap; calls come first, so failures shrink to calls.
CALLS = [("call", key, as_keyword) for key in range(6) for as_keyword in (False, True)]
ADVANCES = [("advance", step) for step in (0.0, 0.5, 3.0, 9.5, 10.0, 25.0)]
CLEARS = [("clear",)]


@st.composite
def sequences(draw):
    """Up to 40 steps, lengths drawn evenly (a list strategy's are mostly ~5 steps). As in
    swarm testing (and hypothesis's own state machines), each sequence leaves out some
    kinds of step: calls alone build up the hits, evictions and recency that clock
    advances and clears would keep resetting."""
    kinds = CALLS + [step for steps in (ADVANCES, CLEARS) if draw(st.booleans()) for step in steps]
    length = draw(st.integers(0, 40))
    return draw(st.lists(st.sampled_from(kinds), min_size=length, max_size=length))


def check_info(named, model, now):
    """cache_info() as the model allows it."""
    assert (named["hits"], named["misses"]) == (model.hits, model.misses), \
        "cache_info() hits/misses disagree with the calls made"
    assert named["maxsize"] == model.maxsize, "cache_info().maxsize is wrong"
    currsize = named["currsize"]
    assert type(currsize) is int, "cache_info().currsize is not an int"
    assert currsize >= model.live(now), "currsize is below the live entries"
    assert currsize <= len(model.stored), "currsize counts entries never stored"
    if model.maxsize is not None:
        assert currsize <= model.maxsize, "currsize exceeded maxsize"


@core
def test_behaves_like_the_model(submission):
    """Random sequences of calls, clock advances and clears behave as TTL + LRU demands."""

    # A sequence runs in the worker in one request (the driver's run_steps) and is
    # checked here step by step: the same checks as one request a step, at a fraction
    # of the round trips. cache_info() is checked before the first step and after each.
    @settings(max_examples=60)
    @given(maxsize=st.sampled_from([1, 2, 3, 5, None]), steps=sequences())
    def sequence(maxsize, steps):
        made = submission.call("make", ttl=TTL, maxsize=maxsize)
        assert "handle" in made, "creating the decorator raised"
        now, sent = 0.0, []
        for step in steps:  # the clock's readings are absolute in the worker
            if step[0] == "advance":
                now += step[1]
                sent.append(("set_time", now))
            else:
                sent.append(step)
        observed = submission.call("run_steps", handle=made["handle"], steps=sent)
        model, now = Model(maxsize), 0.0
        check_info(observed["start"], model, now)
        for step, seen in zip(sent, observed["steps"], strict=True):
            if step[0] == "call":
                assert seen["raised"] is None, "a call raised unexpectedly"
                if model.call((step[2], step[1]), now):
                    assert seen["computed"] == 0, "a live entry was recomputed (or evicted early)"
                else:
                    assert seen["computed"] == 1, "a call was served that should have recomputed"
            elif step[0] == "set_time":
                now = step[1]
            else:
                model = Model(model.maxsize)
            check_info(seen["info"], model, now)

    sequence()


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
