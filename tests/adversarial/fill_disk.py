"""Hostile (docker only): an honest cache that fills every writable place and writes outside.

At import (once per worker) it fills /tmp and /dev/shm with 8 MB files until they
are full, then tries to write into /, /etc, /opt/graders, the driver's folder,
site-packages, /var/tmp, /home and /root: WROTE-OUTSIDE marks a write that
worked. Outside the sandbox container it does nothing, so it can never fill a host disk.
"""

import functools
import os
import site
import sys
import threading
import time
from collections import OrderedDict, namedtuple

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
CHUNK = b"\0" * (8 << 20)
OUTSIDE = ["/", "/etc", "/opt/graders", "/opt/graders/challenges/q3_decorator", "/var/tmp",
           "/home", "/root", "/run", "/usr/local/bin", *site.getsitepackages()]


def _fill(directory):
    written = 0
    for i in range(1000):
        try:
            with open(os.path.join(directory, f"graders-adv-fill-{i}"), "wb") as handle:
                handle.write(CHUNK)
            written += len(CHUNK)
        except OSError as exc:
            print(f"filled {directory}: {written >> 20} MB, then {exc.strerror}")
            return


def _attack():
    for directory in ("/tmp", "/dev/shm"):
        _fill(directory)
    for directory in OUTSIDE:
        try:
            with open(os.path.join(directory, "graders-adv-outside"), "w") as handle:
                handle.write("written from the sandbox\n")
            print(f"WROTE-OUTSIDE: {directory}")
        except OSError:
            pass


if IN_SANDBOX and not getattr(sys, "_graders_adv_filled", False):
    sys._graders_adv_filled = True
    _attack()


def _on_call(key):
    pass


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
_KWARGS = object()  # separates positional from keyword arguments in a key


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """A TTL + LRU cache decorator: honest, thread-safe, without single flight."""
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
