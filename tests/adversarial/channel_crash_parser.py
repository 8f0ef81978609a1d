"""Hostile: at import, answers on the private channel with JSON built to crash a parser.

It sends, before the worker's real answer, a message nested 100,000 levels deep
and one holding a 100,000-digit integer: both are valid JSON that Python's json
module refuses with RecursionError or ValueError. The trusted side must treat them
as protocol violations, not crash.
"""

import os
import struct


def _channel_fds():
    """Descriptors 3..20 open for writing on a pipe or socket: the private protocol channel."""
    fds = []
    for fd in range(3, 21):
        try:
            with open(f"/proc/self/fdinfo/{fd}") as handle:
                flags = int(handle.read().split("flags:")[1].split()[0], 8)
            target = os.readlink(f"/proc/self/fd/{fd}")
        except (OSError, IndexError, ValueError):
            continue
        if flags & 3 in (os.O_WRONLY, os.O_RDWR) and not target.startswith("/"):
            fds.append(fd)
    return fds


def _send(data):
    for fd in _channel_fds():
        try:
            os.write(fd, data)
        except OSError:
            pass


DEEP = b'{"ok": true, "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
HUGE = b'{"ok": true, "value": ' + b"9" * 100_000 + b"}"
for _payload in (DEEP, HUGE):
    _send(struct.pack(">I", len(_payload)) + _payload)
raise ImportError("the channel has been fed")
