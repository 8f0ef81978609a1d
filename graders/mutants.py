"""Mutation testing of a challenge's hidden suite: `grade validate --mutants` (DESIGN §8).

One-point mutants of the reference are generated, each graded for correctness
only (no performance phase) in a fresh interpreter, in parallel. The suite
kills a mutant when any of its tests does not pass (a mutant that does not
import kills every test). The mutation score is

    killed / (generated - recorded equivalents)

and each survivor is shown as a diff against the reference, for the author to
judge: a test is missing, or the mutant is equivalent to the reference and is
recorded as such in challenge.toml, with the reason:

    [validate]
    min_mutation_score = 0.95
    [validate.equivalent_mutants]
    "ge_to_gt@94:41#0-3fa2c1" = "t0 - stored[oldest] is never exactly ttl: ..."

Generation. The operators of cosmic-ray (comparison and binary operator
replacement, unary `not`/`-` removal, `and`/`or` and `True`/`False` swaps,
`break`/`continue`, zero-iteration `for`, decorator removal, numbers +-1) are
used as they are, through their parso-tree interface (`mutation_positions`,
`mutate`) and `cosmic_ray.mutating.MutationVisitor.mutate_code`, which applies
one occurrence. Of their replacement tables a subset is kept, so that a
180-line reference gives a few hundred mutants, not thousands: each comparison
is negated and has its boundary moved (`<` to `>=` and `<=`), each arithmetic
operator gets its inverse. The operators cosmic-ray lacks are written here in
the same interface: a condition negated as a whole (cosmic-ray's `AddNot`
writes `not a and b`, which negates `a` only, and skips `elif`), `in`/`not in`
flipped, a statement removed, two adjacent positional arguments swapped, a
`with` block dropped (its body dedented in its place), an early `return None`
at a function's start, and an exception handler that catches nothing.

Nothing is mutated inside strings (docstrings, messages, f-strings),
annotations, `__all__`/`__slots__`-like dunder assignments, or `if __name__ ==
"__main__":` and `if TYPE_CHECKING:` blocks; imports and `global`/`nonlocal`
declarations are not removed. A mutant that does not compile, or whose AST is
the reference's or an earlier mutant's, is dropped.

Mutant ids, stable across runs: `<operator>@<line>:<col>#<n>-<digest>`, where
line and col (both 1-based) are where the mutated code starts, n numbers the
mutants one operator makes at that same place (almost always 0), and digest is
6 hex digits of the SHA-256 of the mutated lines' original text (stripped): an
edit of the mutated line, or one that moves it, changes the id, and the recorded
judgement then shows up as stale, to be made again.
"""

from __future__ import annotations

import ast
import concurrent.futures
import difflib
import hashlib
import multiprocessing
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import parso
import parso.tree
from cosmic_ray.ast import ast_nodes
from cosmic_ray.mutating import MutationVisitor
from cosmic_ray.operators import (
    binary_operator_replacement,
    boolean_replacer,
    break_continue,
    comparison_operator_replacement,
    remove_decorator,
    unary_operator_replacement,
    zero_iteration_for_loop,
)
from cosmic_ray.operators.number_replacer import NumberReplacer
from cosmic_ray.operators.operator import Operator
from parso.python.tree import Keyword, Number
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from graders.challenge import Challenge

Position = tuple[tuple[int, int], tuple[int, int]]

# -- operators written here, in cosmic-ray's interface ----------------------------------


class _Code(parso.tree.Leaf):
    """Replacement source text standing in for a subtree: only its code is ever read."""

    type = "mutated_code"


def _prefix(node: Any) -> str:
    return str(node.get_first_leaf().prefix)


def _indent(prefix: str) -> str:
    """The indentation at the end of a prefix (the whitespace before a statement)."""
    return prefix.rsplit("\n", 1)[-1]


def _code(node: Any) -> str:
    return str(node.get_code(include_prefix=False))


