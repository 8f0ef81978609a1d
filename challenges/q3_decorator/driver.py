"""Worker-side operations for q3_decorator (public; runs inside the sandbox).

The trusted side creates decorated functions by handle and drives them. Each
underlying function is the driver's own: it counts its calls and returns the
next programmed outcome (or, when none is programmed, its call number), so the
trusted side can tell a cache hit from a recomputation. Time is a manual clock
the trusted side sets, unless a test asks for the real default clock.

Arguments arrive as JSON: arrays become tuples; {"$list": [...]} becomes a list
and {"$dict": {...}} a dict (both unhashable, to test the TypeError).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict):
        if "$list" in value:
            return [_decode(v) for v in value["$list"]]
        if "$dict" in value:
            return {k: _decode(v) for k, v in value["$dict"].items()}
    return value


def _encode(value: Any) -> Any:
    """JSON primitives only; anything else is reported by type, never trusted."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind in (list, tuple):
        return [_encode(v) for v in value]
    return {"$type": kind.__name__}


def _raised(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)[:200]}


class Cached:
    """One decorated function and the underlying function behind it."""

    def __init__(self, ttl_cache: Any, ttl: Any, maxsize: Any, real_clock: bool,
                 delay: float) -> None:
        self.now = 0.0
        self.calls = 0
        self.outcomes: list[dict[str, Any]] = []
        self.delay = delay
        self.lock = threading.Lock()

        def f(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls += 1
                number = self.calls
                outcome = self.outcomes.pop(0) if self.outcomes else {"value": number}
            if self.delay:
                time.sleep(self.delay)
            if "advance" in outcome:  # time passes while f computes
                self.now = outcome["advance"]
            if "raise" in outcome:
                raise ValueError(outcome["raise"])
            return outcome["value"]

        options: dict[str, Any] = {} if maxsize == "default" else {"maxsize": maxsize}
        if not real_clock:
            options["clock"] = lambda: self.now
        self.wrapper = ttl_cache(ttl, **options)(f)


class Driver:
    def __init__(self, submission: Any) -> None:
        self.ttl_cache = submission.ttl_cache
        self.cached: list[Cached] = []

    def make(self, ttl: Any, maxsize: Any = "default", real_clock: bool = False,
             delay: float = 0.0) -> dict[str, Any]:
        """Decorate a fresh function; returns its handle, or what creating it raised."""
        try:
            cached = Cached(self.ttl_cache, ttl, maxsize, real_clock, delay)
        except Exception as exc:  # noqa: BLE001 - reported to the trusted side
            return {"raised": _raised(exc)}
        self.cached.append(cached)
        return {"handle": len(self.cached) - 1}

    def set_time(self, handle: int, now: float) -> None:
        self.cached[handle].now = now

    def program(self, handle: int, outcomes: list[dict[str, Any]]) -> None:
        """Queue what the next underlying calls return ({"value": v}) or raise ({"raise": m}).

        With "advance": t, the clock reads t once that call of f has run.
        """
        self.cached[handle].outcomes.extend(outcomes)

    def call(self, handle: int, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        cached = self.cached[handle]
        before = cached.calls
        try:
            value = cached.wrapper(*_decode(args or []),
                                   **{k: _decode(v) for k, v in (kwargs or {}).items()})
            outcome: dict[str, Any] = {"value": _encode(value), "raised": None}
        except Exception as exc:  # noqa: BLE001
            outcome = {"value": None, "raised": _raised(exc)}
        outcome["computed"] = cached.calls - before
        return outcome

    def calls(self, handle: int) -> int:
        return self.cached[handle].calls

    def info(self, handle: int) -> dict[str, Any]:
        info = self.cached[handle].wrapper.cache_info()
        return {
            "is_tuple": isinstance(info, tuple),
            "fields": list(getattr(info, "_fields", [])),
            "values": [_encode(v) for v in info] if isinstance(info, tuple) else None,
            "named": {name: _encode(getattr(info, name, None))
                      for name in ("hits", "misses", "maxsize", "currsize")},
        }

    def clear(self, handle: int) -> None:
        self.cached[handle].wrapper.cache_clear()

    def metadata(self) -> dict[str, Any]:
        """Decorate a documented function and report what the wrapper kept."""

        def documented_function(x):
            """Documentation of the original."""
            return x

        wrapper = self.ttl_cache(60)(documented_function)
        return {
            "name": getattr(wrapper, "__name__", None),
            "qualname": getattr(wrapper, "__qualname__", None),
            "doc": getattr(wrapper, "__doc__", None),
            "module_kept": getattr(wrapper, "__module__", None) == documented_function.__module__,
            "wrapped_is_original": getattr(wrapper, "__wrapped__", None) is documented_function,
            "expected_qualname": documented_function.__qualname__,
        }

    def real_clock_expiry(self, ttl: float) -> dict[str, Any]:
        """With the default clock: call, call again at once, wait past the TTL, call."""
        made = self.make(ttl, real_clock=True)
        if "handle" not in made:
            return made
        handle = made["handle"]
        first = self.call(handle, [1])
        second = self.call(handle, [1])
        time.sleep(ttl * 2)
        third = self.call(handle, [1])
        return {"computed": [first["computed"], second["computed"], third["computed"]],
                "raised": [c["raised"] for c in (first, second, third) if c["raised"]]}

    def hammer(self, handle: int, threads: int, calls: int, keys: int) -> dict[str, Any]:
        """Many threads call at once over a few keys; returns what went wrong, if anything."""
        cached = self.cached[handle]
        errors: list[str] = []
        barrier = threading.Barrier(threads)

        def run(offset: int) -> None:
            barrier.wait()
            for i in range(calls):
                try:
                    cached.wrapper((i + offset) % keys)
                except Exception as exc:  # noqa: BLE001
                    errors.append(type(exc).__name__)

        previous = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible to expose races
        try:
            workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            sys.setswitchinterval(previous)
        return {"errors": sorted(set(errors)), "underlying": cached.calls}

    def concurrent_same_key(self, handle: int, threads: int) -> dict[str, Any]:
        """`threads` threads call the same missing key at the same moment."""
        cached = self.cached[handle]
        barrier = threading.Barrier(threads)
        results: list[Any] = []

        def run() -> None:
            barrier.wait()
            try:
                results.append(_encode(cached.wrapper("same")))
            except Exception as exc:  # noqa: BLE001
                results.append({"raised": type(exc).__name__})

        workers = [threading.Thread(target=run) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return {"results": results, "underlying": cached.calls}

    def concurrent_other_key(self, handle: int) -> dict[str, Any]:
        """While one slow call computes key A, does a call for key B run concurrently?"""
        cached = self.cached[handle]
        started = time.monotonic()
        slow = threading.Thread(target=cached.wrapper, args=("slow",))
        slow.start()
        time.sleep(cached.delay / 4)
        other_started = time.monotonic()
        cached.wrapper("other")
        other_took = time.monotonic() - other_started
        slow.join()
        return {"other_took": other_took, "slow_took": time.monotonic() - started}

    # -- performance batches: timed from outside, one call each -------------
    #
    # Each walks a key stream drawn from the trusted side's fresh `seed` and answers
    # [sum of the values returned, number of real calls]. The trusted side requires
    # the reference's answer for the same seed: the count of real calls follows the
    # LRU's hits and misses, so a batch cannot be answered without doing its work.

    def _batch(self, maxsize: int, space: int, n: int, seed: int, fill: bool) -> list[int]:
        calls = 0

        def f(x: int) -> int:
            nonlocal calls
            calls += 1
            return x

        wrapper = self.ttl_cache(3600, maxsize=maxsize)(f)
        if fill:
            for key in range(maxsize):
                wrapper(key)
        total, key = 0, seed % space
        for _ in range(n):
            key = (key * 1103515245 + 12345) % space  # cheap next key
            total += wrapper(key)
        return [total, calls]

    def bench_hits(self, n: int, size: int, seed: int = 0) -> list[int]:
        """n calls over a full cache of `size`, keys drawn from 9/8 of it: mostly hits."""
        return self._batch(size, size + size // 8, n, seed, fill=True)

    def bench_stream(self, n: int, maxsize: int, seed: int = 0) -> list[int]:
        """n calls over 4 x maxsize keys through a full cache: mostly misses, each evicting."""
        return self._batch(maxsize, 4 * maxsize, n, seed, fill=True)
