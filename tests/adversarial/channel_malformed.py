"""Hostile: an honest cache that writes malformed messages on the worker's private channel.

It finds the protocol descriptors through /proc/self/fd(info). Called with "k" it
writes a 4 GiB length header; called with "c", a length header and garbage that is
not JSON. Either way the trusted side must see a protocol violation, not hang or
allocate 4 GiB.
"""

import functools
import os
import threading
import time
from collections import OrderedDict, namedtuple


def _channel_fds():
    """Descriptors 3..20 open for writing on a pipe or socket: the private protocol channel."""
    fds = []
    for fd in range(3, 21):
        try:
            with open(f"/proc/self/fdinfo/{fd}") as handle:
                flags = int(handle.read().split("flags:")[1].split()[0], 8)
            target = os.readlink(f"/proc/self/fd/{fd}")
        except (OSError, IndexError, ValueError):
            continue
        if flags & 3 in (os.O_WRONLY, os.O_RDWR) and not target.startswith("/"):
            fds.append(fd)
    return fds


def _send(data):
    for fd in _channel_fds():
        try:
            os.write(fd, data)
        except OSError:
            pass


def _on_call(key):
    if key == ("k",):
        _send(b"\xff\xff\xff\xff")
    elif key == ("c",):
        _send(b"\x00\x00\x00\x10" + b"\x80garbage\xfe\xff{not json")


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
