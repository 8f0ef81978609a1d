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

import ast
import difflib
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
    # what a run reports (graders/feedback.py): full, descriptions or score-only;
    # `grade ... --feedback LEVEL` overrides it
    level: Literal["full", "descriptions", "score-only"] = "descriptions"
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

    def grading_files(self) -> list[Path]:
        """Every file that decides a grade: the config, the driver and the kit it runs
        on, the reference the metrics compare with, every conftest.py, and every file of
        the public and hidden suites (data files too)."""
        files = [self.root / "challenge.toml", self.root / "driver.py", self.reference_path,
                 *sorted(self.root.glob("conftest.py"))]
        for folder in self.suite_dirs():
            files += sorted(p for p in folder.rglob("*")
                            if p.is_file() and "__pycache__" not in p.parts)
        kit = self.root.parent.parent / "sandbox" / "driverkit.py"
        return [*files, kit] if kit.is_file() else files

    def suite_sha256(self) -> str:
        """A hash of everything that decides a grade (`grading_files`), names included."""
        digest = hashlib.sha256()
        base = self.root.parent.parent
        for path in self.grading_files():
            data = path.read_bytes() if path.is_file() else b""
            digest.update(str(path.relative_to(base)).encode() + b"\0")
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.hexdigest()


def _field_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"field '{where}': {first['msg']}"


_NOT_FUNCTIONS = {"staticmethod", "classmethod", "property", "cached_property", "setter",
                  "getter", "deleter"}


def driver_operations(driver: Path) -> list[str]:
    """The operations a driver.py defines, read with `ast`, never imported here: the
    public functions defined in the body of its class Driver, which is what the worker
    calls (methods inherited from a base class are not operations).

    Raises ValueError saying why if the file does not parse or has no class Driver.
    """
    try:
        tree = ast.parse(driver.read_bytes(), filename=str(driver))
    except (SyntaxError, ValueError) as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, SyntaxError) else ""
        raise ValueError(f"it does not parse{where}: {getattr(exc, 'msg', exc)}") from None
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)
               and node.name == "Driver"]
    if not classes:
        raise ValueError("it defines no top-level class Driver")

    def decorator_name(node: ast.expr) -> str:
        node = node.func if isinstance(node, ast.Call) else node
        return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")

    return sorted(node.name for node in classes[-1].body
                  if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
                  and not any(decorator_name(d) in _NOT_FUNCTIONS for d in node.decorator_list))


def _check_operations(toml_path: Path, driver: Path, config: ChallengeConfig) -> None:
    """Every metric's operation is an operation of the driver, or UsageError naming it."""
    try:
        operations = driver_operations(driver)
    except ValueError as exc:
        raise UsageError(f"{driver} is invalid: {exc}; fix it.") from None
    wrong = [m for m in config.performance.metrics if m.operation not in operations]
    if not wrong:
        return
    named = " and ".join(f"metric '{m.name}' names operation '{m.operation}'" for m in wrong)
    close = [f"'{match}'" for m in wrong
             for match in difflib.get_close_matches(m.operation, operations, n=1)]
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise UsageError(f"{toml_path} is invalid: {named}, which {driver} does not define; "
                     f"fix the name{'s' if len(wrong) > 1 else ''}{hint}.")


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
    _check_operations(toml_path, root / "driver.py", config)
    return Challenge(root.resolve(), config)


def list_challenges(base: Path = REPO_ROOT / "challenges") -> list[Challenge]:
    return [load_challenge(p) for p in sorted(base.iterdir()) if (p / "challenge.toml").is_file()]
