"""The trusted side of the worker protocol.

Wire format (the worker's copy is in sandbox/worker.py, which must stay stdlib-only
and self-contained because it runs inside the sandbox image):

    message  = length payload
    length   = 4-byte big-endian unsigned integer, the payload's size in bytes
    payload  = a UTF-8 JSON object

Requests, trusted -> worker:   {"op": "ping" | "load" | "call" | "calibrate", "args": {...}}
Responses, worker -> trusted:  {"ok": true, "value": <JSON>}
                               {"ok": false, "error": {"type": str, "message": str}}

The worker's answers are untrusted observations. This module only frames and
decodes them; it enforces a deadline on every read and a cap on every message,
and never unpickles or evaluates anything.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

HEADER = struct.Struct(">I")
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class ChannelError(Exception):
    """The worker broke the protocol (an oversized, truncated or malformed message)."""


class ChannelTimeout(Exception):
    """No complete answer arrived before the deadline."""


class ChannelClosed(Exception):
    """The worker closed its end: it exited or was killed."""


def encode(message: dict[str, Any]) -> bytes:
    payload = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_REQUEST_BYTES:
        raise ValueError(f"request of {len(payload)} bytes exceeds the {MAX_REQUEST_BYTES} cap")
    return HEADER.pack(len(payload)) + payload


def write_message(fd: int, message: dict[str, Any]) -> None:
    data = encode(message)
    try:
        while data:
            data = data[os.write(fd, data):]
    except (BrokenPipeError, OSError) as exc:
        raise ChannelClosed("the worker's input is closed") from exc


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise ChannelTimeout
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise ChannelTimeout
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ChannelClosed("the worker closed its output")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, deadline: float, max_bytes: int = MAX_RESPONSE_BYTES) -> dict[str, Any]:
    """Read one response before `deadline` (a time.monotonic() value)."""
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size, deadline))
    if size > max_bytes:
        raise ChannelError(f"the worker sent a {size}-byte message; the cap is {max_bytes}")
    payload = _read_exactly(fd, size, deadline)
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChannelError(f"the worker sent a message that is not UTF-8 JSON ({exc})") from exc
    if not isinstance(message, dict) or type(message.get("ok")) is not bool:
        raise ChannelError("the worker sent a message without a boolean 'ok' field")
    if not message["ok"]:
        error = message.get("error")
        if (
            not isinstance(error, dict)
            or type(error.get("type")) is not str
            or type(error.get("message")) is not str
        ):
            raise ChannelError("the worker sent an error without a string 'type' and 'message'")
    return message