def _is_docstring(stmt: Any) -> bool:
    return bool(stmt.type == "simple_stmt" and stmt.children[0].type in ("string", "strings"))


class _Own(Operator):
    """Base of the operators written here: one mutation per position."""

    @classmethod
    def examples(cls) -> tuple[()]:
        return ()


class NegateCondition(_Own):
    """`if c:` / `elif c:` / `while c:` / `assert c` / `a if c else b` -> `not (c)`.

    A condition that already starts with `not` is left to the `not_removed` operator.
    """

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        parent = node.parent
        if parent is None or node.type == "not_test":
            return
        if parent.type in ("if_stmt", "while_stmt", "assert_stmt"):
            index = parent.children.index(node)
            if index > 0 and parent.children[index - 1].type == "keyword" and \
                    parent.children[index - 1].value in ("if", "elif", "while", "assert"):
                yield node.start_pos, node.end_pos
        elif parent.type == "test" and len(parent.children) == 5 and parent.children[2] is node:
            yield node.start_pos, node.end_pos

    def mutate(self, node: Any, index: int) -> Any:
        text = _code(node)
        if node.type in ("and_test", "or_test", "test", "lambdef", "namedexpr_test"):
            text = f"({text})"  # `not` binds tighter than these
        return _Code(f"not {text}", node.start_pos, prefix=_prefix(node))


class FlipMembership(_Own):
    """`in` -> `not in`, or `not in` -> `in`."""

    def __init__(self, negated: bool) -> None:
        self.source = "not in" if negated else "in"
        self.target = "in" if negated else "not in"

    def _points(self, node: Any) -> list[int]:
        if node.type != "comparison":
            return []
        return [i for i in range(1, len(node.children), 2)
                if " ".join(_code(node.children[i]).split()) == self.source]

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        for i in self._points(node):
            yield node.children[i].start_pos, node.children[i].end_pos

    def mutate(self, node: Any, index: int) -> Any:
        i = self._points(node)[index]
        old = node.children[i]
        node.children[i] = _Code(self.target, old.start_pos, prefix=_prefix(old))
        return node


_UNREMOVABLE = ("import_name", "import_from", "global_stmt", "nonlocal_stmt", "string",
                "strings", "newline", "operator")


class RemoveStatement(_Own):
    """A simple statement replaced by `pass` (imports, declarations and docstrings kept)."""

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        if node.parent is None or node.parent.type != "simple_stmt":
            return
        if node.type in _UNREMOVABLE or (node.type == "keyword" and node.value == "pass"):
            return
        if node.type == "expr_stmt" and node.children[-1].type == "annassign" and \
                len(node.children[-1].children) == 2:  # `x: int`, no value: nothing to remove
            return
        yield node.start_pos, node.end_pos

    def mutate(self, node: Any, index: int) -> Any:
        return Keyword("pass", node.start_pos, prefix=_prefix(node))


class SwapArguments(_Own):
    """Two adjacent positional arguments of a call swapped: `f(a, b)` -> `f(b, a)`."""

    @staticmethod
    def _pairs(node: Any) -> list[tuple[int, int]]:
        if node.type != "arglist" or node.parent is None or node.parent.type != "trailer" or \
                node.parent.children[0].value != "(":
            return []
        args = [i for i, child in enumerate(node.children) if child.type != "operator"]
        return [(i, j) for i, j in zip(args, args[1:], strict=False)
                if node.children[i].type != "argument" and node.children[j].type != "argument"
                and node.children[i].type != "star_expr" and node.children[j].type != "star_expr"
                and _code(node.children[i]) != _code(node.children[j])]

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        for i, j in self._pairs(node):
            yield node.children[i].start_pos, node.children[j].end_pos

    def mutate(self, node: Any, index: int) -> Any:
        i, j = self._pairs(node)[index]
        first, second = node.children[i], node.children[j]
        node.children[i] = _Code(_code(second), first.start_pos, prefix=_prefix(first))
        node.children[j] = _Code(_code(first), second.start_pos, prefix=_prefix(second))
        return node


