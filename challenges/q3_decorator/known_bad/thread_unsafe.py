"""Known bad: no lock at all and no single flight: the cache dicts are mutated by check-then-act
sequences, and the hit/miss counters are read-modify-written across a window (for misses, across
the call to f), so concurrent calls lose counts and can raise KeyError.
"""

from __future__ import annotations

import functools
import time
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

__all__ = ["CacheInfo", "ttl_cache"]

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])

# Separates positional from keyword arguments in a key, so that f(1, b=2)
# and f(1, 2) differ, and f(1, b=2) cannot equal any positional-only call.
_KWARGS_MARK = object()


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
        cache_get = cache.get
        move_to_end = cache.move_to_end
        hits = misses = 0

        def store(key: Any, value: Any) -> None:
            # f has returned.
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
                key: Any = (*args, _KWARGS_MARK, *sorted(kwargs.items()))
            else:
                key = args
            entry = cache_get(key)  # TypeError here for unhashable args
            if entry is not None:
                if clock() - entry[1] < ttl:
                    h = hits
                    move_to_end(key)
                    hits = h + 1
                    return entry[0]
                del cache[key]
                del stored[key]
            m = misses
            try:
                value = func(*args, **kwargs)
            finally:
                misses = m + 1
            store(key, value)
            return value

        def cache_info() -> CacheInfo:
            return CacheInfo(hits, misses, maxsize, len(cache))

        def cache_clear() -> None:
            nonlocal hits, misses
            cache.clear()
            stored.clear()
            hits = misses = 0

        wrapper.cache_info = cache_info  # type: ignore[attr-defined]
        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
