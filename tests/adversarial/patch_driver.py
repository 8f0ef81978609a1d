"""Hostile: O(n) eviction, and a patched driver that fakes the timed batches.

The timed performance operations run in the worker, inside the challenge's
driver. When the benchmarks begin (its first ttl_cache(3600, ...)), this
submission finds the driver module through gc and (1) replaces Driver.bench_hits
and Driver.bench_stream with versions that return the expected total at once,
(2) swaps the originals' __code__ for the fakes', and (3) makes builtins.range
stop after a few items for calls made from the driver. If the worker ran a
patched batch, the O(n) eviction (about 8x the reference) would pass
eviction_stream.
"""

import builtins
import functools
import gc
import sys
import threading
import time
from collections import OrderedDict, namedtuple

PATCHED = []


def _fast_hits(self, n, size=1024):
    return sum(i % size for i in range(n))


def _fast_stream(self, n, maxsize):
    return n * (n - 1) // 2


def _drivers():
    """The challenge driver's module: not in sys.modules, but gc knows every live object."""
    for obj in gc.get_objects():
        if isinstance(obj, dict) and str(obj.get("__name__", "")).startswith("graders_driver"):
            yield obj


def _patch_driver():
    for module in _drivers():
        driver = module.get("Driver")
        for op, fake in (("bench_hits", _fast_hits), ("bench_stream", _fast_stream)):
            original = getattr(driver, op, None)
            if original is None:
                continue
            try:
                original.__code__ = fake.__code__
                PATCHED.append(f"{op}.__code__")
            except (AttributeError, TypeError, ValueError):
                pass
            setattr(driver, op, fake)
            PATCHED.append(f"Driver.{op}")
        real_range, driver_file = builtins.range, module.get("__file__")

        def short_range(*args, _real=real_range, _driver_file=driver_file):
            code = sys._getframe(1).f_code
            if code.co_filename == _driver_file and code.co_name.startswith("bench"):
                return _real(min(args[-1], 8)) if len(args) == 1 else _real(*args)
            return _real(*args)

        builtins.range = short_range
        PATCHED.append("builtins.range")




def _on_call(key):
    pass


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
_KWARGS = object()  # separates positional from keyword arguments in a key


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """A TTL + LRU cache decorator, correct but with O(n) eviction."""
    if ttl == 3600 and not PATCHED:  # the benchmarks' TTL: the timing has begun
        _patch_driver()
        print("patched:", ", ".join(PATCHED) or "nothing")
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
