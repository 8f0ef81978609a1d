"""Worker-side operations for q3_decorator (public; runs inside the sandbox).

The trusted side creates decorated functions by handle and drives them. Each
underlying function is the driver's own: it counts its calls and returns the
next programmed outcome (or, when none is programmed, its call number), so the
trusted side can tell a cache hit from a recomputation. Time is a manual clock
the trusted side sets, unless a test asks for the real default clock.

Arguments and answers go through the driver kit (sandbox/driverkit.py): arrays
become tuples; {"$list": [...]} becomes a list and {"$dict": {...}} a dict (both
unhashable, to test the TypeError).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from driverkit import Handles, ManualClock, Progress, encode, outcome, run_watched


class Cached:
    """One decorated function and the underlying function behind it."""

    def __init__(self, ttl_cache: Any, ttl: Any, maxsize: Any, real_clock: bool,
                 delay: float) -> None:
        self.clock = ManualClock()
        self.calls = 0
        self.outcomes: list[dict[str, Any]] = []
        self.delay = delay
        self.lock = threading.Lock()

        def f(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls += 1
                number = self.calls
                programmed = self.outcomes.pop(0) if self.outcomes else {"value": number}
            delay = programmed.get("delay", self.delay)
            if delay:
                time.sleep(delay)
            if "advance" in programmed:  # time passes while f computes
                self.clock.set(programmed["advance"])
            if "raise" in programmed:
                raise ValueError(programmed["raise"])
            return programmed["value"]

        options: dict[str, Any] = {} if maxsize == "default" else {"maxsize": maxsize}
        if not real_clock:
            options["clock"] = self.clock.time
        self.wrapper = ttl_cache(ttl, **options)(f)


class Driver:
    def __init__(self, submission: Any) -> None:
        self.ttl_cache = submission.ttl_cache
        self.cached = Handles("decorated function")

    def make(self, ttl: Any, maxsize: Any = "default", real_clock: bool = False,
             delay: float = 0.0) -> dict[str, Any]:
        """Decorate a fresh function; returns its handle, or what creating it raised."""
        return self.cached.create(Cached, self.ttl_cache, ttl, maxsize, real_clock, delay)

    def set_time(self, handle: int, now: float) -> None:
        self.cached[handle].clock.set(now)

    def program(self, handle: int, outcomes: list[dict[str, Any]]) -> None:
        """Queue what the next underlying calls return ({"value": v}) or raise ({"raise": m}).

        With "advance": t, the clock reads t once that call of f has run; with "delay": s,
        that call takes s seconds (in place of the function's own delay).
        """
        self.cached[handle].outcomes.extend(outcomes)

    def call(self, handle: int, args: list[Any] | None = None,
             kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """What one call of the decorated function returned or raised, and whether it computed."""
        cached = self.cached[handle]
        before = cached.calls
        answer = outcome(cached.wrapper, args, kwargs)
        answer["computed"] = cached.calls - before
        return answer

    def call_each(self, handle: int, keys: list[Any]) -> dict[str, Any]:
        """f(key) for each key in turn, in one request (filling a cache of thousands
        takes milliseconds, not a round trip each): what those calls raised, if anything."""
        wrapper = self.cached[handle].wrapper
        raised = [answer["raised"]["type"] for answer in (outcome(wrapper, [key], None)
                                                         for key in keys) if answer["raised"]]
        return {"raised": raised[:5]}

    def run_steps(self, handle: int, steps: list[Any]) -> dict[str, Any]:
        """A whole sequence in one request (a model test sends hundreds): each step is
        ("call", key, as_keyword), ("set_time", now) or ("clear",). Answers cache_info()
        before the first step, and after each step that step's observation: for a call,
        "computed" and what it raised ("raised": a type name or None), and "info"."""
        start, observations = self.info(handle)["named"], []
        for step in steps:
            observed: dict[str, Any] = {}
            if step[0] == "call":
                _, key, as_keyword = step
                answer = self.call(handle, [] if as_keyword else [key],
                                   {"k": key} if as_keyword else None)
                raised = answer["raised"]
                observed = {"computed": answer["computed"],
                            "raised": raised["type"] if raised else None}
            elif step[0] == "set_time":
                self.set_time(handle, step[1])
            elif step[0] == "clear":
                self.clear(handle)
            else:
                raise ValueError(f"unknown step {step[0]!r}")
            observed["info"] = self.info(handle)["named"]
            observations.append(observed)
        return {"start": start, "steps": observations}

    def calls(self, handle: int) -> int:
        return self.cached[handle].calls

    def info(self, handle: int) -> dict[str, Any]:
        info = self.cached[handle].wrapper.cache_info()
        return {
            "is_tuple": isinstance(info, tuple),
            "fields": list(getattr(info, "_fields", [])),
            "values": [encode(v) for v in info] if isinstance(info, tuple) else None,
            "named": {name: encode(getattr(info, name, None))
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
        time.sleep(ttl * 1.25)  # sleep() never returns early: past the TTL by a margin
        third = self.call(handle, [1])
        return {"computed": [first["computed"], second["computed"], third["computed"]],
                "raised": [c["raised"] for c in (first, second, third) if c["raised"]]}

    def hammer(self, handle: int, threads: int, calls: int, keys: int, wait: float = 1.0
               ) -> dict[str, Any]:
        """Many threads call at once over a few keys; returns what went wrong, if anything.
        "finished" is False once no call has returned for `wait` seconds (a deadlock)."""
        cached = self.cached[handle]
        progress = Progress()

        def run(offset: int) -> set[str]:
            errors: set[str] = set()
            for i in range(calls):
                try:
                    cached.wrapper((i + offset) % keys)
                except Exception as exc:  # noqa: BLE001
                    errors.add(type(exc).__name__)
                progress.step()
            return errors

        found = run_watched([lambda t=t: run(t) for t in range(threads)], progress, wait,
                            switch_interval=1e-6)
        return {"finished": found is not None, "errors": sorted(set().union(*found or [])),
                "underlying": cached.calls}

    def concurrent_same_key(self, handle: int, threads: int, wait: float = 1.0
                            ) -> dict[str, Any]:
        """`threads` threads call the same missing key at the same moment. "finished" is
        False once none of them has returned for `wait` seconds (a caller hangs)."""
        cached = self.cached[handle]
        progress = Progress()

        def run() -> Any:
            try:
                answer = encode(cached.wrapper("same"))
            except Exception as exc:  # noqa: BLE001
                answer = {"raised": type(exc).__name__}
            progress.step()
            return answer

        results = run_watched([run] * threads, progress, wait)
        return {"finished": results is not None, "results": results or [],
                "underlying": cached.calls}

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

    # -- more observations (stdlib only) ---------------------------------------

    def create(self, ttl: Any, maxsize: Any = "default") -> dict[str, Any]:
        """Only create the decorator, ttl_cache(ttl, maxsize=...), decorating nothing:
        {"raised": None}, or {"raised": {"type": name}} if creating it raised."""
        options: dict[str, Any] = {} if maxsize == "default" else {"maxsize": maxsize}
        try:
            self.ttl_cache(ttl, **options)
        except Exception as exc:  # noqa: BLE001 - reported to the trusted side
            return {"raised": {"type": type(exc).__name__}}
        return {"raised": None}

    def shared_decorator(self, ttl: float) -> dict[str, Any]:
        """One ttl_cache(ttl) object decorates two functions of the same name; calls each
        twice with the same argument. Each function returns its own label."""
        calls = [0, 0]

        def function(index: int) -> Any:
            def f(x: Any) -> str:
                calls[index] += 1
                return f"function {index}"
            return f

        try:
            decorator = self.ttl_cache(ttl, clock=lambda: 0.0)
            first, second = decorator(function(0)), decorator(function(1))
            results = [first(1), second(1), first(1), second(1)]
        except Exception as exc:  # noqa: BLE001 - reported to the trusted side
            return {"raised": {"type": type(exc).__name__}, "calls": calls}
        return {"raised": None, "calls": calls,
                "results": [r if type(r) is str else None for r in results]}

    def call_in_thread(self, handle: int, args: list[Any] | None = None,
                       kwargs: dict[str, Any] | None = None, wait: float = 2.0
                       ) -> dict[str, Any]:
        """One call (as `call`) from a new thread: {"finished": True, ...its answer}, or
        {"finished": False} if it has not returned after `wait` seconds."""
        answers: list[dict[str, Any]] = []
        thread = threading.Thread(target=lambda: answers.append(self.call(handle, args, kwargs)),
                                  daemon=True)
        thread.start()
        thread.join(wait)
        if not answers:
            return {"finished": False}
        return {"finished": True, **answers[0]}

    def same_key_rounds(self, handle: int, threads: int, rounds: int, wait: float = 1.0
                        ) -> dict[str, Any]:
        """Round after round, `threads` threads call the same new key (0, 1, ...) together,
        switching threads as often as possible. "finished" is False once no call has
        returned for `wait` seconds; "errors" names what calls raised."""
        cached = self.cached[handle]
        barrier = threading.Barrier(threads, timeout=wait)  # a stuck call breaks it
        errors: set[str] = set()
        progress = Progress()

        def run() -> None:
            for key in range(rounds):
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    return
                try:
                    cached.wrapper(key)
                except Exception as exc:  # noqa: BLE001 - reported to the trusted side
                    errors.add(type(exc).__name__)
                progress.step()

        done = run_watched([run] * threads, progress, wait, switch_interval=1e-6)
        finished = done is not None and not barrier.broken
        return {"finished": finished, "errors": sorted(errors), "underlying": cached.calls}