def _multiline_string(node: Any) -> bool:
    return any(n.type in ("string", "fstring_string") and "\n" in n.value
               for n in ast_nodes(node) if isinstance(n, parso.tree.Leaf))


class DropWith(_Own):
    """`with lock:` dropped: its body, dedented, runs in its place.

    A `with` that binds a name (`as x`) is left alone: dropping it would only
    leave `x` undefined. So is one whose body holds a multi-line string, which
    dedenting would change.
    """

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        if node.type != "with_stmt":
            return
        header = node.children[1:-2]
        if any(item.type == "with_item" for item in header) or _multiline_string(node):
            return
        yield node.start_pos, node.children[-2].end_pos

    def mutate(self, node: Any, index: int) -> Any:
        prefix = _prefix(node)
        indent = _indent(prefix)
        body = node.children[-1]
        if body.type == "suite":
            text = textwrap.dedent("".join(c.get_code() for c in body.children[1:]))
            text = "".join(indent + line if line.strip() else line
                           for line in text.splitlines(keepends=True))[len(indent):]
        else:
            text = _code(body)
        return _Code(text, node.start_pos, prefix=prefix[:len(prefix) - len(indent)] + indent)


_TRIVIAL_BODY = {"pass", "...", "return", "return None"}


class EarlyReturn(_Own):
    """`return None` inserted as a function's first statement (after its docstring)."""

    @staticmethod
    def _target(node: Any) -> Any:
        if node.type != "funcdef":
            return None
        body = node.children[-1]
        statements = body.children[1:] if body.type == "suite" else [body]
        statements = [s for s in statements if s.type != "newline"]
        if statements and _is_docstring(statements[0]):
            statements = statements[1:]
        if all(_code(s).strip() in _TRIVIAL_BODY for s in statements):
            return None
        return statements[0]

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        if self._target(node) is not None:
            yield node.start_pos, node.children[1].end_pos

    def mutate(self, node: Any, index: int) -> Any:
        target = self._target(node)
        prefix = _prefix(target)
        if target.parent.type == "suite":
            text = "return None\n" + _indent(prefix) + _code(target)
        else:  # `def f(): body` on one line
            text = "return None; " + _code(target)
        siblings = target.parent.children
        siblings[siblings.index(target)] = _Code(text, target.start_pos, prefix=prefix)
        return node


class CatchNothing(_Own):
    """`except E:` -> `except ():`, a handler that catches nothing."""

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        if node.type == "except_clause" and _code(node.children[1]) != "()":
            yield node.children[1].start_pos, node.children[1].end_pos

    def mutate(self, node: Any, index: int) -> Any:
        old = node.children[1]
        node.children[1] = _Code("()", old.start_pos, prefix=_prefix(old))
        return node


class NumberOffset(NumberReplacer):
    """cosmic-ray's number replacer, one offset per operator, the number's spacing kept."""

    def __init__(self, offset: int) -> None:
        self.index = [1, -1].index(offset)

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        for i, position in enumerate(super().mutation_positions(node)):
            if i == self.index:
                yield position

    def mutate(self, node: Any, index: int) -> Any:
        mutated = super().mutate(node, self.index)
        return Number(mutated.value.strip(), node.start_pos, prefix=node.prefix)


class RemoveDecorator(remove_decorator.RemoveDecorator):
    """cosmic-ray's decorator removal, keeping the blank lines and comments before it."""

    def mutate(self, node: Any, index: int) -> Any:
        prefix = _prefix(node)
        return _Code("", node.start_pos, prefix=prefix[:len(prefix) - len(_indent(prefix))])


# -- where nothing is mutated -----------------------------------------------------------

_SKIPPED_NAMES = {"__all__", "__slots__", "__version__", "__author__", "__match_args__"}
_SKIPPED_BLOCKS = {'__name__ == "__main__"', "__name__ == '__main__'", "TYPE_CHECKING",
                   "typing.TYPE_CHECKING"}
