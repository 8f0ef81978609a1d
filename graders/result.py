"""The result of one grading run (schema version 1): plain data, no behaviour.

This document is the single source for the terminal report, batch tables and
HTML pages; none of those renderers decides anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
CATEGORIES = ("core", "robustness", "excellence")
TEST_STATUSES = ("passed", "failed", "timeout", "crashed", "error", "skipped")
VERDICTS = ("pass", "fail", "inconclusive")


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite the name

    id: str
    name: str
    description: str
    category: str
    weight: float
    status: str
    duration_s: float
    message: str
    visibility: str  # "public" | "hidden"


@dataclass
class MetricResult:
    name: str
    description: str
    kind: str  # "time" | "counter"
    unit: str
    submission: float | None
    reference: float | None
    ratio: float | None
    interval: list[float] | None  # confidence interval of the compared figure
    threshold: dict[str, float]
    verdict: str
    required: bool
    weight: float
    rounds: int
    overhead_s: float | None  # measured empty-call round trip, not subtracted
    message: str = ""
    host_factor: float | None = None  # absolute targets: host speed / reference host speed
    normalised: float | None = None  # absolute targets: submission figure / host_factor


@dataclass
class Performance:
    score: float = 0.0
    max_score: float = 0.0
    duration_s: float = 0.0
    metrics: list[MetricResult] = field(default_factory=list)


@dataclass
class CandidateOutput:
    text: str = ""
    truncated: bool = False
    total_bytes: int = 0


@dataclass
class Result:
    status: str  # "passed" | "failed" | "error"
    score: float
    max_score: float
    message: str
    challenge: dict[str, str]
    submission: dict[str, str]
    harness: dict[str, str]
    sandbox: dict[str, Any]
    seed: int
    started_at: str
    duration_s: float
    tests: list[TestResult]
    performance: Performance
    candidate_output: CandidateOutput
    notices: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"schema_version": data.pop("schema_version"), **data}

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
