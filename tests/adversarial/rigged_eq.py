"""Hostile: a wrong cache whose answers claim to equal anything.

It never stores a value: the first call of a key runs the function, every later
call returns a rigged object without running it (so it looks like a hit). The
objects' __eq__ is always True: ints and strs become subclasses that equal
everything, anything else an AlwaysEqual; cache_info() is a rigged tuple.
"""

import functools
import time
from collections import namedtuple


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0


class RiggedInt(int):
    __eq__ = AlwaysEqual.__eq__
    __ne__ = AlwaysEqual.__ne__
    __hash__ = int.__hash__


class RiggedStr(str):
    __eq__ = AlwaysEqual.__eq__
    __ne__ = AlwaysEqual.__ne__
    __hash__ = str.__hash__


class RiggedInfo(namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])):
    __eq__ = AlwaysEqual.__eq__
    __ne__ = AlwaysEqual.__ne__
    __hash__ = tuple.__hash__


def _rig(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return RiggedInt(value)
    if isinstance(value, str):
        return RiggedStr(value)
    return AlwaysEqual()


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    if ttl == 3600:  # the benchmarks' TTL: fail them at once, to keep the adversarial suite fast
        raise RuntimeError("this wrong cache is not worth timing")
    def decorate(func):
        seen = set()

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = (args, tuple(sorted(kwargs.items())))
            if key in seen:
                return AlwaysEqual()
            seen.add(key)
            return _rig(func(*args, **kwargs))

        wrapper.cache_info = lambda: RiggedInfo(*map(RiggedInt, (0, 0, maxsize or 0, 0)))
        wrapper.cache_clear = seen.clear
        return wrapper

    return decorate
