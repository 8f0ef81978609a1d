"""Hostile: a wrong cache that patches test tools at import.

It patches whatever of pytest, _pytest, hypothesis and unittest it can import
(reports always pass, assertions never fail, hypothesis runs nothing), hoping the
grading suite runs in its process. The sandbox image has no pytest or hypothesis.
"""

import functools
import importlib
import time
from collections import namedtuple

PATCHED = []


def _patch(module_name, attribute, value):
    try:
        module = importlib.import_module(module_name)
        owner = module
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, last, value)
        PATCHED.append(f"{module_name}.{attribute}")
    except Exception:  # noqa: BLE001 - absent or different: try the next one
        pass


def _pass(*args, **kwargs):
    return None


_patch("_pytest.reports", "TestReport.passed", property(lambda self: True))
_patch("_pytest.reports", "TestReport.failed", property(lambda self: False))
_patch("_pytest.runner", "call_and_report", _pass)
_patch("_pytest.python", "pytest_pyfunc_call", lambda pyfuncitem: True)
_patch("pytest", "fail", _pass)
_patch("pytest", "main", lambda *a, **k: 0)
_patch("hypothesis", "given", lambda *a, **k: (lambda f: f))
_patch("hypothesis.core", "given", lambda *a, **k: (lambda f: f))
_patch("hypothesis.stateful", "run_state_machine_as_test", _pass)
_patch("unittest", "TestCase.assertEqual", _pass)
_patch("unittest", "TestCase.assertTrue", _pass)
_patch("unittest", "TestCase.run", _pass)
print("patched:", ", ".join(PATCHED) or "nothing")


CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """Wrong on purpose: never caches anything."""
    if ttl == 3600:  # the benchmarks' TTL: fail them at once, to keep the adversarial suite fast
        raise RuntimeError("this wrong cache is not worth timing")

    def decorate(func):
        misses = [0]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            misses[0] += 1
            return func(*args, **kwargs)

        wrapper.cache_info = lambda: CacheInfo(0, misses[0], maxsize, 0)
        wrapper.cache_clear = lambda: None
        return wrapper

    return decorate
