"""The candidate's kit: `grade kit CHALLENGE OUTDIR`.

What a hiring team sends a candidate, and nothing it must not:

    OUTDIR/
      README.md              the prompt: the challenge's README.md
      solution.py            the stub, named as the submission is imported (`module`)
      SELF_CHECK.md          how to check a solution before sending it
      challenges/<id>/       the challenge without what is hidden, so that
                             `grade challenges/<id> solution.py` runs the public tests:
                             challenge.toml, README.md, stub.py, driver.py,
                             conftest.py (the public tests' helpers), public/
      sandbox/driverkit.py   what the driver and the helpers import

Never in it: the hidden suite (hidden/), the reference, the known-bad submissions
(known_bad/), the known public answers, the `[validate]` table of challenge.toml (its
judgements of mutants describe the reference), nor the performance metrics, which
are measured against the reference: the prompt states them, the hiring team
measures them. tests/test_kit.py checks, for every challenge, that no line of a
hidden test, the reference or a known-bad is in the kit.
"""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from pathlib import Path
from typing import Any

from graders.challenge import REPO_ROOT, Challenge, load_challenge
from graders.errors import UsageError

HIDDEN_TABLES = ("validate",)  # left out of the kit's challenge.toml

SELF_CHECK = """\
# Checking your solution before you send it

The task is in README.md; start from `{module}.py`, the stub, and keep its name.

`challenges/{id}/public/` holds example tests. To run them against your file you need
the `graders` harness (ask the hiring team for it); then, from this directory:

    grade challenges/{id} {module}.py --sandbox process

The report lists every example test with its full failure, including the shrunk
counterexample when a property fails. With a Docker engine and the harness's sandbox
image built (`grade sandbox build`), leave out `--sandbox process` to run your code
isolated; the process backend runs it as you, which is fine for your own code.

What this check does not do. The hiring team grades your file against a hidden suite
(its tests are described in README.md: every graded behaviour is stated there) and
measures its speed against a reference solution (the metrics in README.md). Neither is
in this kit, so passing the examples is a good sign, not the grade.
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def toml_text(data: dict[str, Any], prefix: str = "") -> str:
    """TOML for a parsed document (tables as sections, arrays of tables as [[...]])."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not _is_table_array(v)]
    text = "\n".join(lines) + ("\n" if lines else "")
    for key, value in data.items():
        name = f"{prefix}{_toml_key(key)}"
        if isinstance(value, dict):
            text += f"\n[{name}]\n" + toml_text(value, name + ".")
        elif _is_table_array(value):
            for item in value:
                text += f"\n[[{name}]]\n" + toml_text(item, name + ".")
    return text


def kit_config(challenge: Challenge) -> str:
    """The kit's challenge.toml: the challenge's, without hidden tables or metrics."""
    raw = tomllib.loads((challenge.root / "challenge.toml").read_text(encoding="utf-8"))
    for table in HIDDEN_TABLES:
        raw.pop(table, None)
    performance = raw.get("performance")
    if isinstance(performance, dict):
        performance.pop("metrics", None)
    text = toml_text(raw)
    if tomllib.loads(text) != raw:  # the writer must say exactly what was read
        raise RuntimeError(f"the kit's challenge.toml of {challenge.id} does not round-trip")
    header = ("# The challenge as its kit has it: its hidden suite and its performance metrics\n"
              "# are graded by the hiring team (see README.md).\n")
    return header + text


def build_kit(challenge: Challenge, outdir: Path) -> list[Path]:
    """Write the kit of `challenge` into `outdir` (new or empty); the files written."""
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise UsageError(f"{outdir} exists and is not an empty directory; give a new "
                         "directory for the kit (nothing of yours is overwritten).")
    module = challenge.config.module
    target = outdir / "challenges" / challenge.id
    (target / "public").mkdir(parents=True)
    (outdir / "sandbox").mkdir()
    copies = {challenge.root / "README.md": [outdir / "README.md", target / "README.md"],
              challenge.root / "stub.py": [outdir / f"{module}.py", target / "stub.py"],
              challenge.root / "driver.py": [target / "driver.py"],
              REPO_ROOT / "sandbox" / "driverkit.py": [outdir / "sandbox" / "driverkit.py"]}
    if (challenge.root / "conftest.py").is_file():
        copies[challenge.root / "conftest.py"] = [target / "conftest.py"]
    for path in sorted((challenge.root / "public").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            destination = target / "public" / path.relative_to(challenge.root / "public")
            copies[path] = [destination]
    written: list[Path] = []
    for source, destinations in copies.items():
        for destination in destinations:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            written.append(destination)
    (target / "challenge.toml").write_text(kit_config(challenge), encoding="utf-8")
    (outdir / "SELF_CHECK.md").write_text(
        SELF_CHECK.format(module=module, id=challenge.id), encoding="utf-8")
    written += [target / "challenge.toml", outdir / "SELF_CHECK.md"]
    load_challenge(target)  # the kit's challenge must load, or this is the harness's bug
    return sorted(written)
