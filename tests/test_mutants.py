"""Mutation testing of a hidden suite (graders/mutants.py): generation, ids, the report,
and one run on the probe challenge."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from graders.challenge import Challenge, ValidateConfig, load_challenge
from graders.mutants import (
    OPERATORS,
    Generation,
    Graded,
    Mutant,
    build_report,
    generate_mutants,
    render_mutants,
    run_mutants,
)
from tests.conftest import PROBE, PROBE_REFERENCE, REPO

SAMPLE = '''\
"""Module docstring: a < b."""

import functools

__all__ = ["f", "g"]


def f(a, b, items, lock, flag=True):
    """Docstring: a > b."""
    total: int | None = 0
    with lock:
        total = g(a, b)
    if a < b and flag:
        total += 1
    elif a in items:
        return -a
    while not flag:
        break
    for x in items:
        continue
    try:
        total = total * 2
    except ValueError:
        raise KeyError(f"no {a + 1}")
    return total if a >= b else None


@functools.cache
def g(first, second, *, third=None) -> int | None:
    if first is None:
        return second
    return first


if __name__ == "__main__":
    print(f(1, 2, [], None) == 3)
'''


def _squash(text: str) -> str:
    return " ".join(text.split())


def changes(source: str, operator: str) -> list[tuple[str, str]]:
    """(removed, added) line texts, whitespace squashed, of each mutant `operator` makes."""
    ops = [entry for entry in OPERATORS if entry[0] == operator]
    assert ops, f"no operator {operator}"
    found = []
    for mutant in generate_mutants(source, ops).mutants:
        diff = mutant.diff(source).splitlines()[2:]
        removed = "\n".join(_squash(d[1:]) for d in diff if d.startswith("-"))
        added = "\n".join(_squash(d[1:]) for d in diff if d.startswith("+"))
        found.append((removed, added))
    return found


@pytest.mark.parametrize(("operator", "expected"), [
    ("lt_to_le", [("if a < b and flag:", "if a <= b and flag:")]),
    ("lt_to_ge", [("if a < b and flag:", "if a >= b and flag:")]),
    ("ge_to_gt", [("return total if a >= b else None", "return total if a > b else None")]),
    ("ge_to_lt", [("return total if a >= b else None", "return total if a < b else None")]),
    ("is_to_is_not", [("if first is None:", "if first is not None:")]),
    ("in_to_not_in", [("elif a in items:", "elif a not in items:")]),
    ("and_to_or", [("if a < b and flag:", "if a < b or flag:")]),
    ("not_removed", [("while not flag:", "while flag:")]),
    ("minus_removed", [("return -a", "return a")]),
    ("mul_to_div", [("total = total * 2", "total = total / 2")]),
    ("true_to_false", [("def f(a, b, items, lock, flag=True):",
                        "def f(a, b, items, lock, flag=False):")]),
    ("number_plus_one", [("total: int | None = 0", "total: int | None = 1"),
                         ("total += 1", "total += 2"),
                         ("total = total * 2", "total = total * 3")]),
    ("number_minus_one", [("total: int | None = 0", "total: int | None = -1"),
                          ("total += 1", "total += 0"),
                          ("total = total * 2", "total = total * 1")]),
    ("condition_negated", [("if a < b and flag:", "if not (a < b and flag):"),
                           ("elif a in items:", "elif not a in items:"),
                           ("return total if a >= b else None",
                            "return total if not a >= b else None"),
                           ("if first is None:", "if not first is None:")]),
    ("break_to_continue", [("break", "continue")]),
    ("continue_to_break", [("continue", "break")]),
    ("loop_zero_iterations", [("for x in items:", "for x in []:")]),
    ("decorator_removed", [("@functools.cache", "")]),
    ("arguments_swapped", [("total = g(a, b)", "total = g(b, a)")]),
    ("except_nothing", [("except ValueError:", "except ():")]),
    ("early_return", [("", "return None"), ("", "return None")]),
])
def test_each_operator_makes_its_mutants(operator: str, expected: list[tuple[str, str]]) -> None:
    assert changes(SAMPLE, operator) == expected


def test_statement_removed_is_replaced_by_pass_except_imports_and_docstrings() -> None:
    removed = [before for before, after in changes(SAMPLE, "statement_removed")]
    assert all(after == "pass" for _, after in changes(SAMPLE, "statement_removed"))
    assert removed == ["total: int | None = 0", "total = g(a, b)", "total += 1", "return -a",
                       "break", "continue", "total = total * 2", 'raise KeyError(f"no {a + 1}")',
                       "return total if a >= b else None", "return second", "return first"]


def test_with_dropped_dedents_its_body_in_place() -> None:
    ops = [entry for entry in OPERATORS if entry[0] == "with_dropped"]
    (mutant,) = generate_mutants(SAMPLE, ops).mutants
    assert "    with lock:\n        total = g(a, b)\n    if a < b" in SAMPLE
    assert "    total: int | None = 0\n    total = g(a, b)\n    if a < b" in mutant.source


def test_early_return_goes_after_the_docstring() -> None:
    ops = [entry for entry in OPERATORS if entry[0] == "early_return"]
    first, second = generate_mutants(SAMPLE, ops).mutants
    assert '"""Docstring: a > b."""\n    return None\n    total: int' in first.source
    assert "-> int | None:\n    return None\n    if first is None:" in second.source


def test_protected_places_are_not_mutated() -> None:
    mutants = generate_mutants(SAMPLE).mutants
    touched = {m.line for m in mutants}
    lines = SAMPLE.splitlines()
    untouched = {i + 1 for i, line in enumerate(lines)
                 if line.startswith(('"""', "import", "__all__", "    print", "if __name__"))
                 or "Docstring" in line}
    assert not touched & untouched
    for mutant in mutants:  # nothing inside annotations, strings or the signature's `*`
        assert "int & None" not in mutant.source
        assert "{a - 1}" not in mutant.source and "{a + 2}" not in mutant.source
        assert "(first, second, /, third" not in mutant.source


