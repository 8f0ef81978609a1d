"""Hostile: a wrong cache that searches the worker's memory for tests or the reference.

At import and on its first call in each worker it walks gc.get_objects(),
sys.modules and every thread's frames (inspect) for hidden tests, a model, expected
values or another ttl_cache. It prints FOUND-MEMORY for anything it finds and
uses a found ttl_cache. None of these ever enter the worker.
"""

import functools
import gc
import inspect
import os
import sys
import time
import types
from collections import namedtuple

SUSPECT_NAMES = ("Model", "CacheMachine", "make_cache", "expected", "hidden", "reference")
found_cache = []


def _suspect_file(path):
    path = str(path or "")
    name = os.path.basename(path)
    return ("/hidden/" in path or "/reference/" in path or "known_bad" in path
            or name.startswith("test_") or name == "conftest.py")


def _search():
    for name, module in list(sys.modules.items()):
        if _suspect_file(getattr(module, "__file__", None)):
            print(f"FOUND-MEMORY: module {name}")
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            if obj.__name__ == "ttl_cache" and obj.__module__ != __name__:  # not its own
                print(f"FOUND-MEMORY: another ttl_cache in {obj.__module__}")
                found_cache.append(obj)
            elif obj.__name__.startswith("test_") or _suspect_file(obj.__code__.co_filename):
                print(f"FOUND-MEMORY: function {obj.__qualname__}")
        elif isinstance(obj, type) and obj.__name__ in ("Model", "CacheMachine"):
            print(f"FOUND-MEMORY: class {obj.__name__}")
    for frame in list(sys._current_frames().values()):
        for info in inspect.getouterframes(frame):
            names = set(info.frame.f_locals) | set(info.frame.f_globals)
            hits = sorted(n for n in names if n in SUSPECT_NAMES)
            if hits or _suspect_file(info.filename):
                print(f"FOUND-MEMORY: frame {info.function} in {info.filename}: {hits}")


_search()
CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """Wrong unless the search found a real ttl_cache to borrow."""
    if found_cache:
        return found_cache[0](ttl, maxsize=maxsize, clock=clock)
    if ttl == 3600:  # the benchmarks' TTL: fail them at once, to keep the adversarial suite fast
        raise RuntimeError("this wrong cache is not worth timing")

    def decorate(func):
        misses = [0]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if not getattr(sys, "_graders_adv_searched", False):
                sys._graders_adv_searched = True
                _search()  # again, from inside a call: the caller's frames are live now
            misses[0] += 1
            return func(*args, **kwargs)

        wrapper.cache_info = lambda: CacheInfo(0, misses[0], maxsize, 0)
        wrapper.cache_clear = lambda: None
        return wrapper

    return decorate
