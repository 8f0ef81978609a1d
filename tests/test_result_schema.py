"""The result document is schema version 1: published, checked, and read back whole (P5).

Real results (the q3 reference without the performance phase, the probe
reference with it, both on the process backend) must validate against the
committed schema/result-v1.json and read back equal; a document that is not a
version 1 result must be refused by the schema and by `Result.from_dict` alike,
with a ValueError naming the field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from graders.challenge import load_challenge
from graders.result import ADDED_FIELDS, PHASES, Result, main, schema_text
from graders.runner import grade
from graders.submission import read_submission
from tests.conftest import PROBE, REPO

# Under pytest-xdist (`make test`) one worker runs this module: its fixture grades once.
pytestmark = pytest.mark.xdist_group("test_result_schema")

SCHEMA_FILE = REPO / "schema" / "result-v1.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def q3_result() -> Result:
    return grade(load_challenge("q3_decorator"),
                 read_submission(REPO / "reference" / "q3_decorator.py"),
                 sandbox="process", measure=False)


@pytest.fixture(scope="module")
def probe_result() -> Result:
    challenge = load_challenge(PROBE)
    return grade(challenge, read_submission(challenge.reference_path), sandbox="process")


@pytest.fixture(params=["q3_result", "probe_result"])
def result(request: pytest.FixtureRequest) -> Result:
    return request.getfixturevalue(request.param)


# -- the published schema ---------------------------------------------------


def test_committed_schema_is_what_the_generator_produces():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "schema/result-v1.json is stale: run "
        "`python -m graders.result --schema > schema/result-v1.json`")


def test_generator_prints_the_schema(capsys):
    assert main(["--schema"]) == 0
    assert capsys.readouterr().out == schema_text()


def test_schema_describes_the_readme_table(validator):
    """The README's table is the contract: the schema has exactly its top-level fields."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The result (schema version 1)", 1)[1].split("\n## ", 1)[0]
    first_cells = re.findall(r"^\| (`[^|]*) \|", section, flags=re.MULTILINE)
    documented = {name.removesuffix("[]") for cell in first_cells
                  for name in re.findall(r"`([^`]+)`", cell)}
    schema = validator.schema
    assert documented == set(schema["properties"])
    assert set(schema["required"]) == documented - ADDED_FIELDS  # older results lack these
    assert next(iter(schema["properties"])) == "schema_version"
    assert schema["properties"]["schema_version"]["const"] == 1
    assert schema["$id"] and schema["title"] and schema["description"]


# -- real results ------------------------------------------------------------


def test_real_results_are_what_they_should_be(q3_result, probe_result):
    """The fixtures really exercise the document: tests, and metrics with every kind."""
    assert q3_result.status == probe_result.status == "passed"
    assert q3_result.tests and not q3_result.performance.metrics
    assert {m.kind for m in probe_result.performance.metrics} == {"time", "counter"}
    assert any(m.host_factor is not None for m in probe_result.performance.metrics)
    assert [p.name for p in probe_result.timings] == list(PHASES)
    # Not measured: no performance phase, and a lock phase only if the run waited for
    # another's performance phase before it began (another test's, under xdist).
    assert [p.name for p in q3_result.timings if p.name != "lock"] == [
        "start", "import", "suite", "teardown"]


def test_a_real_result_validates_against_the_schema(result, validator):
    document = json.loads(result.to_json())
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert next(iter(document)) == "schema_version"


def test_a_real_result_reads_back_equal(result, tmp_path):
    text = result.to_json()
    again = Result.from_json(text)
    assert again == result
    assert again.to_json() == text
    assert Result.from_dict(json.loads(text)) == result
    path = tmp_path / "r.json"
    result.write_json(path)
    assert Result.from_json(path) == result
    assert Result.from_json(path.read_bytes()) == result


def test_a_result_written_before_timings_still_validates_and_reads(probe_result, validator):
    """`timings` is a key added to schema version 1: documents without it stay valid."""
    older = probe_result.to_dict()
    del older["timings"]
    assert validator.is_valid(older)
    assert Result.from_dict(older).timings == []
    assert Result.from_dict(older) == replace(probe_result, timings=[])


# -- writing -----------------------------------------------------------------


