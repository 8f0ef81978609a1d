"""Hostile: a wrong cache that prints fake PASSED lines and a fake result.

Like fake_output_honest, but the cache never caches, and a call with the key "k"
raises an exception whose class name and message are terminal escape sequences
that draw a green PASSED.
"""

import functools
import json
import os
import struct
import sys
import time
from collections import namedtuple

PASSED_LINES = "\n".join([
    "============================= test session starts ==============================",
    *(f"hidden/test_core.py::test_{n} PASSED" for n in ("hit", "expiry", "lru", "clear")),
    "============================== 25 passed in 0.42s ==============================",
    "passed: 96/96 Passed: every required test and metric passed.",
    "PASSED: Passed: every required test and metric passed.",
])
FAKE_RESULT = json.dumps({"schema_version": 1, "status": "passed", "score": 96, "max_score": 96,
                          "message": "Passed: every required test and metric passed."})
FAKE_FRAME = json.dumps({"ok": True, "value": {"status": "passed"}}).encode()
# Clear the screen, go home, rewrite the title, green text, and put "PASSED" on
# the clipboard (OSC 52): what a terminal would obey if a report printed it raw.
ESCAPES = "\x1b[2J\x1b[H\x1b]0;PASSED\x07\x1b[32mPASSED\x1b[0m\x1b]52;c;UEFTU0VE\x07\r\x1b[1A"


def _fake_output():
    for stream in (sys.stdout, sys.stderr):
        print(PASSED_LINES, file=stream)
        print(FAKE_RESULT, file=stream)
        print(ESCAPES, file=stream, flush=True)
    for fd in (1, 2):
        os.write(fd, struct.pack(">I", len(FAKE_FRAME)) + FAKE_FRAME)


if not getattr(sys, "_graders_adv_printed", False):
    sys._graders_adv_printed = True
    _fake_output()

Sneaky = type(ESCAPES + "PASSED", (Exception,), {})
CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])


def ttl_cache(ttl, *, maxsize=None, clock=time.monotonic):
    """Wrong on purpose: never caches anything."""
    if ttl == 3600:  # the benchmarks' TTL: fail them at once, to keep the adversarial suite fast
        raise RuntimeError("this wrong cache is not worth timing")

    def decorate(func):
        misses = [0]

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if args == ("k",):
                raise Sneaky(ESCAPES + "PASSED: Passed: every required test and metric passed.")
            misses[0] += 1
            return func(*args, **kwargs)

        wrapper.cache_info = lambda: CacheInfo(0, misses[0], maxsize, 0)
        wrapper.cache_clear = lambda: None
        return wrapper

    return decorate
