"""The driver kit: what every challenge driver needs, written once (stdlib only).

A driver (challenges/<id>/driver.py) runs in the sandbox next to the submission
and answers the trusted side with JSON primitives. What is generic about that
lives here; a driver keeps only what is about its challenge:

    decode(value)            a JSON argument as Python: arrays become tuples,
                             {"$list": [...]} a list, {"$dict": {...}} a dict
    encode(value)            a Python answer as JSON: None, bool, int, float, str
                             (exact types), lists and tuples as arrays; anything
                             else only by its type, {"$type": name}, never trusted
    raised(exc)              what a call raised: {"type": name, "message": text}
    outcome(function, args, kwargs)
                             call with decoded JSON arguments: {"value", "raised"}
    Handles                  objects created and then driven by handle (0, 1, ...)
    Counted                  a callable that counts its calls (thread-safe)
    CountingMapping          a read-only mapping that counts its lookups
    ManualClock              a clock the trusted side sets, and a sleep that waits
                             for it
    run_together(functions)  real threads released at the same moment
    run_watched(functions, progress, wait)
                             the same for runs that may deadlock: given up on once
                             no step completes for `wait` seconds (Progress)

The worker (worker.py, next to this file) loads this module afresh as `driverkit`
before each driver and seals it with the driver: a submission that patches a
function here is caught as if it had patched the driver. Like a driver, nothing
here is trusted: counts and answers are observations the trusted side checks.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

MAX_RAISED_MESSAGE = 200


# --------------------------------------------------------------------------- codec


def decode(value: Any) -> Any:
    """A JSON argument as the Python value it stands for."""
    if isinstance(value, list):
        return tuple(decode(v) for v in value)
    if isinstance(value, dict):
        if "$list" in value:
            return [decode(v) for v in value["$list"]]
        if "$dict" in value:
            return {k: decode(v) for k, v in value["$dict"].items()}
    return value


def encode(value: Any) -> Any:
    """JSON primitives only; anything else is reported by type, never trusted."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (list, tuple):
        return [encode(v) for v in value]
    return {"$type": kind.__name__}


def raised(exc: BaseException) -> dict[str, str]:
    """What a call raised, as the trusted side sees it."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a submitted exception may fail to print
        message = "<str() of the exception raised>"
    return {"type": type(exc).__name__, "message": message[:MAX_RAISED_MESSAGE]}


def outcome(function: Callable[..., Any], args: list[Any] | None = None,
            kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call `function` with decoded JSON arguments: {"value": encoded, "raised": None},
    or {"value": None, "raised": raised(exc)} if it raised an Exception."""
    try:
        value = function(*decode(args or []), **{k: decode(v) for k, v in (kwargs or {}).items()})
    except Exception as exc:  # noqa: BLE001 - reported to the trusted side
        return {"value": None, "raised": raised(exc)}
    return {"value": encode(value), "raised": None}


# --------------------------------------------------------------------------- handles


class Handles:
    """Objects the trusted side creates, then names by handle: 0, 1, 2, ..."""

    def __init__(self, kind: str = "object") -> None:
        self.kind = kind
        self._objects: list[Any] = []

    def add(self, obj: Any) -> int:
        self._objects.append(obj)
        return len(self._objects) - 1

    def create(self, factory: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """{"handle": h} for factory(...), or {"raised": raised(exc)} if it raised."""
        try:
            obj = factory(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported to the trusted side
            return {"raised": raised(exc)}
        return {"handle": self.add(obj)}

    def __getitem__(self, handle: int) -> Any:
        if type(handle) is not int or not 0 <= handle < len(self._objects):
            raise LookupError(f"no {self.kind} has handle {handle!r} "
                              f"({len(self._objects)} created)")
        return self._objects[handle]

    def __len__(self) -> int:
        return len(self._objects)


# --------------------------------------------------------------------------- counting


class Counted:
    """`function` behind a call counter; `calls` is how often it was called."""

    def __init__(self, function: Callable[..., Any]) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.calls += 1
        return self.function(*args, **kwargs)


class CountingMapping(Mapping[Any, Any]):
    """A read-only view of `data` that counts lookups of a value (m[k], m.get(k),
    items(), values()); `in`, len() and iterating the keys are not lookups."""

    def __init__(self, data: Mapping[Any, Any]) -> None:
        self._data = data
        self.lookups = 0
        self._lock = threading.Lock()

    def __getitem__(self, key: Any) -> Any:
        with self._lock:
            self.lookups += 1
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


# --------------------------------------------------------------------------- time and threads


class ManualClock:
    """Time that moves only when told: pass `clock.time` and `clock.sleep` to the
    submission, and let operations call `set` or `advance`. A sleeper wakes once the
    clock reaches the time it asked for; `sleeping` says how many wait now."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self.sleeping = 0
        self._changed = threading.Condition()

    def time(self) -> float:
        return self._now

    def set(self, now: float) -> None:
        with self._changed:
            self._now = now
            self._changed.notify_all()

    def advance(self, seconds: float) -> None:
        with self._changed:
            self._now += seconds
            self._changed.notify_all()

    def sleep(self, seconds: float) -> None:
        with self._changed:
            wake = self._now + seconds
            self.sleeping += 1
            self._changed.notify_all()
            try:
                self._changed.wait_for(lambda: self._now >= wake)
            finally:
                self.sleeping -= 1
                self._changed.notify_all()

    def wait_for_sleepers(self, count: int, timeout: float) -> bool:
        """Wait until at least `count` threads sleep; False if `timeout` s pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: self.sleeping >= count, timeout)


class Progress:
    """When a run's threads last completed a step (a call returned): a wait on them gives
    up once they stall, never because they are slow."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def step(self) -> None:
        self.last = time.monotonic()

    def stalled(self, wait: float) -> bool:
        return time.monotonic() - self.last >= wait


def run_together(functions: list[Callable[[], Any]],
                 switch_interval: float | None = None) -> list[Any]:
    """Run each function in its own thread, all released at the same moment; wait for
    all and return their results in order. If one raised, the first such exception is
    raised here. `switch_interval` (e.g. 1e-6) switches threads often, to expose races."""
    results = run_watched(functions, Progress(), math.inf, switch_interval)
    assert results is not None  # an endless wait is never given up
    return results


def run_watched(functions: list[Callable[[], Any]], progress: Progress, wait: float,
                switch_interval: float | None = None) -> list[Any] | None:
    """As run_together, for a run that may deadlock: the functions call progress.step()
    whenever one of their calls returns, and once none has for `wait` seconds the run is
    given up: None. Its stuck threads are daemons left behind (the harness replaces a
    worker that still runs threads). A hang costs `wait`, not a call's time limit."""
    if not functions:
        return []
    barrier = threading.Barrier(len(functions))
    results: list[Any] = [None] * len(functions)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = functions[index]()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors.append(exc)

    previous = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    try:
        threads = [threading.Thread(target=run, args=(i,), daemon=True)
                   for i in range(len(functions))]
        progress.step()  # the wait starts now
        for thread in threads:
            thread.start()
        poll = None if math.isinf(wait) else 0.05  # endless: no wake-ups in a timed batch
        for thread in threads:
            while thread.is_alive() and not progress.stalled(wait):
                thread.join(poll)
    finally:
        sys.setswitchinterval(previous)
    if any(thread.is_alive() for thread in threads):
        return None
    if errors:
        raise errors[0]
    return results
