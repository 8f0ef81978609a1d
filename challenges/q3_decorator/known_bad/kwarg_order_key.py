"""Known bad: the key keeps keyword arguments in call order (tuple(kwargs.items()) without
sorting), so f(a=1, b=2) and f(b=2, a=1) are separate entries.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

__all__ = ["CacheInfo", "ttl_cache"]

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])

# Separates positional from keyword arguments in a key, so that f(1, b=2)
# and f(1, 2) differ, and f(1, b=2) cannot equal any positional-only call.
_KWARGS_MARK = object()


class _Flight:
    """One computation in progress: its owner thread, and its outcome once done."""

    __slots__ = ("owner", "event", "done_ok", "value")

    def __init__(self, owner: int) -> None:
        self.owner = owner
        self.event: threading.Event | None = None  # created by the first waiter
        self.done_ok = False
        self.value: Any = None


def ttl_cache(
    ttl: float,
    *,
    maxsize: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Cache a function's results for ``ttl`` seconds of ``clock()`` time.

    An entry stored when ``clock()`` returned ``t0`` (read once ``f`` has
    returned) is served while ``clock() - t0 < ttl``. With ``maxsize`` set,
    at most that many entries are kept and the least recently used one is
    evicted (expired entries first). Exceptions are never cached. The wrapper
    offers ``cache_info()`` and ``cache_clear()`` like ``functools.lru_cache``.
    """
    if callable(ttl):
        raise TypeError("ttl_cache needs arguments: use @ttl_cache(ttl=...)")
    if not ttl > 0:  # also rejects NaN
        raise ValueError(f"ttl must be > 0, got {ttl!r}")
    if maxsize is not None and maxsize < 1:
        raise ValueError(f"maxsize must be None or >= 1, got {maxsize!r}")

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        cache: OrderedDict[Any, tuple[Any, float]] = OrderedDict()
        stored: OrderedDict[Any, float] = OrderedDict()
        pending: dict[Any, _Flight] = {}
        lock = threading.Lock()
        cache_get = cache.get
        move_to_end = cache.move_to_end
        get_ident = threading.get_ident
        hits = misses = 0

        def store(key: Any, value: Any) -> None:
            # Caller holds the lock; f has returned.
            t0 = clock()
            if key in cache:
                cache[key] = (value, t0)
                move_to_end(key)
                del stored[key]
            else:
                if maxsize is not None and len(cache) >= maxsize:
                    oldest = next(iter(stored))
                    if t0 - stored[oldest] >= ttl:
                        del cache[oldest]
                        del stored[oldest]
                    else:
                        victim, _ = cache.popitem(last=False)
                        del stored[victim]
                cache[key] = (value, t0)
            stored[key] = t0

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal hits, misses
            if kwargs:
                key: Any = (*args, _KWARGS_MARK, *kwargs.items())
            else:
                key = args
            while True:
                with lock:
                    entry = cache_get(key)  # TypeError here for unhashable args
                    if entry is not None:
                        if clock() - entry[1] < ttl:
                            move_to_end(key)
                            hits += 1
                            return entry[0]
                        del cache[key]
                        del stored[key]
                    flight = pending.get(key)
                    me = get_ident()
                    if flight is None:
                        flight = pending[key] = _Flight(me)
                        misses += 1
                        break
                    if flight.owner == me:  # recursion on the key being computed
                        flight = None
                        misses += 1
                        break
                    event = flight.event
                    if event is None:
                        event = flight.event = threading.Event()
                event.wait()
                if flight.done_ok:
                    with lock:
                        hits += 1
                    return flight.value
                # The leader's f raised: start over (wait for a new leader or lead).

            try:
                value = func(*args, **kwargs)
            except BaseException:
                if flight is not None:
                    with lock:
                        if pending.get(key) is flight:
                            del pending[key]
                        event = flight.event
                    if event is not None:
                        event.set()
                raise
            with lock:
                store(key, value)
                if flight is None:
                    return value
                flight.value = value
                flight.done_ok = True
                if pending.get(key) is flight:
                    del pending[key]
                event = flight.event
            if event is not None:
                event.set()
            return value

        def cache_info() -> CacheInfo:
            with lock:
                return CacheInfo(hits, misses, maxsize, len(cache))

        def cache_clear() -> None:
            nonlocal hits, misses
            with lock:
                cache.clear()
                stored.clear()
                hits = misses = 0

        wrapper.cache_info = cache_info  # type: ignore[attr-defined]
        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
