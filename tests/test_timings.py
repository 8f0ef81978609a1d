"""Where a run's time goes (P10): every result records its phases, `--timings` shows them.

A real process-backend grade of the q3 reference must record every phase, in order,
with seconds that are non-negative and sum to at most (and close to) the run's
duration; the performance phase names its rounds. The table is printed with
`--timings` only, and renders what the result holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from io import StringIO

import pytest
from rich.console import Console

from graders.challenge import load_challenge
from graders.report import PHASE_LABELS, render, render_timings
from graders.result import PHASES, Phase
from graders.runner import grade
from graders.submission import read_submission
from tests.conftest import Q3, REPO, GradeRun, run_grade
from tests.test_batch import make_result

# Under pytest-xdist (`make test`) one worker runs this module: its fixture grades once.
pytestmark = pytest.mark.xdist_group("test_timings")

REFERENCE = REPO / "reference" / "q3_decorator.py"
SYNTAX_ERROR = REPO / "tests" / "fixtures" / "submissions" / "syntax_error.py"
ROUNDING_S = 0.001  # six phases rounded to 0.1 ms, the total to 1 ms


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[GradeRun, float]:
    """One graded run of the reference with --timings, and its wall time seen from outside."""
    started = time.perf_counter()
    run = run_grade(Q3, REFERENCE, "--sandbox", "process", "--timings",
                    json_path=tmp_path_factory.mktemp("timings") / "reference.json")
    return run, time.perf_counter() - started


def test_a_grade_records_every_phase(reference_run):
    run, wall_s = reference_run
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.result is not None
    result, phases = run.result, run.result["timings"]
    assert [p["name"] for p in phases] == list(PHASES)
    assert all(type(p["seconds"]) is float and p["seconds"] >= 0 for p in phases), phases
    for name in ("start", "import", "suite"):  # work that cannot take no time at all
        assert next(p for p in phases if p["name"] == name)["seconds"] > 0, phases
    total = sum(p["seconds"] for p in phases)
    assert total <= result["duration_s"] + ROUNDING_S <= wall_s + ROUNDING_S, (phases, wall_s)
    # Close: what no phase covers (scoring, building the result) is a sliver of the run.
    assert result["duration_s"] - total < max(0.5, 0.05 * result["duration_s"]), phases


def test_the_performance_phase_names_its_rounds(reference_run):
    result = reference_run[0].result
    assert result is not None
    by_name = {p["name"]: p for p in result["timings"]}
    measured = by_name["performance"]
    metrics = result["performance"]["metrics"]
    assert measured["rounds"] == sum(m["rounds"] for m in metrics) > 0
    assert 0 < measured["rounds_s"] <= measured["seconds"]
    assert measured["seconds"] == pytest.approx(result["performance"]["duration_s"], abs=0.001)
    others = [p for p in result["timings"] if p["name"] != "performance"]
    assert all(p["rounds"] is None and p["rounds_s"] is None for p in others)


SLOW_S = 1.0


def test_start_ends_when_the_worker_answers_and_import_is_the_submissions(tmp_path):
    """A worker that takes 1 s to come up and a submission that takes 1 s to import: each
    of the two phases gets its own second, and not the other's."""
    worker = tmp_path / "sandbox" / "worker.py"  # the process backend's worker, late
    worker.parent.mkdir()
    worker.write_text(f"import runpy, time\ntime.sleep({SLOW_S})\n"
                      f"runpy.run_path({str(REPO / 'sandbox' / 'worker.py')!r}, "
                      "run_name='__main__')\n", encoding="utf-8")
    slow = tmp_path / "solution.py"
    slow.write_text(REFERENCE.read_text(encoding="utf-8")
                    + f"\nimport time\ntime.sleep({SLOW_S})\n", encoding="utf-8")
    result = grade(load_challenge(Q3), read_submission(slow), sandbox="process",
                   repo_root=tmp_path, measure=False, only=["test_call_after_ttl_recomputes"])
    assert [t.status for t in result.tests] == ["passed"]
    seconds = {phase.name: phase.seconds for phase in result.timings}
    assert SLOW_S <= seconds["start"] < 1.9 * SLOW_S, seconds
    assert SLOW_S <= seconds["import"] < 1.9 * SLOW_S, seconds


def test_timings_flag_prints_the_table(reference_run):
    run = reference_run[0]
    assert run.result is not None
    assert "Timings" in run.stdout
    for phase in run.result["timings"]:
        row = next(line for line in run.stdout.splitlines() if PHASE_LABELS[phase["name"]] in line)
        assert f"{phase['seconds']:.3f}" in row, row
    measured = next(p for p in run.result["timings"] if p["name"] == "performance")
    assert f"{measured['rounds']} rounds, {measured['rounds_s']:.3f} s" in run.stdout


