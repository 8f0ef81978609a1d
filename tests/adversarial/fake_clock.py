"""Hostile: O(n) eviction, with every clock in the worker slowed down a thousandfold.

Eviction copies the whole key list to find the least recently used key (about
8x slower than the reference on the eviction stream). Once per worker it patches
time.perf_counter, monotonic, time, process_time and their _ns variants to run
1000x slower, so that anything timed inside the worker looks fast (its own
default clock stays the real one). Timing is taken outside the worker, so the
eviction_stream metric must still fail.
"""

import functools
import sys
import threading
import time
from collections import OrderedDict, namedtuple

# The real clock, kept across re-imports (the time module stays patched in between).
_REAL_MONOTONIC = sys.__dict__.setdefault("_graders_adv_real_monotonic", time.monotonic)


def _on_call(key):
    pass


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
_KWARGS = object()  # separates positional from keyword arguments in a key


def ttl_cache(ttl, *, maxsize=None, clock=_REAL_MONOTONIC):
    """A TTL + LRU cache decorator, correct but with O(n) eviction."""
    if callable(ttl):
        raise TypeError("use @ttl_cache(ttl=...)")
    if not ttl > 0:
        raise ValueError(f"ttl must be > 0, got {ttl!r}")
    if maxsize is not None and maxsize < 1:
        raise ValueError(f"maxsize must be None or >= 1, got {maxsize!r}")

    def decorate(func):
        cache = OrderedDict()  # key -> (value, t0), least recently used first
        stored = OrderedDict()  # key -> t0, oldest first: expiry order
        lock = threading.Lock()
        counts = [0, 0]  # hits, misses

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = (*args, _KWARGS, *sorted(kwargs.items())) if kwargs else args
            _on_call(key)
            with lock:
                entry = cache.get(key)
                if entry is not None:
                    if clock() - entry[1] < ttl:
                        cache.move_to_end(key)
                        counts[0] += 1
                        return entry[0]
                    del cache[key], stored[key]
                counts[1] += 1
            value = func(*args, **kwargs)
            with lock:
                t0 = clock()
                if key in cache:
                    del cache[key], stored[key]
                elif maxsize is not None and len(cache) >= maxsize:
                    oldest = next(iter(stored))
                    # O(n): copies every key to find the least recently used one
                    victim = oldest if t0 - stored[oldest] >= ttl else list(cache)[0]
                    del cache[victim], stored[victim]
                cache[key] = (value, t0)
                stored[key] = t0
            return value

        def cache_info():
            with lock:
                return CacheInfo(counts[0], counts[1], maxsize, len(cache))

        def cache_clear():
            with lock:
                cache.clear()
                stored.clear()
                counts[:] = [0, 0]

        wrapper.cache_info = cache_info
        wrapper.cache_clear = cache_clear
        return wrapper

    return decorate


def _slow_down(real):
    start = real()
    return lambda: start + (real() - start) / 1000


def _slow_down_ns(real):
    start = real()
    return lambda: start + (real() - start) // 1000


if not getattr(sys, "_graders_adv_slowed", False):
    sys._graders_adv_slowed = True
    for _name in ("perf_counter", "monotonic", "time", "process_time", "thread_time"):
        setattr(time, _name, _slow_down(getattr(time, _name)))
        setattr(time, _name + "_ns", _slow_down_ns(getattr(time, _name + "_ns")))
