"""The driver kit (sandbox/driverkit.py), imported by path as the worker does: the
codec, raised exceptions, handles, counting wrappers, the manual clock and threads."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from collections.abc import Mapping
from types import ModuleType

import pytest

from tests.conftest import REPO


def _load_kit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("driverkit", REPO / "sandbox" / "driverkit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _load_kit()


class RiggedInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


# --------------------------------------------------------------------------- codec


@pytest.mark.parametrize("value", [
    None, True, 0, -3, 2.5, "text", (), (1, "a", None), ((1, 2), (3, (4,))),
    [1, (2, 3)], {"k": (1, 2)}, ("mixed", [1], {"d": [2]}),
])
def test_decode_of_json_of_encode_is_the_value(value):
    wire = json.loads(json.dumps(_encode_for_wire(value)))
    assert kit.decode(wire) == value
    assert type(kit.decode(wire)) is type(value)


def _encode_for_wire(value):
    """The argument the trusted side sends for `value` (lists and dicts marked)."""
    if isinstance(value, tuple):
        return [_encode_for_wire(v) for v in value]
    if isinstance(value, list):
        return {"$list": [_encode_for_wire(v) for v in value]}
    if isinstance(value, dict):
        return {"$dict": {k: _encode_for_wire(v) for k, v in value.items()}}
    return value


@pytest.mark.parametrize("wire", [None, 1, 1.5, "s", [], [1, [2, ["x"]]], [True, None]])
def test_encode_of_decode_is_the_json(wire):
    assert kit.encode(kit.decode(wire)) == wire


def test_decode_leaves_unmarked_objects_alone():
    assert kit.decode({"a": [1]}) == {"a": [1]}


@pytest.mark.parametrize(("value", "expected"), [
    ([1, (2, 3)], [1, [2, 3]]),
    (RiggedInt(5), {"$type": "RiggedInt"}),
    ({1, 2}, {"$type": "set"}),
    ({"a": 1}, {"$type": "dict"}),
    ([object()], [{"$type": "object"}]),
    (float("nan"), pytest.approx(float("nan"), nan_ok=True)),
])
def test_encode_keeps_only_exact_json_types(value, expected):
    assert kit.encode(value) == expected


def test_encode_keeps_bool_a_bool():
    assert kit.encode(True) is True and kit.encode([False]) == [False]


# --------------------------------------------------------------------------- raised and outcome


def test_raised_names_the_type_and_caps_the_message():
    assert kit.raised(KeyError("k")) == {"type": "KeyError", "message": "'k'"}
    assert len(kit.raised(ValueError("x" * 10_000))["message"]) == kit.MAX_RAISED_MESSAGE


def test_raised_survives_an_exception_that_cannot_print():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert kit.raised(Unprintable())["type"] == "Unprintable"


def test_outcome_decodes_arguments_and_encodes_the_value():
    seen = []

    def f(*args, **kwargs):
        seen.append((args, kwargs))
        return (args, sorted(kwargs))

    answer = kit.outcome(f, [[1, 2], {"$list": [3]}], {"k": {"$dict": {"a": [4]}}})
    assert seen == [(((1, 2), [3]), {"k": {"a": (4,)}})]
    assert answer == {"value": [[[1, 2], [3]], ["k"]], "raised": None}
    assert kit.outcome(lambda: 1) == {"value": 1, "raised": None}


def test_outcome_reports_an_exception_and_lets_an_exit_through():
    def fail():
        raise TypeError("unhashable")

    assert kit.outcome(fail) == {"value": None,
                                 "raised": {"type": "TypeError", "message": "unhashable"}}
    with pytest.raises(SystemExit):
        kit.outcome(sys.exit)


# --------------------------------------------------------------------------- handles


def test_handles_count_from_zero_and_report_what_creating_raised():
    handles = kit.Handles("bucket")
    assert handles.create(dict, a=1) == {"handle": 0}
    assert handles.add("second") == 1
    assert handles.create(int, "not a number")["raised"]["type"] == "ValueError"
    assert handles[0] == {"a": 1} and handles[1] == "second" and len(handles) == 2


@pytest.mark.parametrize("bad", [2, -1, "0", True, None])
def test_a_bad_handle_is_named(bad):
    handles = kit.Handles("bucket")
    handles.add("a")
    handles.add("b")
    with pytest.raises(LookupError, match=r"no bucket has handle .* \(2 created\)"):
        handles[bad]


# --------------------------------------------------------------------------- counting


def test_counted_counts_every_call_across_threads():
    def square(x):
        """Squares."""
        return x * x

    counted = kit.Counted(square)
    assert counted(3) == 9
    kit.run_together([lambda: [counted(i) for i in range(2000)]] * 4, switch_interval=1e-6)
    assert counted.calls == 1 + 4 * 2000
    assert counted.__name__ == "square" and counted.__wrapped__ is square


def test_counted_wraps_a_bound_method():
    class Optimizer:
        def step(self):
            return "stepped"

    optimizer = Optimizer()
    optimizer.step = kit.Counted(optimizer.step)
    assert [optimizer.step(), optimizer.step()] == ["stepped", "stepped"]
    assert optimizer.step.calls == 2


def test_counting_mapping_counts_value_lookups_only():
    graph = kit.CountingMapping({1: (2, 3), 2: (1,), 3: ()})
    assert isinstance(graph, Mapping) and not isinstance(graph, dict)
    assert 1 in graph and 9 not in graph and len(graph) == 3 and sorted(graph) == [1, 2, 3]
    assert graph.lookups == 0
    assert graph[1] == (2, 3) and graph.get(2) == (1,) and graph.get(9) is None
    assert graph.lookups == 3
    assert dict(graph.items()) == {1: (2, 3), 2: (1,), 3: ()}
    assert graph.lookups == 6
    with pytest.raises(TypeError):
        graph[4] = ()  # type: ignore[index]


# --------------------------------------------------------------------------- clock and threads


def test_manual_clock_moves_only_when_told():
    clock = kit.ManualClock(10.0)
    assert clock.time() == 10.0
    clock.advance(2.5)
    assert clock.time() == 12.5
    clock.set(1.0)
    assert clock.time() == 1.0
    clock.sleep(0)  # due already: returns at once
    clock.sleep(-1)


def test_a_sleeper_wakes_when_the_clock_reaches_its_time():
    clock = kit.ManualClock()
    woke = threading.Event()

    def sleeper():
        clock.sleep(5)
        woke.set()

    thread = threading.Thread(target=sleeper, daemon=True)
    thread.start()
    assert clock.wait_for_sleepers(1, timeout=5)
    clock.advance(4.9)
    assert not woke.wait(0.1) and clock.sleeping == 1
    clock.advance(0.1)
    assert woke.wait(5)
    thread.join(5)
    assert clock.sleeping == 0
    assert not clock.wait_for_sleepers(1, timeout=0.01)


def test_run_together_releases_every_thread_at_once_and_keeps_the_order():
    meeting = threading.Barrier(6, timeout=5)  # passes only if all six run at the same time
    results = kit.run_together([lambda i=i: (meeting.wait(), i)[1] for i in range(6)])
    assert results == list(range(6))
    assert kit.run_together([]) == []


def test_run_together_raises_what_a_thread_raised_after_all_finish():
    finished = []

    def slow():
        time.sleep(0.1)
        finished.append(True)

    def fail():
        raise KeyError("boom")

    before = sys.getswitchinterval()
    with pytest.raises(KeyError, match="boom"):
        kit.run_together([fail, slow], switch_interval=1e-6)
    assert finished == [True]
    assert sys.getswitchinterval() == before


def test_run_watched_gives_up_on_a_stall_but_waits_for_a_slow_run():
    progress = kit.Progress()
    stuck = threading.Event()

    def slow_but_going():
        for _ in range(6):  # 0.3 s in all, longer than the wait, never stalled that long
            time.sleep(0.05)
            progress.step()
        return "done"

    assert kit.run_watched([slow_but_going] * 3, progress, wait=0.2) == ["done"] * 3

    started = time.monotonic()
    assert kit.run_watched([stuck.wait, lambda: "quick"], kit.Progress(), wait=0.2) is None
    assert 0.2 <= time.monotonic() - started < 2.0  # the stall, not a time limit
    stuck.set()  # the thread left behind (a daemon) ends
