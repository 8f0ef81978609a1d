"""The result of one grading run (schema version 1): typed data, no grading behaviour.

This document is the single source for the terminal report, batch tables and
HTML pages; none of those renderers decides anything. Like pytest's report
objects, a result round-trips: `Result.from_json(text)` of what `write_json`
wrote is equal to the result that wrote it. The JSON Schema of the document is
generated from these dataclasses (`python -m graders.result --schema`) and
published as schema/result-v1.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from pydantic import ConfigDict, TypeAdapter, ValidationError

SCHEMA_VERSION: Literal[1] = 1
SCHEMA_ID = "urn:graders:result:v1"

RunStatus = Literal["passed", "failed", "error"]
TestStatus = Literal["passed", "failed", "timeout", "crashed", "error", "skipped"]
Verdict = Literal["pass", "fail", "inconclusive"]
Category = Literal["core", "robustness", "excellence"]
Visibility = Literal["public", "hidden"]
MetricKind = Literal["time", "counter"]
PhaseName = Literal["start", "import", "suite", "lock", "performance", "teardown"]

RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
TEST_STATUSES: tuple[TestStatus, ...] = get_args(TestStatus)
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)
CATEGORIES: tuple[Category, ...] = get_args(Category)  # also the report's order
PHASES: tuple[PhaseName, ...] = get_args(PhaseName)  # in the order a run goes through them

# Fields added to schema version 1 after its first results were written. A reader takes
# a document without them (they get their default), so those results still read (a batch
# resumes from them); a writer always writes them. No version bump: that would make every
# earlier reader refuse every new result, where a new key only troubles a strict one.
ADDED_FIELDS: frozenset[str] = frozenset({"timings"})

# How a document is read: exact JSON types (a bool is not a number, "1" is not
# 1), no unknown fields. Field docstrings become the schema's descriptions.
_STRICT = ConfigDict(strict=True, extra="forbid", use_attribute_docstrings=True,
                     json_schema_serialization_defaults_required=True)


@dataclass
class TestResult:
    """One test of the challenge's suite."""

    __test__ = False  # not a pytest test class, despite the name
    __pydantic_config__ = _STRICT

    id: str
    """pytest node id"""
    name: str
    description: str
    """the test's docstring's first line"""
    category: Category
    weight: float
    """points the test is worth"""
    status: TestStatus
    duration_s: float
    message: str
    """hidden test: the author's one-line message or a generic sentence; public: the failure"""
    visibility: Visibility


@dataclass
class MetricResult:
    """One performance metric, measured on the submission and the reference in the same run."""

    __pydantic_config__ = _STRICT

    name: str
    description: str
    kind: MetricKind
    unit: str
    submission: float | None
    reference: float | None
    ratio: float | None
    interval: list[float] | None
    """confidence interval of the compared figure"""
    threshold: dict[str, float]
    """`ratio` (submission / reference) or `absolute` (normalised submission figure)"""
    verdict: Verdict
    required: bool
    weight: float
    rounds: int
    overhead_s: float | None
    """measured empty-call round trip, not subtracted"""
    message: str = ""
    host_factor: float | None = None
    """absolute targets: host speed / reference host speed"""
    normalised: float | None = None
    """absolute targets: submission figure / host_factor"""


@dataclass
class Performance:
    """The performance phase: metric points and how long the phase took."""

    __pydantic_config__ = _STRICT

    score: float = 0.0
    max_score: float = 0.0
    duration_s: float = 0.0
    metrics: list[MetricResult] = field(default_factory=list)


@dataclass
class CandidateOutput:
    """What the submission printed, over every worker of the run."""

    __pydantic_config__ = _STRICT

    text: str = ""
    """the first 64 KiB, control characters replaced"""
    truncated: bool = False
    total_bytes: int = 0


@dataclass
class ChallengeInfo:
    """The challenge graded against."""

    __pydantic_config__ = _STRICT

    id: str
    version: str
    title: str
    suite_sha256: str
    """digest of the config, driver and tests"""


@dataclass
class SubmissionInfo:
    """The submitted file."""

    __pydantic_config__ = _STRICT

    path: str
    sha256: str


@dataclass
class HarnessInfo:
    """The harness that graded."""

    __pydantic_config__ = _STRICT

    version: str


@dataclass
class SandboxInfo:
    """Where the submission ran."""

    __pydantic_config__ = _STRICT

    backend: str
    image: str | None
    """image id (docker backend)"""
    limits: dict[str, int | float]
    isolated: bool


@dataclass(frozen=True)
class Phase:
    """One phase of the run and the wall time it took, timed on the trusted side."""

    __pydantic_config__ = _STRICT

    # start: the sandbox and the first worker up; import: the submission's first import;
    # suite: the tests; lock: waiting for the host's timing lock; performance: the figure
    # of `performance.duration_s`; teardown: the last workers and the sandbox closed.
    name: PhaseName
    """start, import, suite, lock (waiting for the timing lock), performance, teardown"""
    seconds: float
    rounds: int | None = None
    """performance: the measured rounds that completed, over every metric (warm-up excluded)"""
    rounds_s: float | None = None
    """performance: the seconds those rounds took"""


