"""Hostile: dumps its environment (os.environ and /proc/self/environ), then raises.

The harness's own environment (and any secret in it) must not be there.
"""

import os

print("ENVIRON:", dict(os.environ))
with open("/proc/self/environ", "rb") as handle:
    print("PROC-ENVIRON:", handle.read().replace(b"\0", b"\n").decode(errors="replace"))
raise ImportError("environment dumped")
