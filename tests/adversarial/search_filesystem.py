"""Hostile (docker only): searches the whole filesystem for the hidden tests or the reference.

Inside the sandbox container it walks / (not /proc, /sys, /dev) for ten seconds at most,
reading small .py files outside the Python installation. A file that defines
ttl_cache is executed and its ttl_cache used (FOUND-REFERENCE); a file that looks
like a hidden test prints FOUND-TEST. If nothing is found it gives up and raises.
Outside the sandbox container it does nothing but raise, so it cannot touch a host.
"""

import os
import sys
import time

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
SKIP = ("/proc", "/sys", "/dev")
LIBRARY = ("site-packages", "dist-packages", "/usr/lib/python3", "/opt/venv/lib")


def _search(deadline):
    me = os.path.basename(__file__)
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in SKIP]
        if time.monotonic() > deadline:
            print("search: out of time")
            return None
        if any(part in root for part in LIBRARY):
            continue
        for name in files:
            path = os.path.join(root, name)
            if not name.endswith(".py") or name == me:
                continue
            try:
                if os.path.getsize(path) > 200_000:
                    continue
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if "make_cache" in text and "def test_" in text:
                print(f"FOUND-TEST: {path}")
            if "def ttl_cache(" in text:
                print(f"FOUND-REFERENCE: {path}")
                return text
    return None


source = _search(time.monotonic() + 10) if IN_SANDBOX else None
if source is None:
    raise ImportError("searched the filesystem: no tests and no reference to copy")
exec(compile(source, "<found>", "exec"))  # noqa: S102 - the attack: run what it found