@dataclass
class Result:
    """One grading run of one submission against one challenge."""

    __pydantic_config__ = _STRICT

    status: RunStatus
    """passed: required tests and metrics passed, score >= pass mark; error: not graded"""
    score: float
    max_score: float
    message: str
    """one sentence saying why the status is what it is"""
    challenge: ChallengeInfo
    submission: SubmissionInfo
    harness: HarnessInfo
    sandbox: SandboxInfo
    seed: int
    started_at: str
    duration_s: float
    tests: list[TestResult]
    performance: Performance
    candidate_output: CandidateOutput
    notices: list[str] = field(default_factory=list)
    """what the report says about the run (e.g. not isolated)"""
    timings: list[Phase] = field(default_factory=list)
    """the run's phases in order, seconds summing to at most duration_s; not in older results"""
    schema_version: Literal[1] = SCHEMA_VERSION
    """1 for this schema; a reader rejects other versions"""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write the document atomically: a reader never finds half a result at `path`."""
        target = Path(path)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with temporary.open("x", encoding="utf-8") as stream:
                stream.write(self.to_json())
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The result a parsed JSON document describes; ValueError naming the field if it
        is not a schema version 1 result."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a result is a JSON object, not {type(data).__name__}")
        if "schema_version" not in data:
            raise ValueError("schema_version: field required (is this a graders result?)")
        version = data["schema_version"]
        if type(version) is not int or version != SCHEMA_VERSION:
            raise ValueError(f"schema_version: this reader reads schema version "
                             f"{SCHEMA_VERSION} results, the document's is {version!r}")
        try:
            text = json.dumps(dict(data))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a result holds only JSON values: {exc}") from None
        try:
            result = _adapter().validate_json(text)
        except ValidationError as exc:
            raise ValueError(f"not a valid schema version 1 result: {_describe(exc)}") from None
        missing = _missing_fields(Result, data, "")
        if missing:
            raise ValueError(f"not a valid schema version 1 result: {missing}: field required")
        return result

    @classmethod
    def from_json(cls, source: str | bytes | os.PathLike[str]) -> Result:
        """The result in JSON text (str or bytes), or in the file at a path (a Path)."""
        if isinstance(source, os.PathLike):
            text: str | bytes = Path(source).read_bytes()
        else:
            text = source
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = " (to read a file, pass a pathlib.Path)" if isinstance(source, str) else ""
            raise ValueError(f"a result must be JSON{hint}: {exc}") from None
        return cls.from_dict(data)


@cache
def _adapter() -> TypeAdapter[Result]:
    return TypeAdapter(Result)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(document)"


_UNION_MEMBERS = ("int", "float")  # pydantic's location tags for the members of int | float


def _describe(error: ValidationError, shown: int = 5) -> str:
    """Each wrong field, named by its path in the document: `tests[3].status: ...`."""
    problems: dict[str, tuple[list[str], str]] = {}
    for item in error.errors(include_url=False):
        loc = item["loc"]
        if len(loc) > 1 and loc[-1] in _UNION_MEMBERS:
            loc = loc[:-1]
        if item["type"] == "unexpected_keyword_argument":
            message, got = "is not a field of this schema", ""
        elif item["type"] == "missing":
            message, got = "field required", ""
        else:
            message, got = item["msg"].removeprefix("Input "), f" (got {item['input']!r:.60})"
        messages, _ = problems.setdefault(_location(loc), ([], got))
        messages.append(message)
    described = [f"{where}: {' or '.join(messages)}{got}"
                 for where, (messages, got) in problems.items()]
    more = f"; and {len(described) - shown} more" if len(described) > shown else ""
    return "; ".join(described[:shown]) + more


def _missing_fields(cls: type, data: Any, where: str) -> str | None:
    """The first field of `cls` (or a nested dataclass) that `data` leaves out.

    Validation fills fields that have a default; a written document has them all, bar
    ADDED_FIELDS in one written before they were.
    `data` has already been validated, so its shape is the dataclass's.
    """
    hints = get_type_hints(cls)
    for item in fields(cls):
        path = f"{where}.{item.name}" if where else item.name
        if item.name not in data:
            if cls is Result and item.name in ADDED_FIELDS:
                continue
            return path
        hint, value = hints[item.name], data[item.name]
        if is_dataclass(hint):
            found = _missing_fields(hint, value, path)  # type: ignore[arg-type]
        elif get_origin(hint) is list and is_dataclass(get_args(hint)[0]):
            found = next((m for i, v in enumerate(value)
                          if (m := _missing_fields(get_args(hint)[0], v, f"{path}[{i}]"))), None)
        else:
            found = None
        if found:
            return found
    return None


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a result document (schema version 1)."""
    generated = _adapter().json_schema(mode="serialization")
    _drop_property_titles(generated)
    properties = generated.pop("properties")
    required = generated.pop("required")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "graders result, schema version 1",
        "description": "The JSON document one grading run writes (`grade ... --json PATH`). "
                       "Generated from graders/result.py by `python -m graders.result --schema`.",
        "type": generated.pop("type"),
        "additionalProperties": generated.pop("additionalProperties"),
        "properties": {"schema_version": properties.pop("schema_version"), **properties},
        "required": ["schema_version", *(name for name in required
                                         if name != "schema_version" and name not in ADDED_FIELDS)],
        "$defs": generated.pop("$defs"),
    }


def _drop_property_titles(node: Any) -> None:
    """pydantic titles every property after its name ("Duration S"); that says nothing."""
    if isinstance(node, dict):
        for value in node.get("properties", {}).values():
            value.pop("title", None)
        for value in node.values():
            _drop_property_titles(value)
    elif isinstance(node, list):
        for value in node:
            _drop_property_titles(value)


def schema_text() -> str:
    """schema/result-v1.json as it must read."""
    return json.dumps(json_schema(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m graders.result",
        description="Print the JSON Schema of a result (regenerate schema/result-v1.json).")
    parser.add_argument("--schema", action="store_true", required=True,
                        help="print the JSON Schema of schema version 1")
    parser.parse_args(argv)
    sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
