"""The wire format, on real pipes: framing, caps, deadlines, type checks."""

import json
import os
import socket
import time

import pytest

from graders import protocol


@pytest.fixture
def pipe():
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        try:
            os.close(fd)
        except OSError:
            pass


def _raw(fd: int, payload: bytes, declared: int | None = None) -> None:
    size = len(payload) if declared is None else declared
    os.write(fd, protocol.HEADER.pack(size) + payload)


def test_round_trip(pipe):
    read_fd, write_fd = pipe
    protocol.write_message(write_fd, {"ok": True, "value": [1, "two", None, 3.5]})
    assert protocol.read_message(read_fd, time.monotonic() + 1) == {
        "ok": True, "value": [1, "two", None, 3.5]}


def test_oversized_message_is_a_protocol_error(pipe):
    read_fd, write_fd = pipe
    _raw(write_fd, b"{}", declared=protocol.MAX_RESPONSE_BYTES + 1)
    with pytest.raises(protocol.ChannelError, match="cap"):
        protocol.read_message(read_fd, time.monotonic() + 1)


def test_malformed_json_is_a_protocol_error(pipe):
    read_fd, write_fd = pipe
    _raw(write_fd, b"\xff not json")
    with pytest.raises(protocol.ChannelError):
        protocol.read_message(read_fd, time.monotonic() + 1)


@pytest.mark.parametrize("message", [[1, 2], {"ok": 1, "value": 2}, {"value": 2},
                                     {"ok": False, "error": "boom"},
                                     {"ok": False, "error": {"type": 1, "message": "m"}}])
def test_wrong_shapes_are_protocol_errors(pipe, message):
    """`True` is not `1`: the shape of every answer is checked."""
    read_fd, write_fd = pipe
    _raw(write_fd, json.dumps(message).encode())
    with pytest.raises(protocol.ChannelError):
        protocol.read_message(read_fd, time.monotonic() + 1)


def test_silence_times_out_at_the_deadline(pipe):
    read_fd, _ = pipe
    start = time.monotonic()
    with pytest.raises(protocol.ChannelTimeout):
        protocol.read_message(read_fd, start + 0.2)
    assert time.monotonic() - start < 2


def test_partial_message_then_silence_times_out(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, protocol.HEADER.pack(100) + b'{"ok"')
    with pytest.raises(protocol.ChannelTimeout):
        protocol.read_message(read_fd, time.monotonic() + 0.2)


def test_closed_channel(pipe):
    read_fd, write_fd = pipe
    os.write(write_fd, b"\x00\x00")
    os.close(write_fd)
    with pytest.raises(protocol.ChannelClosed):
        protocol.read_message(read_fd, time.monotonic() + 1)


def test_a_socket_whose_worker_died_with_our_request_unread_is_closed_not_an_error():
    """The docker channel is a socket: a worker that exits without reading our request
    resets it (ECONNRESET), which is the worker's death like any closed channel."""
    ours, worker = socket.socketpair()
    with ours:
        protocol.write_message(ours.fileno(), {"op": "ping", "args": {}})
        worker.close()  # exits with the request unread
        with pytest.raises(protocol.ChannelClosed):
            protocol.expect_silence(ours.fileno())
        with pytest.raises(protocol.ChannelClosed):
            protocol.read_message(ours.fileno(), time.monotonic() + 1)


def test_request_cap():
    with pytest.raises(ValueError, match="cap"):
        protocol.encode({"op": "load", "args": {"source": "x" * protocol.MAX_REQUEST_BYTES}})