def test_without_the_flag_there_is_no_table_but_the_result_has_the_phases(tmp_path):
    run = run_grade(Q3, SYNTAX_ERROR, "--sandbox", "process", json_path=tmp_path / "r.json")
    assert run.exit_code == 1 and run.result is not None
    assert "Timings" not in run.stdout
    assert not any(label in run.stdout for label in PHASE_LABELS.values())
    # Not imported, so never measured: no performance phase, and a lock phase only if
    # the run waited for another's performance phase to end before it began.
    names = [p["name"] for p in run.result["timings"]]
    assert [n for n in names if n != "lock"] == ["start", "import", "suite", "teardown"]


HOLD = """
import sys, time
from graders import timing_lock
with timing_lock.exclusive_timing():
    print("timing", flush=True)
    time.sleep(1.5)
"""


def test_a_run_begun_while_another_is_timed_waits_and_records_the_wait(tmp_path):
    """A grading's correctness work never overlaps a performance phase on the host:
    begun during one, it waits (its `lock` phase), and its own budget starts after."""
    env = {"GRADERS_LOCK_DIR": str(tmp_path)}
    timer = subprocess.Popen([sys.executable, "-c", HOLD], cwd=REPO, text=True,
                             stdout=subprocess.PIPE, env={**os.environ, **env})
    try:
        assert timer.stdout is not None and timer.stdout.readline().strip() == "timing"
        run = run_grade(Q3, SYNTAX_ERROR, "--sandbox", "process", env=env,
                        json_path=tmp_path / "r.json")
    finally:
        timer.kill()
        timer.wait()
    assert run.exit_code == 1 and run.result is not None
    phases = {p["name"]: p["seconds"] for p in run.result["timings"]}
    assert phases["lock"] >= 0.5, phases
    assert phases["start"] < phases["lock"], "the wait was counted as the worker's start"
    assert sum(phases.values()) <= run.result["duration_s"] + ROUNDING_S


def test_quiet_keeps_the_table_asked_for(tmp_path):
    run = run_grade(Q3, SYNTAX_ERROR, "--sandbox", "process", "--quiet", "--timings")
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0].startswith("error: ") and "Timings" in run.stdout


# -- rendering -----------------------------------------------------------------

PHASES_SHOWN = [
    Phase(name="start", seconds=0.25), Phase(name="import", seconds=0.5),
    Phase(name="suite", seconds=6.0), Phase(name="lock", seconds=0.0),
    Phase(name="performance", seconds=4.0, rounds=12, rounds_s=3.2),
    Phase(name="teardown", seconds=0.125),
]


def _shown(result, **options) -> str:
    console = Console(file=StringIO(), width=100, color_system=None)
    render(result, console, **options)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _table(text: str) -> list[list[str]]:
    """The cells of each line of the Timings table in `text`, header first."""
    table = text[text.index("Timings"):].split("tests passed:")[0]
    return [[cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]
            for line in table.splitlines() if line.startswith(("│", "┃"))]


def test_the_table_shows_each_phase_the_rest_and_the_total():
    result = replace(make_result(), duration_s=12.5, timings=PHASES_SHOWN)
    text = _shown(result, timings=True)
    header, *body = _table(text)
    assert header == ["phase", "seconds", "share", "rounds"]
    rows = {cells[0]: cells[1:] for cells in body}
    assert rows["start (sandbox, worker)"] == ["0.250", "2%", ""]
    assert rows["test suite"] == ["6.000", "48%", ""]
    assert rows["wait for the timing lock"] == ["0.000", "0%", ""]
    assert rows["performance"] == ["4.000", "32%", "12 rounds, 3.200 s"]
    assert rows["teardown"] == ["0.125", "1%", ""]
    assert rows["other"] == ["1.625", "13%", ""]  # 12.5 - 10.875: no phase covers it
    assert rows["total"] == ["12.500", "", ""]
    assert text.index("Timings") < text.index("tests passed:")  # above the verdict


def test_the_table_is_shown_only_on_request():
    result = replace(make_result(), timings=PHASES_SHOWN)
    assert "Timings" in _shown(result, timings=True)
    text = _shown(result)
    assert "Timings" not in text and "test suite" not in text


def test_no_rounds_column_without_a_performance_phase():
    result = replace(make_result(), duration_s=1.0, timings=[
        Phase(name="start", seconds=0.1), Phase(name="import", seconds=0.1),
        Phase(name="suite", seconds=0.7), Phase(name="teardown", seconds=0.0)])
    header, *body = _table(_shown(result, timings=True))
    assert header == ["phase", "seconds", "share"]
    assert [cells[0] for cells in body] == [
        "start (sandbox, worker)", "import of the submission", "test suite", "teardown",
        "other", "total"]


def test_a_result_from_before_timings_says_so():
    console = Console(file=StringIO(), width=100, color_system=None)
    render_timings(make_result(), console)
    assert console.file.getvalue() == "timings: not recorded in this result\n"  # type: ignore[attr-defined]
