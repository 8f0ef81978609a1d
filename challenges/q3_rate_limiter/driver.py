"""Worker-side operations for q3_rate_limiter (public; runs inside the sandbox).

The trusted side creates buckets by handle and drives them. Each bucket gets the
driver's own clock and sleep (a `Clock`): time moves only when the trusted side
sets it, when `sleep(s)` is called (which advances it by exactly s, at once), or,
in the thread operations that ask for it, by a fixed tick at every reading. The
driver counts the clock's readings and records every sleep, so the trusted side
can check how long `acquire` slept in total. A test may instead ask for a bucket
with the real defaults (time.monotonic and time.sleep).

Answers are observations only (JSON primitives through the driver kit); the
trusted side judges them against its own model of the bucket.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from driverkit import Handles, encode, raised, run_together

DEFAULT = "default"  # an argument the trusted side leaves out of the call
MAX_SLEEPS = 100_000  # sleeps in one operation before it is stopped as endless
MAX_STILL_SLEEPS = 10_000  # sleeps in a row that do not move the clock, likewise
SWITCH_INTERVAL = 5e-5  # threads of the contended batch switch often: they do contend


class EndlessSleeping(BaseException):  # noqa: N818 - not an error of the submission's own
    """Raised inside `sleep` to stop an acquire that would sleep for ever."""


class Clock:
    """clock() and sleep() as the trusted side controls them (thread-safe)."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.tick = 0.0  # added to `now` before each reading
        self.yielding = False  # sleep lets other threads run, as a real sleep would
        self.reads = 0
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.sleeps = 0
        self.still = 0
        self.slept: dict[int, float] = {}  # per thread: the total it slept
        self.negative = False

    def time(self) -> float:
        with self.lock:
            self.reads += 1
            self.now += self.tick
            now = self.now
        return now

    def sleep(self, seconds: float) -> None:
        seconds = float(seconds)  # as time.sleep: a TypeError for what is not a number
        if not seconds >= 0:
            self.negative = True
            raise ValueError("sleep length must be non-negative")
        with self.lock:
            self.sleeps += 1
            before = self.now
            self.now += seconds
            self.still = self.still + 1 if self.now == before else 0
            ident = threading.get_ident()
            self.slept[ident] = self.slept.get(ident, 0.0) + seconds
            endless = self.sleeps > MAX_SLEEPS or self.still > MAX_STILL_SLEEPS
        if endless:
            raise EndlessSleeping
        if self.yielding:
            time.sleep(0)  # releases the GIL: other threads run while this one "sleeps"


class Preempter:
    """A trace function for the threads of a race test. Each call into the submission's
    code from outside it gives up the interpreter once, at a bytecode drawn at random
    among the first `span` it runs (in the middle of a line too), so another thread runs
    from wherever it was stopped: an unlocked read-modify-write is caught in the act.
    Code outside the submission, and the rest of a call once it has yielded, are not
    traced, so the cost stays one switch per call."""

    def __init__(self, module: str, span: int) -> None:
        self.module = module
        self.span = span
        self.state = threading.local()

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if frame.f_globals.get("__name__") != self.module:
            return None
        state = self.state
        caller = frame.f_back
        if caller is None or caller.f_globals.get("__name__") != self.module:
            if not hasattr(state, "random"):
                state.random = random.Random(threading.get_ident())
            state.left = state.random.randint(1, self.span)  # a call from outside
        if state.left <= 0:
            return None
        frame.f_trace_lines = False
        frame.f_trace_opcodes = True
        return self.opcode

    def opcode(self, frame: Any, event: str, arg: Any) -> Any:
        if event != "opcode":
            return self.opcode
        state = self.state
        state.left -= 1
        if state.left:
            return self.opcode if state.left > 0 else None
        frame.f_trace_opcodes = False
        time.sleep(0)  # lets another thread run from wherever it was stopped
        return None


class Subject:
    """One bucket and its clock."""

    def __init__(self, TokenBucket: Any, rate: Any, capacity: Any, now: float,  # noqa: N803
                 real_time: bool) -> None:
        self.clock = Clock(now)
        if real_time:
            self.bucket = TokenBucket(rate, capacity)
        else:
            self.bucket = TokenBucket(rate, capacity, clock=self.clock.time,
                                      sleep=self.clock.sleep)


