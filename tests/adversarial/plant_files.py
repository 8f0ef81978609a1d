"""Hostile: a wrong cache that plants files the grader might import, then hopes.

At import it writes conftest.py (forcing every test report to "passed"),
pytest.py, json.py, sitecustomize.py, usercustomize.py and a .pth file into its
working directory, HOME and TMPDIR. Inside the sandbox container it escalates to every
directory it can name: /tmp, /dev/shm, sys.path, site-packages, the stdlib, the
driver's challenge folder (from the worker's --challenges argument) and /.
Each planted file prints PLANTED-CODE-RAN if anything ever imports it; a write
that lands outside the sandbox's scratch space prints PLANTED-OUTSIDE-TMP.
"""

import functools
import os
import site
import sys
import time
from collections import namedtuple

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
RAN = "import sys\nprint('PLANTED-CODE-RAN', file=sys.stderr)\n"
FILES = {
    "conftest.py": RAN + (
        "import pytest\n\n\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n"
    ),
    "pytest.py": RAN + "sys.exit(0)\n",
    "json.py": RAN + (
        "def loads(*a, **k):\n    return {'ok': True, 'value': None, 'status': 'passed'}\n"
        "def dumps(*a, **k):\n    return '{\"status\": \"passed\"}'\n"
    ),
    "sitecustomize.py": RAN,
    "usercustomize.py": RAN,
    "zz_graders_adv.pth": "import sys; print('PLANTED-CODE-RAN', file=sys.stderr)\n",
}


def _targets():
    local = {os.getcwd(), os.environ.get("HOME", ""), os.environ.get("TMPDIR", "")}
    if not IN_SANDBOX:
        return local, local
    targets = set(local) | {"/tmp", "/dev/shm", "/var/tmp", "/", "/opt/graders",
                            os.path.dirname(os.__file__), os.path.dirname(sys.executable)}
    targets |= {p for p in sys.path if p and os.path.isdir(p)}
    targets |= set(site.getsitepackages()) | {site.getusersitepackages()}
    if "--challenges" in sys.argv:
        challenges = sys.argv[sys.argv.index("--challenges") + 1]
        for sub in ("", "q3_decorator", "q3_decorator/hidden", "q3_decorator/public"):
            targets.add(os.path.join(challenges, sub))
    return targets, local


def _plant():
    targets, local = _targets()
    for directory in sorted(t for t in targets if t):
        for name, text in FILES.items():
            path = os.path.join(directory, name)
            try:
                os.makedirs(directory, exist_ok=True)
                with open(path, "w") as handle:
                    handle.write(text)
            except OSError:
                continue
            scratch = directory in local or directory.startswith(("/tmp", "/dev/shm"))
            if not scratch:
                print(f"PLANTED-OUTSIDE-TMP:{path}")


if not getattr(sys, "_graders_adv_planted", False):
    sys._graders_adv_planted = True
    _plant()


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
