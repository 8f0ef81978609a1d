"""A challenge: its directory, its validated challenge.toml, and its files.

    challenges/<id>/
      challenge.toml   metadata, limits, scoring, performance metrics, feedback
      README.md        the candidate prompt
      stub.py          what the candidate starts from
      driver.py        worker-side operations (runs in the sandbox; public)
      public/          example tests, shown in full detail
      hidden/          the hidden suite (trusted side only)
      known_bad/       wrong, slow and hostile submissions with expected outcomes
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graders.errors import UsageError
from graders.sandbox import Limits

REPO_ROOT = Path(__file__).resolve().parents[1]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitsConfig(_Strict):
    call_timeout_s: float = Field(5.0, gt=0)
    load_timeout_s: float = Field(30.0, gt=0)
    test_timeout_s: float = Field(120.0, gt=0)
    run_budget_s: float = Field(300.0, gt=0)  # tests not started by then are skipped
    memory_mb: int = Field(512, ge=64)
    cpus: float = Field(1.0, gt=0)
    pids: int = Field(64, ge=8)
    tmpfs_mb: int = Field(64, ge=1)


class Threshold(_Strict):
    """A ratio to the reference (submission / reference), or an absolute target in `unit`."""

    ratio: float | None = Field(None, gt=0)
    absolute: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Threshold:
        if (self.ratio is None) == (self.absolute is None):
            raise ValueError("give exactly one of 'ratio' or 'absolute'")
        return self


class Metric(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    operation: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    args: dict[str, object] = {}
    # Each call gets a fresh `seed` argument, and the submission must answer what the
    # reference answers for the same seed: a batch skipped or faked is caught.
    seeded: bool = False
    kind: Literal["time", "counter"] = "time"
    counter: str | None = None
    statistic: Literal["median", "mean", "p95"] = "median"
    unit: str = "s"
    threshold: Threshold
    required: bool = True
    weight: float = Field(ge=0)

    @model_validator(mode="after")
    def _counter_named(self) -> Metric:
        if (self.kind == "counter") != (self.counter is not None):
            raise ValueError("'counter' names the counter exactly when kind = \"counter\"")
        if self.seeded and self.kind != "time":
            raise ValueError("seeded = true applies to time metrics only")
        return self


class PerformanceConfig(_Strict):
    warmup: int = Field(2, ge=0)
    rounds: int = Field(12, ge=3)
    max_rounds: int = Field(36, ge=3)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    metrics: list[Metric] = []


class Scoring(_Strict):
    categories: dict[Literal["core", "robustness", "excellence"], float]
    pass_mark: float = Field(ge=0, le=1)


class Feedback(_Strict):
    hidden_messages: bool = True  # show the author's one-line assertion messages


class ValidateConfig(_Strict):
    """What `grade validate` holds the challenge to, and the author's recorded judgements."""

    min_mutation_score: float = Field(0.95, ge=0, le=1)
    # hidden tests that only the stub fails, on purpose: test name -> the reason
    stub_only: dict[str, str] = {}
    # generated mutants of the reference that no test can kill: mutant id -> the reason
    equivalent_mutants: dict[str, str] = {}


class ChallengeConfig(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    version: str
    module: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    seed: int = 0
    limits: LimitsConfig = LimitsConfig()
    scoring: Scoring
    performance: PerformanceConfig = PerformanceConfig()
    feedback: Feedback = Feedback()
    validate_: ValidateConfig = Field(ValidateConfig(), alias="validate")


class Challenge:
    def __init__(self, root: Path, config: ChallengeConfig) -> None:
        self.root = root
        self.config = config

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def limits(self) -> Limits:
        lim = self.config.limits
        return Limits(memory_mb=lim.memory_mb, cpus=lim.cpus, pids=lim.pids, tmpfs_mb=lim.tmpfs_mb)

    @property
    def reference_path(self) -> Path:
        return self.root.parent.parent / "reference" / f"{self.id}.py"

    def suite_dirs(self) -> list[Path]:
        return [d for d in (self.root / "public", self.root / "hidden") if d.is_dir()]

    def suite_sha256(self) -> str:
        """A hash of everything that decides a grade: config, driver and tests."""
        digest = hashlib.sha256()
        files = [self.root / "challenge.toml", self.root / "driver.py"]
        for folder in self.suite_dirs():
            files += sorted(p for p in folder.rglob("*.py"))
        for path in files:
            digest.update(str(path.relative_to(self.root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()


def _field_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"field '{where}': {first['msg']}"


def load_challenge(arg: str | Path) -> Challenge:
    """Find a challenge by directory or id and validate it, or raise UsageError."""
    root = Path(arg)
    if not root.exists() and not root.is_absolute() and len(root.parts) == 1:
        root = REPO_ROOT / "challenges" / root.name
    if not root.is_dir():
        raise UsageError(
            f"Challenge '{arg}' is not a challenge directory; "
            "run `grade list` to see the challenges."
        )
    toml_path = root / "challenge.toml"
    if not toml_path.is_file():
        raise UsageError(f"{root} has no challenge.toml, so it is not a challenge directory; "
                         "run `grade list` to see the challenges.")
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        config = ChallengeConfig.model_validate(raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{toml_path} is not valid TOML ({exc}); fix the file.") from None
    except ValidationError as exc:
        raise UsageError(f"{toml_path} is invalid: {_field_error(exc)}; fix that field.") from None
    if config.id != root.name:
        raise UsageError(f"{toml_path} is invalid: field 'id' is '{config.id}' but the directory "
                         f"is '{root.name}'; make them match.")
    for required in ("driver.py", "stub.py", "README.md"):
        if not (root / required).is_file():
            raise UsageError(f"Challenge {config.id} is missing {required}; add it to {root}.")
    return Challenge(root.resolve(), config)


def list_challenges(base: Path = REPO_ROOT / "challenges") -> list[Challenge]:
    return [load_challenge(p) for p in sorted(base.iterdir()) if (p / "challenge.toml").is_file()]