_SIGNATURE_TYPES = ("parameters", "lambdef", "varargslist", "tfpdef")


def _protected(node: Any) -> bool:
    """Whether `node` lies where no mutation is wanted (see the module docstring)."""
    if node.type == "operator" and node.parent is not None and \
            node.parent.type in _SIGNATURE_TYPES:  # `*` and `/` markers of a signature
        return True
    child: Any = None
    while node is not None:
        kind = node.type
        if kind in ("string", "strings", "fstring"):
            return True
        if kind == "expr_stmt" and node.children[0].type == "name" and \
                node.children[0].value in _SKIPPED_NAMES:
            return True
        if child is not None:  # `child` is an annotation of `node`
            if kind == "tfpdef" and child is not node.children[0]:
                return True
            if kind == "annassign" and child is node.children[1]:
                return True
            if kind == "funcdef" and child is node.annotation:
                return True
            if kind == "if_stmt" and \
                    " ".join(_code(node.children[1]).split()) in _SKIPPED_BLOCKS:
                return True
        child, node = node, node.parent
    return False


class _Guarded(Operator):
    """An operator that makes no mutation where `_protected` says so."""

    def __init__(self, inner: Operator) -> None:
        self.inner = inner

    def mutation_positions(self, node: Any) -> Iterator[Position]:
        positions = list(self.inner.mutation_positions(node))
        if positions and not _protected(node):
            yield from positions

    def mutate(self, node: Any, index: int) -> Any:
        return self.inner.mutate(node, index)

    @classmethod
    def examples(cls) -> tuple[()]:
        return ()


def _cosmic(module: Any, name: str) -> Operator:
    return getattr(module, name)()


_CMP = comparison_operator_replacement
_BIN = binary_operator_replacement
_UNARY = unary_operator_replacement