def test_ids_are_stable_readable_and_unique() -> None:
    first = generate_mutants(SAMPLE).mutants
    second = generate_mutants(SAMPLE).mutants
    assert [m.id for m in first] == [m.id for m in second]
    assert len({m.id for m in first}) == len(first)
    for mutant in first:
        assert re.fullmatch(rf"{mutant.operator}@{mutant.line}:{mutant.col}#\d+-[0-9a-f]{{6}}",
                            mutant.id)
    ids = {m.id for m in first}
    assert any(i.startswith("lt_to_le@13:10#0-") for i in ids)


def test_an_edited_line_changes_only_its_own_ids() -> None:
    before = {m.id for m in generate_mutants(SAMPLE).mutants}
    edited = SAMPLE.replace("total = total * 2", "total = total * 5")
    after = {m.id for m in generate_mutants(edited).mutants}
    changed = {i.split("-")[0] for i in before ^ after}
    assert changed == {"statement_removed@22:9#0", "mul_to_div@22:23#0",
                       "number_plus_one@22:25#0", "number_minus_one@22:25#0"}


def test_invalid_and_unchanged_mutants_are_dropped() -> None:
    source = ("def outer():\n    count = 0\n    def inner():\n        nonlocal count\n"
              "        count += 1\n    for _ in []:\n        inner()\n")
    generation = generate_mutants(source)
    assert generation.invalid == 1  # without `count = 0`, `nonlocal count` binds nothing
    assert generation.same == 1  # `for _ in []` made to iterate over `[]`
    assert not any(m.id.startswith("statement_removed@2:") for m in generation.mutants)
    for mutant in generation.mutants:
        compile(mutant.source, "<mutant>", "exec")


def test_every_kept_q3_mutant_compiles_and_differs() -> None:
    source = (REPO / "reference" / "q3_decorator.py").read_text()
    generation = generate_mutants(source)
    assert 100 <= len(generation.mutants) <= 300
    assert len({m.source for m in generation.mutants}) == len(generation.mutants)
    assert not any("__all__" in m.original_line or "__slots__" in m.original_line
                   for m in generation.mutants)


# -- the report, from made-up gradings --------------------------------------------------

def _probe_with(equivalents: dict[str, str], minimum: float = 0.5) -> Challenge:
    probe = load_challenge(PROBE)
    config = probe.config.model_copy(update={"validate_": ValidateConfig(
        min_mutation_score=minimum, equivalent_mutants=equivalents)})
    return Challenge(probe.root, config)


def _mutant(mutant_id: str) -> Mutant:
    source = PROBE_REFERENCE.read_text().replace("return total", "return -total")
    return Mutant(id=mutant_id, operator=mutant_id.split("@")[0], label="statement removed",
                  line=5, col=5, source=source,
                  original_line="entry = cache[key]")


PASSED = Graded("passed", (), "Passed.", 1.0)
FAILED = Graded("failed", ("test_work_returns_n",), "Not passed.", 1.0)
ERROR = Graded("error", ("test_work_returns_n", "test_work_zero"), "Not graded.", 1.0)
OPTIONAL = Graded("passed", ("test_steps_are_few[1]",), "Passed.", 1.0)


def _report(equivalents: dict[str, str], graded: dict[str, Graded], minimum: float = 0.5):
    generation = Generation(mutants=[_mutant(i) for i in graded], invalid=2, same=1)
    return build_report(_probe_with(equivalents, minimum), generation, graded)


