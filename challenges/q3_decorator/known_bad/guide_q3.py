"""Known bad: the interview guide's Q3 cache: one global cache keyed by an md5 of
json.dumps((function name, args, kwargs), default=str), checked with `if cached_result is not None`.

Bugs a suite should catch: None is never cached; functions sharing a name share entries; unequal
arguments with equal str() collide, and equal ones (1 and 1.0) do not share an entry; unhashable
arguments are accepted; maxsize is ignored (unbounded); bad ttl/maxsize are not rejected;
cache_clear() clears every function's entries; the hit/miss counters are not locked; there is
no single flight.

Adapted to the ttl_cache signature as faithfully as possible: the guide's
time.time() is replaced by the `clock` parameter so that time can be
controlled, its rate limiter is dropped (not part of this contract), and
cache_info()/cache_clear() are added minimally so that the module runs.
"""

import functools
import hashlib
import json
import logging
import threading
import time
from collections import namedtuple
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


class LLMCallCache:
    """Thread-safe cache with TTL for LLM responses"""

    def __init__(self):
        self._cache = {}
        self._timestamps = {}
        self._lock = threading.Lock()

    def get(self, key: str, ttl: int, clock: Callable[[], float]) -> Any | None:
        with self._lock:
            if key in self._cache:
                if clock() - self._timestamps[key] < ttl:
                    return self._cache[key]
                else:
                    # Expired, remove
                    del self._cache[key]
                    del self._timestamps[key]
            return None

    def set(self, key: str, value: Any, clock: Callable[[], float]):
        with self._lock:
            self._cache[key] = value
            self._timestamps[key] = clock()

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._timestamps.clear()

    def __len__(self):
        return len(self._cache)


# Global instance
_llm_cache = LLMCallCache()


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """Decorator for cached calls with a TTL (the guide's llm_call, without rate limiting)."""

    def decorator(func: Callable) -> Callable:
        counts = {"hits": 0, "misses": 0}

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            # Create cache key from function name and arguments
            cache_key = _create_cache_key(func.__name__, args, kwargs)

            # Check cache first
            cached_result = _llm_cache.get(cache_key, ttl, clock)
            if cached_result is not None:
                logger.info(f"Cache hit for {func.__name__}")
                counts["hits"] += 1
                return cached_result

            counts["misses"] += 1
            logger.info(f"Calling {func.__name__} with args={args}, kwargs={kwargs}")

            # Make the actual call
            start_time = time.time()
            try:
                result = func(*args, **kwargs)

                # Cache the result
                _llm_cache.set(cache_key, result, clock)

                duration = time.time() - start_time
                logger.info(f"{func.__name__} completed in {duration:.2f}s")

                return result

            except Exception as e:
                logger.error(f"Error in {func.__name__}: {str(e)}")
                raise

        def cache_info():
            return CacheInfo(counts["hits"], counts["misses"], maxsize, len(_llm_cache))

        def cache_clear():
            _llm_cache.clear()
            counts["hits"] = counts["misses"] = 0

        wrapper.cache_info = cache_info
        wrapper.cache_clear = cache_clear
        return wrapper

    return decorator


def _create_cache_key(func_name: str, args: tuple, kwargs: dict) -> str:
    """Create a hash key from function arguments"""
    # Convert args and kwargs to a stable string representation
    key_data = {
        "function": func_name,
        "args": args,
        "kwargs": kwargs,
    }
    key_string = json.dumps(key_data, sort_keys=True, default=str)
    return hashlib.md5(key_string.encode()).hexdigest()