# (id prefix, what it does, operator). The id prefixes are part of the recorded
# ids: rename one and every record made with it goes stale.
OPERATORS: list[tuple[str, str, Operator]] = [
    ("eq_to_ne", "`==` -> `!=`", _cosmic(_CMP, "ReplaceComparisonOperator_Eq_NotEq")),
    ("ne_to_eq", "`!=` -> `==`", _cosmic(_CMP, "ReplaceComparisonOperator_NotEq_Eq")),
    ("lt_to_le", "`<` -> `<=`", _cosmic(_CMP, "ReplaceComparisonOperator_Lt_LtE")),
    ("lt_to_ge", "`<` -> `>=`", _cosmic(_CMP, "ReplaceComparisonOperator_Lt_GtE")),
    ("le_to_lt", "`<=` -> `<`", _cosmic(_CMP, "ReplaceComparisonOperator_LtE_Lt")),
    ("le_to_gt", "`<=` -> `>`", _cosmic(_CMP, "ReplaceComparisonOperator_LtE_Gt")),
    ("gt_to_ge", "`>` -> `>=`", _cosmic(_CMP, "ReplaceComparisonOperator_Gt_GtE")),
    ("gt_to_le", "`>` -> `<=`", _cosmic(_CMP, "ReplaceComparisonOperator_Gt_LtE")),
    ("ge_to_gt", "`>=` -> `>`", _cosmic(_CMP, "ReplaceComparisonOperator_GtE_Gt")),
    ("ge_to_lt", "`>=` -> `<`", _cosmic(_CMP, "ReplaceComparisonOperator_GtE_Lt")),
    ("is_to_is_not", "`is` -> `is not`", _cosmic(_CMP, "ReplaceComparisonOperator_Is_IsNot")),
    ("is_not_to_is", "`is not` -> `is`", _cosmic(_CMP, "ReplaceComparisonOperator_IsNot_Is")),
    ("in_to_not_in", "`in` -> `not in`", FlipMembership(negated=False)),
    ("not_in_to_in", "`not in` -> `in`", FlipMembership(negated=True)),
    ("add_to_sub", "`+` -> `-`", _cosmic(_BIN, "ReplaceBinaryOperator_Add_Sub")),
    ("sub_to_add", "`-` -> `+`", _cosmic(_BIN, "ReplaceBinaryOperator_Sub_Add")),
    ("mul_to_div", "`*` -> `/`", _cosmic(_BIN, "ReplaceBinaryOperator_Mul_Div")),
    ("div_to_mul", "`/` -> `*`", _cosmic(_BIN, "ReplaceBinaryOperator_Div_Mul")),
    ("floordiv_to_div", "`//` -> `/`", _cosmic(_BIN, "ReplaceBinaryOperator_FloorDiv_Div")),
    ("mod_to_floordiv", "`%` -> `//`", _cosmic(_BIN, "ReplaceBinaryOperator_Mod_FloorDiv")),
    ("pow_to_mul", "`**` -> `*`", _cosmic(_BIN, "ReplaceBinaryOperator_Pow_Mul")),
    ("lshift_to_rshift", "`<<` -> `>>`", _cosmic(_BIN, "ReplaceBinaryOperator_LShift_RShift")),
    ("rshift_to_lshift", "`>>` -> `<<`", _cosmic(_BIN, "ReplaceBinaryOperator_RShift_LShift")),
    ("bitor_to_bitand", "`|` -> `&`", _cosmic(_BIN, "ReplaceBinaryOperator_BitOr_BitAnd")),
    ("bitand_to_bitor", "`&` -> `|`", _cosmic(_BIN, "ReplaceBinaryOperator_BitAnd_BitOr")),
    ("bitxor_to_bitor", "`^` -> `|`", _cosmic(_BIN, "ReplaceBinaryOperator_BitXor_BitOr")),
    ("not_removed", "`not` removed", _cosmic(_UNARY, "ReplaceUnaryOperator_Delete_Not")),
    ("minus_removed", "unary `-` removed", _cosmic(_UNARY, "ReplaceUnaryOperator_Delete_USub")),
    ("and_to_or", "`and` -> `or`", boolean_replacer.ReplaceAndWithOr()),
    ("or_to_and", "`or` -> `and`", boolean_replacer.ReplaceOrWithAnd()),
    ("true_to_false", "`True` -> `False`", boolean_replacer.ReplaceTrueWithFalse()),
    ("false_to_true", "`False` -> `True`", boolean_replacer.ReplaceFalseWithTrue()),
    ("condition_negated", "condition negated", NegateCondition()),
    ("number_plus_one", "number + 1", NumberOffset(+1)),
    ("number_minus_one", "number - 1", NumberOffset(-1)),
    ("break_to_continue", "`break` -> `continue`", break_continue.ReplaceBreakWithContinue()),
    ("continue_to_break", "`continue` -> `break`", break_continue.ReplaceContinueWithBreak()),
    ("loop_zero_iterations", "`for` loop over nothing",
     zero_iteration_for_loop.ZeroIterationForLoop()),
    ("decorator_removed", "decorator removed", RemoveDecorator()),
    ("statement_removed", "statement removed", RemoveStatement()),
    ("arguments_swapped", "arguments swapped", SwapArguments()),
    ("with_dropped", "`with` dropped, its body kept", DropWith()),
    ("early_return", "`return None` at the function's start", EarlyReturn()),
    ("except_nothing", "handler catches nothing", CatchNothing()),
]


# -- generation -------------------------------------------------------------------------

@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str
    label: str  # what the operator does
    line: int
    col: int  # 1-based
    source: str  # the whole mutated module
    original_line: str  # the reference's text at `line`, stripped

    @property
    def description(self) -> str:
        return f"line {self.line}: {self.label} in `{self.original_line}`"

    def diff(self, reference: str, name: str = "reference.py") -> str:
        return "".join(difflib.unified_diff(
            reference.splitlines(keepends=True), self.source.splitlines(keepends=True),
            f"a/{name}", f"b/{name}", n=2))