def test_write_json_replaces_the_file_and_leaves_no_temporary(q3_result, tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old", encoding="utf-8")
    q3_result.write_json(path)
    assert path.read_text(encoding="utf-8") == q3_result.to_json()
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_a_failed_write_leaves_the_previous_file_whole(q3_result, tmp_path):
    path = tmp_path / "r.json"
    path.write_text("previous", encoding="utf-8")
    broken = copy.deepcopy(q3_result)
    broken.notices = [object()]  # not JSON
    with pytest.raises(TypeError):
        broken.write_json(path)
    assert path.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


# -- wrong documents ---------------------------------------------------------

Mutation = Callable[[dict[str, Any]], Any]

WRONG: list[tuple[str, Mutation, str]] = [
    ("bad run status", lambda d: d.update(status="ok"), "status"),
    ("bad test status", lambda d: d["tests"][0].update(status="bogus"), "tests[0].status"),
    ("bad category", lambda d: d["tests"][1].update(category="perf"), "tests[1].category"),
    ("bad verdict", lambda d: d["performance"]["metrics"][0].update(verdict="maybe"),
     "performance.metrics[0].verdict"),
    ("score as a string", lambda d: d.update(score="10"), "score"),
    ("True for an int", lambda d: d.update(seed=True), "seed"),
    ("True for a float", lambda d: d.update(duration_s=True), "duration_s"),
    ("True for a limit", lambda d: d["sandbox"]["limits"].update(cpus=True),
     "sandbox.limits.cpus"),
    ("True for a metric's rounds", lambda d: d["performance"]["metrics"][1].update(rounds=True),
     "performance.metrics[1].rounds"),
    ("1 for a bool", lambda d: d["candidate_output"].update(truncated=1),
     "candidate_output.truncated"),
    ("float for an int", lambda d: d["candidate_output"].update(total_bytes=1.5),
     "candidate_output.total_bytes"),
    ("string in an interval",
     lambda d: d["performance"]["metrics"][0].update(interval=[1.0, "2"]),
     "performance.metrics[0].interval[1]"),
    ("missing field", lambda d: d.pop("message"), "message"),
    ("missing section field", lambda d: d["challenge"].pop("suite_sha256"),
     "challenge.suite_sha256"),
    ("missing test field", lambda d: d["tests"][2].pop("visibility"), "tests[2].visibility"),
    ("missing field with a default", lambda d: d.pop("notices"), "notices"),
    ("missing nested field with a default",
     lambda d: d["performance"]["metrics"][2].pop("host_factor"),
     "performance.metrics[2].host_factor"),
    ("bad phase name", lambda d: d["timings"][0].update(name="warmup"), "timings[0].name"),
    ("string for seconds", lambda d: d["timings"][1].update(seconds="0.1"),
     "timings[1].seconds"),
    ("missing phase field with a default", lambda d: d["timings"][4].pop("rounds"),
     "timings[4].rounds"),
    ("unknown field", lambda d: d.update(grade="A"), "grade"),
    ("schema version 2", lambda d: d.update(schema_version=2), "schema_version"),
    ("schema version True", lambda d: d.update(schema_version=True), "schema_version"),
    ("no schema version", lambda d: d.pop("schema_version"), "schema_version"),
]


@pytest.mark.parametrize(("mutate", "field"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_a_wrong_document_is_refused_naming_the_field(probe_result, validator, mutate, field):
    document = probe_result.to_dict()
    assert validator.is_valid(document) and Result.from_dict(document) == probe_result
    wrong = copy.deepcopy(document)
    mutate(wrong)
    assert not validator.is_valid(wrong), "the published schema accepts it"
    with pytest.raises(ValueError) as refused:
        Result.from_dict(wrong)
    assert re.search(rf"(^|[ ;]){re.escape(field)}:", str(refused.value)), str(refused.value)
    with pytest.raises(ValueError, match=re.escape(field)):
        Result.from_json(json.dumps(wrong))


@pytest.mark.parametrize("text", ["", "out.json", "[1, 2]", '"passed"', "null"])
def test_what_is_not_a_json_object_is_refused(text):
    with pytest.raises(ValueError):
        Result.from_json(text)


def test_a_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        Result.from_json(Path(tmp_path / "absent.json"))
