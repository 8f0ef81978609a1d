"""Operation names are checked: a metric naming an operation the driver does not define
is an invalid challenge.toml at load, and an unknown operation asked of a worker is an
UnknownOperation error naming it and the challenge, never the submission's failure. The
kit a driver runs on is sealed like the driver."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graders import protocol
from graders.challenge import driver_operations, load_challenge
from graders.errors import UsageError
from tests.conftest import PROBE, PROBE_REFERENCE, REPO

Q3_REFERENCE = (REPO / "reference" / "q3_decorator.py").read_text()


# --------------------------------------------------------------------------- at load


@pytest.fixture
def probe_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "challenges" / "probe"
    shutil.copytree(PROBE, copy)
    return copy


def test_a_metric_naming_a_missing_operation_is_a_usage_error(probe_copy):
    toml = probe_copy / "challenge.toml"
    toml.write_text(toml.read_text().replace('operation = "count"', 'operation = "counts"'))
    with pytest.raises(UsageError) as error:
        load_challenge(probe_copy)
    assert str(error.value) == (
        f"{toml} is invalid: metric 'work_steps' names operation 'counts', which "
        f"{probe_copy / 'driver.py'} does not define; fix the name (did you mean 'count'?)."
    )


def test_every_wrong_metric_is_named(probe_copy):
    toml = probe_copy / "challenge.toml"
    toml.write_text(toml.read_text().replace('operation = "work"', 'operation = "zzz"'))
    message = str(pytest.raises(UsageError, load_challenge, probe_copy).value)
    assert "metric 'work_time' names operation 'zzz' and metric 'work_latency' names " \
           "operation 'zzz'" in message and "fix the names." in message


def test_the_command_line_exits_2_naming_the_metric(probe_copy):
    toml = probe_copy / "challenge.toml"
    toml.write_text(toml.read_text().replace('operation = "count"', 'operation = "nope"'))
    done = subprocess.run([sys.executable, "-m", "graders.cli", str(probe_copy),
                           str(PROBE_REFERENCE),
                           "--sandbox", "process"],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert done.returncode == 2, done
    assert "metric 'work_steps' names operation 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_driver_without_class_driver_is_a_usage_error(probe_copy):
    (probe_copy / "driver.py").write_text("def work(n):\n    return n\n")
    with pytest.raises(UsageError, match="defines no top-level class Driver"):
        load_challenge(probe_copy)
    (probe_copy / "driver.py").write_text("class Driver:\n    def work(self, n)\n")
    with pytest.raises(UsageError, match=r"does not parse \(line 2\)"):
        load_challenge(probe_copy)


def test_operations_are_the_public_functions_of_class_driver(tmp_path):
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import functools\n"
        "class Base:\n"
        "    def inherited(self): ...\n"
        "class Driver(Base):\n"
        "    def __init__(self, submission): ...\n"
        "    def _helper(self): ...\n"
        "    def work(self, n): ...\n"
        "    @functools.lru_cache\n"
        "    def decorated(self): ...\n"
        "    @staticmethod\n"
        "    def static(): ...\n"
        "    @property\n"
        "    def prop(self): ...\n"
        "    @prop.setter\n"
        "    def prop(self, value): ...\n"
        "    async def coroutine(self): ...\n"
        "    LIMIT = 3\n"
    )
    assert driver_operations(driver) == ["decorated", "work"]


# --------------------------------------------------------------------------- in the worker


class Worker:
    """A real worker process, spoken to over its protocol (as the process backend does)."""

    def __init__(self, challenges: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(REPO / "sandbox" / "worker.py"),
             "--challenges", str(challenges)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def ask(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        deadline = time.monotonic() + 20
        protocol.write_message(self.process.stdin.fileno(), {"op": op, "args": args}, deadline)
        return protocol.read_message(self.process.stdout.fileno(), deadline)

    def load(self, challenge: str, source: str) -> None:
        answer = self.ask("load", challenge=challenge, module="solution", source=source)
        assert answer == {"ok": True, "value": None}, answer

    def call(self, name: str, **kwargs: Any) -> dict[str, Any]:
        return self.ask("call", name=name, kwargs=kwargs)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Worker]:
    challenges = tmp_path / "challenges"
    for source in (PROBE, REPO / "challenges" / "q3_decorator"):
        shutil.copytree(source, challenges / source.name)
    running = Worker(challenges)
    yield running
    running.close()


@pytest.mark.parametrize("name", ["bench_hit", "__init__", "_batch"])
def test_an_unknown_operation_is_named_with_its_challenge(worker, name):
    worker.load("q3_decorator", Q3_REFERENCE)
    answer = worker.call(name)
    assert answer["ok"] is False
    error = answer["error"]
    assert error["type"] == "UnknownOperation"
    assert error["operation"] == name and error["challenge"] == "q3_decorator"
    assert error["message"].startswith(
        f"the driver of challenge 'q3_decorator' has no operation '{name}'; its operations are ")
    assert worker.call("bench_hits", n=10, size=2, seed=1)["ok"]  # the worker carries on


@pytest.mark.parametrize("challenge", ["probe", "q3_decorator"])
def test_the_worker_and_the_load_check_agree_on_the_operations(worker, tmp_path, challenge):
    worker.load(challenge, PROBE_REFERENCE.read_text() if challenge == "probe" else Q3_REFERENCE)
    message = worker.call("no_such_operation")["error"]["message"]
    listed = re.search(r"its operations are (.*)$", message)
    assert listed is not None
    driver = tmp_path / "challenges" / challenge / "driver.py"
    assert listed[1].split(", ") == driver_operations(driver)


def test_the_q3_driver_runs_on_the_kit_in_an_isolated_worker(worker):
    worker.load("q3_decorator", Q3_REFERENCE)
    made = worker.call("make", ttl=10, maxsize=2)["value"]
    assert made == {"handle": 0}
    assert worker.call("call", handle=0, args=[{"$list": [1]}])["value"] == {
        "value": None, "raised": {"type": "TypeError", "message": "unhashable type: 'list'"},
        "computed": 0}
    assert worker.call("call", handle=0, args=[[1, 2]])["value"] == {
        "value": 1, "raised": None, "computed": 1}
    assert worker.call("make", ttl=-1)["value"]["raised"]["type"] == "ValueError"
    bad = worker.call("set_time", handle=7, now=1.0)
    assert bad["error"]["type"] == "LookupError"
    assert "no decorated function has handle 7" in bad["error"]["message"]


@pytest.mark.parametrize(("patch", "named"), [
    ("kit.encode = lambda value: value", "the driver kit's encode"),
    ("kit.Handles = dict", "the driver kit's global Handles"),
    ("kit.Handles.create = lambda self, *a, **k: {'handle': 0}",
     "the driver kit's Handles.create"),
    ("kit.outcome.__code__ = (lambda function, args=None, kwargs=None: {}).__code__",
     "the driver kit's outcome"),
])
def test_a_submission_patching_the_kit_is_caught(worker, patch, named):
    source = f"{Q3_REFERENCE}\nimport sys\nkit = sys.modules['driverkit']\n{patch}\n"
    worker.load("q3_decorator", source)
    answer = worker.call("make", ttl=10)
    assert answer["ok"] is False and answer["error"]["type"] == "DriverError"
    assert "tampered with" in answer["error"]["message"]
    assert named in answer["error"]["message"]


def test_each_load_gets_a_fresh_kit(worker):
    worker.load("q3_decorator",
                Q3_REFERENCE + "\nimport sys\nsys.modules['driverkit'].encode = None\n")
    worker.load("q3_decorator", Q3_REFERENCE)
    assert worker.call("make", ttl=10) == {"ok": True, "value": {"handle": 0}}


def test_prepare_imports_the_driver_before_any_submission_and_load_imports_it_afresh(
        worker, tmp_path):
    record = tmp_path / "driver_imports"
    driver = tmp_path / "challenges" / "probe" / "driver.py"
    driver.write_text(driver.read_text()
                      + f"\nopen({str(record)!r}, 'a').write('imported\\n')\n")
    assert worker.ask("prepare", challenge="probe") == {"ok": True, "value": None}
    assert record.read_text() == "imported\n"  # before any load: no submitted code ran
    worker.load("probe", PROBE_REFERENCE.read_text())
    assert record.read_text() == "imported\n" * 2  # the load's driver is a fresh one

    driver.write_text("raise RuntimeError('a broken driver')\n")
    answer = worker.ask("prepare", challenge="probe")
    assert answer["ok"] is False and answer["error"]["type"] == "RuntimeError"
    assert worker.ask("ping") == {"ok": True, "value": None}  # left for the load to name