@dataclass
class Generation:
    mutants: list[Mutant]
    invalid: int = 0  # dropped: did not compile
    same: int = 0  # dropped: the reference's AST, or an earlier mutant's


def _digest(lines: list[str], start: int, end: int) -> str:
    text = "\n".join(line.strip() for line in lines[start - 1:end])
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def generate_mutants(source: str, operators: list[tuple[str, str, Operator]] | None = None
                     ) -> Generation:
    """Every one-point mutant of `source` by `operators` (default: OPERATORS), in a
    deterministic order (by place, then operator), without invalid or repeated ones."""
    lines = source.splitlines()
    tree = parso.parse(source)
    nodes = list(ast_nodes(tree))
    seen = {ast.dump(ast.parse(source))}
    found: list[tuple[tuple[int, int], int, Mutant]] = []
    generation = Generation(mutants=[])
    for rank, (name, label, inner) in enumerate(operators or OPERATORS):
        operator = _Guarded(inner)
        places: dict[tuple[int, int], int] = {}
        occurrence = -1
        for node in nodes:
            for (start, end) in operator.mutation_positions(node):
                occurrence += 1
                n = places[start] = places.get(start, -1) + 1
                mutated = MutationVisitor.mutate_code(source, operator, occurrence)
                if mutated is None:
                    continue
                try:
                    compile(mutated, "<mutant>", "exec", dont_inherit=True)
                    dumped = ast.dump(ast.parse(mutated))
                except (SyntaxError, ValueError):
                    generation.invalid += 1
                    continue
                if dumped in seen:
                    generation.same += 1
                    continue
                seen.add(dumped)
                line, col = start[0], start[1] + 1
                mutant_id = f"{name}@{line}:{col}#{n}-{_digest(lines, line, end[0])}"
                found.append((start, rank, Mutant(
                    id=mutant_id, operator=name, label=label, line=line, col=col,
                    source=mutated, original_line=lines[line - 1].strip())))
    found.sort(key=lambda item: (item[0], item[1]))
    generation.mutants = [mutant for _, _, mutant in found]
    return generation


# -- grading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Graded:
    """What a child process reports of one grading: small and picklable."""

    status: str  # the result's status, or "not graded" when grading itself failed
    failed_tests: tuple[str, ...]
    message: str
    duration_s: float


def grade_source(challenge_root: str, source: str, name: str, sandbox: str) -> Graded:
    """Grade `source` as a submission, for correctness only. Run in a fresh interpreter."""
    from graders.challenge import load_challenge
    from graders.runner import grade
    from graders.submission import Submission

    start = time.perf_counter()
    challenge = load_challenge(Path(challenge_root))
    submission = Submission(path=Path(name), source=source,
                            sha256=hashlib.sha256(source.encode()).hexdigest())
    result = grade(challenge, submission, sandbox=sandbox, measure=False)
    return Graded(status=result.status,
                  failed_tests=tuple(t.name for t in result.tests if t.status != "passed"),
                  message=result.message, duration_s=round(time.perf_counter() - start, 3))


@dataclass
class MutantOutcome:
    mutant: Mutant
    graded: Graded
    equivalent: str | None = None  # the recorded reason, when recorded as equivalent

    @property
    def killed(self) -> bool:
        """Some test did not pass (so a mutant that does not import is killed too)."""
        return self.graded.status in ("failed", "error") or bool(self.graded.failed_tests)

    @property
    def not_graded(self) -> bool:
        return self.graded.status not in ("passed", "failed", "error")


