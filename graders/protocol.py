"""The trusted side of the worker protocol.

Wire format (the worker's copy is in sandbox/worker.py, which must stay stdlib-only
and self-contained because it runs inside the sandbox image):

    message  = length payload
    length   = 4-byte big-endian unsigned integer, the payload's size in bytes
    payload  = a UTF-8 JSON object

Requests, trusted -> worker:   {"op": "ping" | "prepare" | "load" | "call" | "calibrate",
                                "args": {...}}
(`prepare` imports the challenge's driver before any submission, so that its libraries
are loaded while a spare worker waits.)
Responses, worker -> trusted:  {"ok": true, "value": <JSON>}
                               {"ok": false, "error": {"type": str, "message": str}}

The worker's answers are untrusted observations. This module only frames and
decodes them; it enforces a deadline on every read and write and a cap on every
message, and never unpickles or evaluates anything. Between a request and its
answer the worker sends nothing else: a message nobody asked for is a violation.
Text that came from the worker is shown to people only through `printable`.
"""

from __future__ import annotations

import json
import os
import re
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


def write_message(fd: int, message: dict[str, Any], deadline: float | None = None) -> None:
    """Write one request before `deadline`: a worker that stops reading cannot block us."""
    data = memoryview(encode(message))
    try:
        os.set_blocking(fd, False)
        while data:
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                raise ChannelTimeout
            if not select.select([], [fd], [], timeout)[1]:
                raise ChannelTimeout
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue
    except OSError as exc:
        raise ChannelClosed("the worker's input is closed") from exc


def _read(fd: int, size: int) -> bytes:
    """Up to `size` bytes; b"" once the worker is gone. A socket whose worker exited with
    a request of ours unread is reset, not at its end: that is the same death."""
    try:
        return os.read(fd, size)
    except ConnectionResetError:
        return b""


def expect_silence(fd: int) -> None:
    """Between requests the worker says nothing; anything readable now was forged or is stale."""
    if select.select([fd], [], [], 0)[0]:
        if not _read(fd, 1):
            raise ChannelClosed("the worker closed its output")
        raise ChannelError("the worker sent a message nobody asked for")


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
        chunk = _read(fd, min(remaining, 1 << 20))
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
    except (ValueError, RecursionError) as exc:  # also too deep, or an int too long to parse
        raise ChannelError(f"the worker sent a message that is not UTF-8 JSON we accept "
                           f"({type(exc).__name__})") from None
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


# C0 and C1 control characters but newline and tab, and the bidirectional overrides:
# what a terminal would obey (clear the screen, rewrite a verdict) or display reordered.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Worker-sourced text made safe to show: each control character becomes U+FFFD."""
    return _CONTROL.sub("\ufffd", text)
