"""The grading worker: the only process that runs submitted code.

It imports a submission and its challenge's driver, runs the operations the
trusted side asks for, and answers with JSON primitives. It decides nothing:
every answer is an untrusted observation that the trusted side checks.

Stdlib only and self-contained: it runs inside the sandbox image, which holds no
part of the harness but this file and the driver kit next to it (driverkit.py),
which it loads afresh for each driver, as the module `driverkit`. Wire format
(mirrored by graders/protocol.py): each message is a 4-byte big-endian length and
a UTF-8 JSON object; requests come on the original stdin, responses go out on the
original stdout (or both go over the socket given with --socket, which the docker
backend offers). Before any submitted code runs, those two descriptors are moved
to private ones, stdin becomes /dev/null and stdout joins stderr, so whatever the
submission prints is candidate output (read and truncated by the trusted side) and
never mistaken for a message.
"""

from __future__ import annotations

import argparse
import builtins
import gc
import importlib.util
import json
import linecache
import os
import struct
import sys
import threading
import traceback
import types

HEADER = struct.Struct(">I")
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_MESSAGE_CHARS = 2000
KIT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "driverkit.py")


def _take_channel(socket_path: str | None) -> tuple[int, int]:
    """Move the protocol to private descriptors (or to the trusted side's socket, when
    given one) and point stdio at candidate output."""
    if socket_path is None:
        channel_in, channel_out = os.dup(0), os.dup(1)  # os.dup: not inherited by children
    else:
        import socket

        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(socket_path)
        channel_in = channel_out = connection.detach()  # not inherited by children either
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - fd 0 lives for the process
    sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")  # noqa: SIM115
    return channel_in, channel_out


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_request(fd: int) -> dict | None:
    header = _read_exactly(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_REQUEST_BYTES:
        raise SystemExit(f"worker: request of {size} bytes exceeds the cap")
    payload = _read_exactly(fd, size)
    return None if payload is None else json.loads(payload.decode("utf-8"))


def write_response(fd: int, response: dict) -> None:
    try:
        payload = json.dumps(response, allow_nan=True, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        payload = json.dumps(_failure("DriverError", f"answer is not JSON: {exc}")).encode()
    data = HEADER.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


def _failure(kind: str, message: str, **extra: object) -> dict:
    return {"ok": False, "error": {"type": kind, "message": message[:MAX_MESSAGE_CHARS], **extra}}


def _describe(exc: BaseException) -> dict:
    message = str(exc)
    if isinstance(exc, SystemExit):
        message = f"the submission called sys.exit({exc.code!r})"
    extra = {}
    if isinstance(exc, SyntaxError) and exc.lineno is not None:
        extra["line"] = exc.lineno
    tb = "".join(traceback.format_exception(exc))[-MAX_MESSAGE_CHARS:]
    return _failure(type(exc).__name__, message, traceback=tb, **extra)


def import_source(name: str, source: str) -> types.ModuleType:
    """Import submitted source as module `name`, fresh each time."""
    filename = f"<submission>/{name}.py"
    code = compile(source, filename, "exec", dont_inherit=True)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    exec(code, module.__dict__)
    return module


def _import_file(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_driver(challenges: str, challenge: str) -> tuple[types.ModuleType, types.ModuleType]:
    """The challenge's driver and the driver kit it imports, both freshly executed."""
    if not challenge.replace("_", "").isalnum():
        raise ValueError(f"bad challenge id {challenge!r}")
    kit = sys.modules["driverkit"] = _import_file("driverkit", KIT_PATH)  # for the driver
    driver = _import_file(f"graders_driver_{challenge}",
                          os.path.join(challenges, challenge, "driver.py"))
    return driver, kit


def calibrate(n: int) -> int:
    """A fixed pure-Python workload: the trusted side times it to gauge the host's speed."""
    total = 0
    for i in range(n):
        total = (total + i * i) % 1_000_003
    return total


def _functions(module: types.ModuleType) -> list[tuple[object, str, types.FunctionType]]:
    """(owner, name, function) for the module's functions and its classes' methods."""
    found: list[tuple[object, str, types.FunctionType]] = []
    for name, value in vars(module).items():
        if isinstance(value, types.FunctionType):
            found.append((module, name, value))
        elif isinstance(value, type) and value.__module__ == module.__name__:
            found += [(value, attr, member) for attr, member in vars(value).items()
                      if isinstance(member, types.FunctionType)]
    return found


def _sealed_globals(module: types.ModuleType) -> dict[str, object]:
    return {name: value for name, value in vars(module).items()  # not its data
            if isinstance(value, types.FunctionType | type | types.ModuleType)}


class DriverSeal:
    """The driver's code, the kit's and the builtins as they were before any submitted
    code ran.

    The submission shares this process, so it can reach the driver or the kit (through
    gc or sys.modules) and swap a timed operation, its code, a kit function or a builtin
    it uses for one that does no work. Operations are bound here, and before each one
    the worker checks that every function of the driver and the kit, its code, their
    global functions, classes and modules, and the builtins are still the objects it
    started with. A tripwire for plain patching, not a wall: code in this process could
    patch this check too, so the trusted side never relies on it alone.
    """

    def __init__(self, module: types.ModuleType, kit: types.ModuleType) -> None:
        sources = (("the driver kit's ", kit), ("the driver's ", module))
        self.tables = [(label + "global ", vars(source), _sealed_globals(source))
                       for label, source in sources]
        self.tables.append(("builtins.", vars(builtins), dict(vars(builtins))))
        self.functions = [(label, owner, name, f, f.__code__) for label, source in sources
                          for owner, name, f in _functions(source)]
        driver = getattr(module, "Driver", None)
        self.operations = {name: f for _, owner, name, f, _ in self.functions
                           if owner is driver and not name.startswith("_")}

    def broken(self) -> str | None:
        """What was changed since the seal was made, or None."""
        for label, owner, name, function, code in self.functions:
            if vars(owner).get(name) is not function or function.__code__ is not code:
                return label + (f"{owner.__name__}.{name}" if isinstance(owner, type) else name)
        for label, table, saved in self.tables:
            for name, value in saved.items():
                if table.get(name) is not value:
                    return label + name
        return None


class Worker:
    def __init__(self, challenges: str) -> None:
        self.challenges = challenges
        self.driver: object | None = None
        self.seal: DriverSeal | None = None
        self.challenge = ""

    def handle(self, request: dict) -> dict:
        op, args = request.get("op"), request.get("args") or {}
        try:
            if op == "ping":
                return {"ok": True, "value": None}
            if op == "threads":  # threads left running besides this one (the main thread)
                return {"ok": True, "value": threading.active_count() - 1}
            if op == "calibrate":
                return {"ok": True, "value": calibrate(int(args["n"]))}
            if op == "prepare":  # before any submission: the driver's libraries, imported
                import_driver(self.challenges, str(args["challenge"]))  # now, not at load
                return {"ok": True, "value": None}
            if op == "load":
                return self.load(args["challenge"], args["module"], args["source"])
            if op == "call":
                return self.call(args["name"], args.get("kwargs") or {})
            return _failure("ProtocolError", f"unknown op {op!r}")
        except BaseException as exc:  # noqa: BLE001 - the submission may raise anything
            return _describe(exc)

    def load(self, challenge: str, module: str, source: str) -> dict:
        self.driver = self.seal = None
        sys.modules.pop(module, None)
        gc.collect()  # free the last import now: a module is a cycle, and may hold a lot
        try:  # before any submitted code runs in a fresh worker: the challenge's own error
            driver_module, kit = import_driver(self.challenges, challenge)
            seal, self.challenge = DriverSeal(driver_module, kit), challenge
            if not isinstance(getattr(driver_module, "Driver", None), type):
                raise AttributeError("driver.py defines no class Driver")
        except BaseException as exc:  # noqa: BLE001 - a driver may raise anything
            failure = _describe(exc)
            failure["error"]["phase"] = "driver"
            return failure
        try:
            submission = import_source(module, source)
        except BaseException as exc:  # noqa: BLE001
            failure = _describe(exc)
            failure["error"]["phase"] = "import"
            return failure
        self.driver, self.seal = driver_module.Driver(submission), seal
        return {"ok": True, "value": None}

    def call(self, name: str, kwargs: dict) -> dict:
        if self.driver is None or self.seal is None:
            return _failure("ProtocolError", "call before a successful load")
        if type(name) is not str:
            return _failure("ProtocolError", f"an operation name must be a string, not {name!r}")
        operation = self.seal.operations.get(name)
        if operation is None:  # the test's mistake, or the challenge's: not the submission's
            known = ", ".join(sorted(self.seal.operations))
            return _failure("UnknownOperation", f"the driver of challenge {self.challenge!r} has "
                            f"no operation {name!r}; its operations are {known}",
                            operation=name, challenge=self.challenge)
        broken = self.seal.broken()
        if broken is not None:
            return _failure("DriverError", f"the submission tampered with {broken}; "
                            "the worker runs no operation through changed code")
        return {"ok": True, "value": operation(self.driver, **kwargs)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--challenges", required=True)
    parser.add_argument("--socket", help="the protocol's socket (default: stdin and stdout)")
    options = parser.parse_args()
    channel_in, channel_out = _take_channel(options.socket)
    worker = Worker(options.challenges)
    while True:
        request = read_request(channel_in)
        if request is None:
            break
        response = worker.handle(request)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a submission may have replaced the stream
                pass
        write_response(channel_out, response)
    os._exit(0)  # skip atexit handlers and non-daemon threads the submission left


if __name__ == "__main__":
    main()