@dataclass
class MutationReport:
    challenge: str
    reference: str  # its path, for the diffs
    reference_source: str
    min_score: float
    outcomes: list[MutantOutcome] = field(default_factory=list)
    stale_equivalents: dict[str, str] = field(default_factory=dict)  # recorded, not generated
    reference_problem: str | None = None  # the reference did not pass in full
    invalid: int = 0
    same: int = 0
    jobs: int = 1
    duration_s: float = 0.0

    @property
    def generated(self) -> int:
        return len(self.outcomes)

    def _judged(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.equivalent is None]

    @property
    def equivalents(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.equivalent is not None]

    @property
    def killed(self) -> list[MutantOutcome]:
        return [o for o in self._judged() if o.killed]

    @property
    def killed_by_error(self) -> list[MutantOutcome]:
        """Killed because the mutant does not import (or the run is an error)."""
        return [o for o in self.killed if o.graded.status == "error"]

    @property
    def killed_verdict_passed(self) -> list[MutantOutcome]:
        """Killed by tests that are not required: the mutant would still get `passed`."""
        return [o for o in self.killed if o.graded.status == "passed"]

    @property
    def survivors(self) -> list[MutantOutcome]:
        return [o for o in self._judged() if not o.killed and not o.not_graded]

    @property
    def not_graded(self) -> list[MutantOutcome]:
        return [o for o in self.outcomes if o.not_graded]

    @property
    def wrong_equivalents(self) -> list[MutantOutcome]:
        """Recorded as equivalent, yet killed: the record is wrong."""
        return [o for o in self.equivalents if o.killed]

    @property
    def score(self) -> float:
        judged = len(self._judged())
        return len(self.killed) / judged if judged else 1.0

    @property
    def passed(self) -> bool:
        return (self.reference_problem is None and not self.not_graded
                and self.score >= self.min_score)


def build_report(challenge: Challenge, generation: Generation,
                 graded: dict[str, Graded]) -> MutationReport:
    """The report of `generation` graded (`graded`: mutant id -> outcome), with the
    challenge's recorded equivalents applied."""
    recorded = challenge.config.validate_.equivalent_mutants
    ids = {m.id for m in generation.mutants}
    report = MutationReport(
        challenge=challenge.id, reference=_display_path(challenge.reference_path),
        reference_source=challenge.reference_path.read_text(encoding="utf-8"),
        min_score=challenge.config.validate_.min_mutation_score,
        stale_equivalents={k: v for k, v in recorded.items() if k not in ids},
        invalid=generation.invalid, same=generation.same)
    for mutant in generation.mutants:
        report.outcomes.append(MutantOutcome(mutant, graded[mutant.id], recorded.get(mutant.id)))
    return report


def _display_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _reference_problem(graded: Graded) -> str | None:
    if graded.status == "passed" and not graded.failed_tests:
        return None
    failing = ", ".join(graded.failed_tests) or "none"
    return (f"the unmutated reference does not pass in full (status {graded.status}, "
            f"tests not passed: {failing}; {graded.message}), so no mutant can be judged")