def _call(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """{"value": encoded, "raised": None} or {"value": None, "raised": {...}}."""
    try:
        value = function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported to the trusted side
        return {"value": None, "raised": raised(exc)}
    return {"value": encode(value), "raised": None}


class Driver:
    def __init__(self, submission: Any) -> None:
        self.TokenBucket = submission.TokenBucket
        self.module = submission.__name__
        self.subjects = Handles("bucket")

    def make(self, rate: Any, capacity: Any, now: float = 0.0) -> dict[str, Any]:
        """TokenBucket(rate, capacity, clock=..., sleep=...) with the clock reading `now`:
        {"handle": h}, or {"raised": {...}} if creating it raised."""
        return self.subjects.create(Subject, self.TokenBucket, rate, capacity, now, False)

    def set_time(self, handle: int, now: float) -> None:
        self.subjects[handle].clock.now = now

    def try_acquire(self, handle: int, tokens: Any = DEFAULT) -> dict[str, Any]:
        """One try_acquire (without arguments if `tokens` is "default"): what it returned
        or raised, and how many times it read the clock."""
        subject = self.subjects[handle]
        args = () if tokens == DEFAULT else (tokens,)
        before = subject.clock.reads
        answer = _call(subject.bucket.try_acquire, *args)
        return {**answer, "reads": subject.clock.reads - before}

    def available(self, handle: int) -> dict[str, Any]:
        """One available(): what it returned or raised, and how many clock readings."""
        subject = self.subjects[handle]
        before = subject.clock.reads
        answer = _call(subject.bucket.available)
        return {**answer, "reads": subject.clock.reads - before}

    def acquire(self, handle: int, tokens: Any = DEFAULT, time_limit: Any = DEFAULT
                ) -> dict[str, Any]:
        """One acquire(tokens, timeout=time_limit), leaving out the arguments given as
        "default": what it returned or raised, the total it slept, how many sleeps, the
        clock after, and whether it was stopped for sleeping without end."""
        subject = self.subjects[handle]
        clock = subject.clock
        args = () if tokens == DEFAULT else (tokens,)
        kwargs = {} if time_limit == DEFAULT else {"timeout": time_limit}
        clock.reset()
        endless = False
        try:
            answer = _call(subject.bucket.acquire, *args, **kwargs)
        except EndlessSleeping:
            answer, endless = {"value": None, "raised": None}, True
        return {**answer, "endless": endless, "slept": sum(clock.slept.values()),
                "sleeps": clock.sleeps, "negative_sleep": clock.negative, "now": clock.now}

    # -- real threads ---------------------------------------------------------------

    def hammer(self, handle: int, threads: int, calls: int, tokens: float, tick: float,
               span: int = 60) -> dict[str, Any]:
        """`threads` threads make `calls` calls each, at once, in turn try_acquire(tokens),
        acquire(tokens, timeout=0) and available(), each call interrupted once at a random
        bytecode among its first `span` (see Preempter); the clock advances by `tick` at
        every reading. Returns the grants and refusals, and the clock before and after."""
        subject = self.subjects[handle]
        bucket, clock = subject.bucket, subject.clock
        operations = [lambda: bucket.try_acquire(tokens),
                      lambda: bucket.acquire(tokens, timeout=0), lambda: bucket.available()]

        def run(first: int) -> dict[str, Any]:
            granted = refused = 0
            errors: set[str] = set()
            for call in range(first, first + calls):
                kind = call % 3
                try:
                    result = operations[kind]()
                except Exception as exc:  # noqa: BLE001
                    errors.add(type(exc).__name__)
                    continue
                if kind == 2:
                    if type(result) not in (int, float):
                        errors.add("available() returned something that is not a number")
                elif result is True:
                    granted += 1
                elif result is False:
                    refused += 1
                else:
                    errors.add("a result that is not a bool")
            return {"granted": granted, "refused": refused, "errors": errors}

        start = clock.now
        clock.tick = tick
        threading.settrace(Preempter(self.module, span))
        try:
            found = run_together([lambda t=t: run(t) for t in range(threads)])
        finally:
            threading.settrace(None)
            clock.tick = 0.0
        return {"granted": sum(f["granted"] for f in found),
                "refused": sum(f["refused"] for f in found),
                "errors": sorted(set().union(*(f["errors"] for f in found))),
                "start": start, "end": clock.now}

    def contend(self, handle: int, timeouts: list[Any], calls: int, tokens: float,
                span: int = 60) -> dict[str, Any]:
        """One thread per entry of `timeouts`, each calling acquire(tokens, timeout=that
        entry) `calls` times, at once (None: no timeout), each call interrupted once at a
        random bytecode among its first `span` (see Preempter) and at every sleep. Sleeps
        advance the shared clock. Per thread: how many True and False, and the largest
        total it slept in one call."""
        subject = self.subjects[handle]
        bucket, clock = subject.bucket, subject.clock
        clock.reset()

        def run(timeout: Any) -> dict[str, Any]:
            me = threading.get_ident()
            granted = refused = 0
            most = 0.0
            errors: set[str] = set()
            for _ in range(calls):
                before = clock.slept.get(me, 0.0)
                try:
                    result = bucket.acquire(tokens, timeout=timeout)
                except EndlessSleeping:
                    errors.add("slept without end")
                    break
                except Exception as exc:  # noqa: BLE001
                    errors.add(type(exc).__name__)
                    continue
                most = max(most, clock.slept.get(me, 0.0) - before)
                if result is True:
                    granted += 1
                elif result is False:
                    refused += 1
                else:
                    errors.add("a result that is not a bool")
            return {"granted": granted, "refused": refused, "most_slept": most,
                    "errors": errors}

        start = clock.now
        clock.yielding = True
        threading.settrace(Preempter(self.module, span))
        try:
            found = run_together([lambda t=t: run(t) for t in timeouts])
        finally:
            threading.settrace(None)
            clock.yielding = False
        errors = sorted(set().union(*(f.pop("errors") for f in found)))
        return {"threads": found, "errors": errors, "negative_sleep": clock.negative,
                "start": start, "end": clock.now}

    def real_time(self, rate: float, capacity: float, threads: int, calls: int
                  ) -> dict[str, Any]:
        """A bucket with the default clock and sleep; `threads` threads each call acquire()
        `calls` times, at once. Returns the grants and the real time elapsed from before
        the bucket was made to after the last call returned."""
        started = time.monotonic()
        try:
            bucket = self.TokenBucket(rate, capacity)
        except Exception as exc:  # noqa: BLE001
            return {"raised": raised(exc)}

        def run() -> dict[str, Any]:
            granted = refused = 0
            errors: set[str] = set()
            for _ in range(calls):
                try:
                    result = bucket.acquire()
                except Exception as exc:  # noqa: BLE001
                    errors.add(type(exc).__name__)
                    continue
                if result is True:
                    granted += 1
                elif result is False:
                    refused += 1
                else:
                    errors.add("a result that is not a bool")
            return {"granted": granted, "refused": refused, "errors": errors}

        found = run_together([run] * threads)
        return {"raised": None, "granted": sum(f["granted"] for f in found),
                "refused": sum(f["refused"] for f in found),
                "errors": sorted(set().union(*(f["errors"] for f in found))),
                "elapsed": time.monotonic() - started}

    # -- performance batches: timed from outside, one call each -------------------
    #
    # Each answers with counts the trusted side requires to equal the reference's for
    # the same fresh `seed`, so a batch cannot be answered without doing its work. All
    # amounts, rates and times are multiples of powers of two: the arithmetic is exact,
    # and every correct bucket grants exactly the same requests.

    def bench_single(self, n: int, seed: int = 0) -> list[int]:
        """n try_acquire calls on one bucket (rate 4, capacity 16), one thread: before each,
        the clock moves by a seeded step (0 to 7/16 s, and one time in 32 4 s, which fills
        the bucket); each asks for 1, 2 or 3 tokens. Answers [grants, tokens granted]."""
        now = [0.0]
        bucket = self.TokenBucket(4.0, 16.0, clock=lambda: now[0], sleep=_no_sleep)
        try_acquire = bucket.try_acquire
        x = seed & 0x7FFFFFFF
        grants = taken = 0
        for _ in range(n):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            r = x >> 12
            now[0] += 4.0 if r & 31 == 0 else ((r >> 7) & 7) / 16
            amount = 1 + (r >> 10) % 3
            if try_acquire(amount) is True:
                grants += 1
                taken += amount
        return [grants, taken]

    def bench_contended(self, threads: int, n: int, seed: int = 0) -> list[int]:
        """`threads` threads at once, each making n try_acquire(1) calls on one bucket whose
        capacity (512 to 1023) comes from the seed, with the clock standing still: exactly
        `capacity` calls are granted. Answers [grants, calls]. (A large capacity: a bucket
        whose cost grows with what it holds shows it clearly, whatever the seed.)"""
        capacity = 512 + seed % 512
        bucket = self.TokenBucket(1.0, float(capacity), clock=lambda: 0.0, sleep=_no_sleep)
        try_acquire = bucket.try_acquire

        def run() -> int:
            grants = 0
            for _ in range(n):
                if try_acquire(1.0) is True:
                    grants += 1
            return grants

        return [sum(run_together([run] * threads, switch_interval=SWITCH_INTERVAL)), threads * n]


def _no_sleep(seconds: float) -> None:
    raise RuntimeError("a performance batch never needs to sleep")
