"""Hostile: an honest cache whose worker exits on its own, between two timed batches.

When the benchmarks begin (its first ttl_cache(3600, ...)) it starts a thread that
waits until the worker is idle again (its main thread blocked reading the next
request) and then ends the worker with os._exit(0). The trusted side finds the
worker gone when it next freezes it to time the reference, or asks it for more:
that must be a failed measurement, not a crash.
"""

import functools
import os
import sys
import threading
import time
from collections import OrderedDict, namedtuple


def _exit_when_idle(main_id):
    while True:
        frame = sys._current_frames().get(main_id)
        if frame is not None and frame.f_code.co_name == "_read_exactly":
            os._exit(0)
        time.sleep(0.001)


def _on_call(key):
    pass


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
_KWARGS = object()  # separates positional from keyword arguments in a key


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """A TTL + LRU cache decorator: honest, thread-safe, without single flight."""
    if ttl == 3600 and not getattr(sys, "_graders_adv_exiting", False):  # timing begins
        sys._graders_adv_exiting = True
        threading.Thread(target=_exit_when_idle, args=(threading.get_ident(),), daemon=True).start()
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
                    victim = oldest if t0 - stored[oldest] >= ttl else next(iter(cache))
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