def run_mutants(challenge: Challenge, *, sandbox: str, jobs: int,
                log: Callable[[str], None]) -> MutationReport:
    """Generate the reference's mutants and grade each (and the reference, as a check)
    for correctness, `jobs` at a time, each in a fresh interpreter."""
    start = time.perf_counter()
    source = challenge.reference_path.read_text(encoding="utf-8")
    generation = generate_mutants(source)
    total = len(generation.mutants)
    log(f"{total} mutants of {_display_path(challenge.reference_path)} "
        f"({generation.invalid} invalid and {generation.same} duplicate ones dropped); "
        f"grading them {jobs} at a time on --sandbox {sandbox}")
    root = str(challenge.root)
    name = challenge.reference_path.name
    graded: dict[str, Graded] = {}
    reference: Graded | None = None
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context,
                                                max_tasks_per_child=1) as pool:
        ref_future = pool.submit(grade_source, root, source, name, sandbox)
        futures = {pool.submit(grade_source, root, m.source, f"{name} [{m.id}]", sandbox): m
                   for m in generation.mutants}
        try:
            reference = ref_future.result()  # a GraderError (no sandbox) ends the run here
            problem = _reference_problem(reference)
            if problem is not None:
                log(problem)
                for future in futures:
                    future.cancel()
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                mutant = futures[future]
                if future.cancelled():
                    graded[mutant.id] = Graded("not graded", (), "cancelled", 0.0)
                    continue
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - the harness failed on this mutant
                    outcome = Graded("not graded", (), f"{type(exc).__name__}: {exc}", 0.0)
                graded[mutant.id] = outcome
                judged = MutantOutcome(mutant, outcome)
                verdict = ("not graded" if judged.not_graded else "killed" if judged.killed
                           else "survived")
                why = f": {outcome.message}" if judged.not_graded else ""
                log(f"[{done}/{total}] {mutant.id}: {verdict} ({outcome.status}, "
                    f"{outcome.duration_s:.1f} s){why}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    report = build_report(challenge, generation, graded)
    report.reference_problem = _reference_problem(reference) if reference else "not graded"
    report.jobs = jobs
    report.duration_s = round(time.perf_counter() - start, 1)
    return report


# -- the report -------------------------------------------------------------------------

def _diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines(keepends=True):
        style = ("bold" if line.startswith(("+++", "---")) else "cyan" if line.startswith("@@")
                 else "green" if line.startswith("+") else "red" if line.startswith("-") else "")
        text.append(line, style=style)
    return text


def render_mutants(report: MutationReport, console: Console) -> None:
    """The mutation score, the counts, and each survivor as a diff against the reference."""
    judged = report.generated - len(report.equivalents)
    console.print(f"[bold]Mutants of {escape(report.reference)}[/]: {report.generated} generated "
                  f"({report.invalid} invalid and {report.same} duplicate ones dropped), "
                  f"graded {report.jobs} at a time in {report.duration_s:.0f} s", soft_wrap=True)
    if report.reference_problem:
        console.print(f"  [red]FAIL[/] {escape(report.reference_problem)}", soft_wrap=True)
    console.print(f"  killed {len(report.killed)}, of which {len(report.killed_by_error)} "
                  "do not import (status error) and "
                  f"{len(report.killed_verdict_passed)} fail only tests that are not required "
                  "(the run would still pass)", soft_wrap=True)
    console.print(f"  survived {len(report.survivors)}, recorded equivalent "
                  f"{len(report.equivalents)}, not graded {len(report.not_graded)}")
    mark = "[green]ok[/]" if report.passed else "[red]FAIL[/]"
    console.print(f"  {mark} mutation score {len(report.killed)}/{judged} = {report.score:.1%} "
                  f"(minimum {report.min_score:.0%})")
    for outcome in report.not_graded:
        console.print(f"  [red]not graded[/] {outcome.mutant.id}: {escape(outcome.graded.message)}",
                      soft_wrap=True)
    for outcome in report.wrong_equivalents:
        killers = escape(", ".join(outcome.graded.failed_tests) or outcome.graded.status)
        console.print(f"  [yellow]wrong record[/] {outcome.mutant.id} is recorded as "
                      f"equivalent but was killed by {killers}: remove it from "
                      "\\[validate.equivalent_mutants]", soft_wrap=True)
    for mutant_id in report.stale_equivalents:
        console.print(f"  [yellow]stale record[/] {escape(mutant_id)} names no generated "
                      "mutant (the reference changed): judge the mutant again and record its "
                      "new id, or remove it", soft_wrap=True)
    if not report.survivors:
        return
    console.print(f"Surviving mutants ({len(report.survivors)}): add a test that kills each, "
                  "or, if it is equivalent to the reference, record it in challenge.toml "
                  "under \\[validate.equivalent_mutants] as \"<id>\" = \"<why>\".", soft_wrap=True)
    name = Path(report.reference).name
    for outcome in report.survivors:
        mutant = outcome.mutant
        console.print(f"\n[bold]{mutant.id}[/]  {escape(mutant.description)}", soft_wrap=True,
                      highlight=False)
        console.print(_diff_text(mutant.diff(report.reference_source, name)), soft_wrap=True)