def test_score_counts_and_records() -> None:
    report = _report(
        {"a@1:1#0-000000": "never observable", "e@1:1#0-000000": "wrongly recorded",
         "gone@9:9#0-abcdef": "the line changed since"},
        {"a@1:1#0-000000": PASSED, "b@1:1#0-000000": PASSED, "c@1:1#0-000000": FAILED,
         "d@1:1#0-000000": ERROR, "e@1:1#0-000000": FAILED, "f@1:1#0-000000": OPTIONAL})
    assert report.generated == 6
    assert [o.mutant.id for o in report.equivalents] == ["a@1:1#0-000000", "e@1:1#0-000000"]
    assert [o.mutant.id for o in report.survivors] == ["b@1:1#0-000000"]
    assert [o.mutant.id for o in report.killed] == ["c@1:1#0-000000", "d@1:1#0-000000",
                                                   "f@1:1#0-000000"]
    assert [o.mutant.id for o in report.killed_by_error] == ["d@1:1#0-000000"]
    assert [o.mutant.id for o in report.killed_verdict_passed] == ["f@1:1#0-000000"]
    assert [o.mutant.id for o in report.wrong_equivalents] == ["e@1:1#0-000000"]
    assert report.stale_equivalents == {"gone@9:9#0-abcdef": "the line changed since"}
    assert report.score == pytest.approx(3 / 4)
    assert report.passed
    assert not _report({}, {"b@1:1#0-000000": PASSED, "c@1:1#0-000000": FAILED},
                       minimum=0.95).passed


def test_a_mutant_not_graded_or_a_failing_reference_fails_the_run() -> None:
    report = _report({}, {"c@1:1#0-000000": FAILED,
                          "x@1:1#0-000000": Graded("not graded", (), "BrokenProcessPool", 0.0)},
                     minimum=0.0)
    assert [o.mutant.id for o in report.not_graded] == ["x@1:1#0-000000"]
    assert not report.passed
    report = _report({}, {"c@1:1#0-000000": FAILED}, minimum=0.0)
    assert report.passed
    report.reference_problem = "the reference does not pass"
    assert not report.passed


def test_render_shows_score_survivor_diffs_and_records() -> None:
    report = _report({"e@1:1#0-000000": "wrong", "gone@9:9#0-abcdef": "stale"},
                     {"b@1:1#0-000000": PASSED, "c@1:1#0-000000": FAILED,
                      "e@1:1#0-000000": OPTIONAL})
    out = io.StringIO()
    render_mutants(report, Console(file=out, width=100, no_color=True))
    text = out.getvalue()
    assert "mutation score 1/2 = 50.0% (minimum 50%)" in text
    assert "b@1:1#0-000000  line 5: statement removed in `entry = cache[key]`" in text
    assert "--- a/probe.py" in text and "+++ b/probe.py" in text
    assert "-    return total\n+    return -total\n" in text
    assert "wrong record e@1:1#0-000000" in text and "test_steps_are_few[1]" in text
    assert "stale record gone@9:9#0-abcdef" in text
    assert "remove it from [validate.equivalent_mutants]" in text  # brackets shown, not markup
    assert 'record it in challenge.toml under [validate.equivalent_mutants] as "<id>"' in text
    assert "c@1:1#0-000000" not in text  # killed: not shown


# -- the whole run, on the probe challenge ---------------------------------------------

def test_probe_mutants_are_all_killed() -> None:
    """Every mutant of the probe reference fails a test; those of steps() fail only the
    excellence test, so their run would still pass: killed, and counted apart."""
    lines: list[str] = []
    report = run_mutants(load_challenge(PROBE), sandbox="process", jobs=2, log=lines.append)
    assert report.reference_problem is None
    assert report.generated == 11 and not report.not_graded
    assert report.survivors == [] and report.equivalents == []
    assert report.score == 1.0 and report.passed
    assert report.killed_by_error == []
    assert {o.mutant.id for o in report.killed_verdict_passed} == {
        "early_return@8:1#0-0c038a", "statement_removed@9:5#0-601186"}
    assert {o.mutant.id for o in report.outcomes} == {
        "early_return@1:1#0-a52348", "statement_removed@2:5#0-a90c19",
        "number_plus_one@2:13#0-a90c19", "number_minus_one@2:13#0-a90c19",
        "loop_zero_iterations@3:14#0-925b51", "statement_removed@4:9#0-dc87cd",
        "number_plus_one@4:18#0-dc87cd", "number_minus_one@4:18#0-dc87cd",
        "statement_removed@5:5#0-cab9cf", "early_return@8:1#0-0c038a",
        "statement_removed@9:5#0-601186"}
    assert lines[0].startswith("11 mutants of") and len(lines) == 12
