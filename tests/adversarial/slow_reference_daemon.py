"""Hostile: O(n) eviction, and daemons that slow the reference down while it is timed.

Performance is measured with the other side frozen. At import (once per worker)
this submission double-forks six setsid daemons (MARKER in their command lines)
that escape its process group. Each watches the worker: while the worker is
stopped (state T: the reference is being timed) it spins on the CPU, otherwise
it sleeps. If they are not frozen with the worker, the reference looks slower and
the O(n) eviction (about 8x the reference) slips under the 5x threshold.
"""

import functools
import os
import sys
import threading
import time
from collections import OrderedDict, namedtuple

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
MARKER = ("graders-adv-slow_reference_daemon-"
          + ("docker" if IN_SANDBOX else "process"))
HOGS = 6
HOG = r"""
import os, signal, sys, time
for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(sig, signal.SIG_IGN)
stat = f"/proc/{sys.argv[2]}/stat"
while True:
    try:
        with open(stat) as handle:
            stopped = handle.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        stopped = False
    if stopped:
        end = time.monotonic() + 0.05
        while time.monotonic() < end:
            pass
    else:
        time.sleep(0.002)
"""


def _spawn(code, *args):
    """Double fork and setsid: the daemon's parent exits at once, so it is orphaned."""
    first = os.fork()
    if first == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", code, MARKER, *args])
        finally:
            os._exit(0)
    os.waitpid(first, 0)


if not getattr(sys, "_graders_adv_hogs", False):
    sys._graders_adv_hogs = True
    for _ in range(HOGS):
        _spawn(HOG, str(os.getpid()))


def _on_call(key):
    pass


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
_KWARGS = object()  # separates positional from keyword arguments in a key


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
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
