"""Hostile: detects the grader and hard-codes the two public examples.

When it sees a grader (the worker in sys.argv, the challenge driver in
sys.modules, a container, a scratch HOME) it returns a dict that remembers the
last value per positional arguments for ttl seconds: exactly enough for the
public examples, nothing more (no maxsize, no keyword arguments, no cache_info).
"""

import os
import sys
import time

SIGNS = {
    "worker in argv": any("worker.py" in arg for arg in sys.argv),
    "driver loaded": any(name.startswith("graders_driver") for name in sys.modules),
    "container": os.path.exists("/.dockerenv") or os.getuid() == 65534,
    "scratch HOME": os.environ.get("HOME", "").startswith("/tmp"),
}
GRADER = any(SIGNS.values())
print("grader signs:", [sign for sign, seen in SIGNS.items() if seen])


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    if not GRADER:
        raise NotImplementedError("the real work would go here")
    if ttl == 3600:  # the benchmarks' TTL: fail them at once, to keep the adversarial suite fast
        raise RuntimeError("this wrong cache is not worth timing")

    def decorate(func):
        memo = {}

        def wrapper(*args, **kwargs):
            now = clock()
            if args in memo and now - memo[args][1] < ttl:
                return memo[args][0]
            value = func(*args)
            memo[args] = (value, now)
            return value

        return wrapper

    return decorate
