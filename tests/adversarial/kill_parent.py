"""Hostile (docker only): kills its parent, PID 1, every process it may signal, and its group.

Inside the sandbox container: SIGTERM then SIGKILL to its parent and to PID 1, SIGKILL to
-1 (every process it may signal), then SIGKILL to its own process group. Outside a
container it does nothing but raise, so it can never take a host down.
"""

import os
import signal
import sys

# In the sandbox image: the worker is /opt/graders/worker.py, run as nobody (65534).
IN_SANDBOX = sys.argv[0] == "/opt/graders/worker.py" and os.getuid() == 65534

if not IN_SANDBOX:
    raise ImportError("this attack only runs inside the sandbox container")
for target in (os.getppid(), 1):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(target, sig)
        except OSError as exc:
            print(f"kill({target}, {sig}): {exc}")
try:
    os.kill(-1, signal.SIGKILL)
except OSError as exc:
    print(f"kill(-1): {exc}")
os.killpg(0, signal.SIGKILL)
