"""Similarity flags: near-copies are found through renaming, reordering and new comments;
independent solutions are not flagged.

The thresholds of graders/similarity.py rest on these figures (Jaccard index, the stub's
fingerprints left out), measured on the repository's challenges:

    reference vs itself, every identifier renamed, functions and methods
    reversed, comments and formatting gone (ast.unparse)     0.87 to 0.99
    q6 reference vs an independent correct design
    (tests/fixtures/similarity/q6_independent.py)             0.02
    reference vs the guide's adapted answers (known_bad/guide_*)  0.01 to 0.06
    reference vs known-bads written from it (q3 no_single_flight)  0.56: flagged, rightly
    reference vs other designs by the same author (q6 one_sided, recursive, ...) 0.12 to 0.37

so a pair is flagged from 0.5: every disguised copy is far above, every independent
design far below.
"""

from __future__ import annotations

import ast
import builtins
import io
import tokenize
from pathlib import Path

import pytest

from graders import similarity
from graders.batch import known_sources
from graders.challenge import list_challenges, load_challenge
from tests.conftest import REPO

CHALLENGES = [c.id for c in list_challenges() if c.reference_path.is_file()]
INDEPENDENT_Q6 = REPO / "tests" / "fixtures" / "similarity" / "q6_independent.py"


def disguise(source: str) -> str:
    """`source` as a plagiarist would hand it in: every name the file defines renamed,
    top-level functions and classes and the methods of each class in reverse order,
    comments and docstrings' formatting gone, the layout redone."""
    tree = ast.parse(source)
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            defined.add(node.attr)
    defined -= {"self", "cls"} | set(dir(builtins))
    renamed = {old: f"v{number}_{old.strip('_')[::-1]}"
               for number, old in enumerate(sorted(defined))}

    def reorder(body: list[ast.stmt]) -> None:
        kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        places = [i for i, node in enumerate(body) if isinstance(node, kinds)]
        nodes = [body[i] for i in places]
        for place, node in zip(places, reversed(nodes), strict=True):
            body[place] = node
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                reorder(node.body)

    reorder(tree.body)
    text = ast.unparse(tree)
    tokens = [token._replace(string=renamed.get(token.string, token.string))
              if token.type == tokenize.NAME else token
              for token in tokenize.generate_tokens(io.StringIO(text).readline)]
    return "# handed in by someone else\n" + tokenize.untokenize(tokens)


def _sources(challenge_id: str) -> similarity.Sources:
    return known_sources(load_challenge(challenge_id))


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_a_disguised_copy_is_flagged_against_its_original_and_the_reference(challenge_id):
    challenge = load_challenge(challenge_id)
    original = challenge.reference_path.read_text()
    copy = disguise(original)
    assert "def " in copy and copy != original
    documents = [similarity.fingerprint("original", original),
                 similarity.fingerprint("copy", copy)]
    flags = similarity.flags(documents, _sources(challenge_id))
    pair = [m for m in flags if m.kind == "pair"]
    assert len(pair) == 1 and pair[0].similarity >= 0.8, pair
    assert {m.a for m in flags if m.kind == "reference"} == {"original", "copy"}
    assert pair[0].regions, "the matching regions are shown"


def test_an_independent_correct_solution_is_not_flagged():
    """The q6 reference and another design that passes every test (137/137 when written)."""
    reference = load_challenge("q6_bidirectional_bfs").reference_path.read_text()
    documents = [similarity.fingerprint("reference-copy", reference),
                 similarity.fingerprint("independent", INDEPENDENT_Q6.read_text())]
    flags = similarity.flags(documents, _sources("q6_bidirectional_bfs"))
    assert [m for m in flags if "independent" in (m.a, m.b)] == []
    match = similarity.compare(documents[0], documents[1])
    assert match.similarity < 0.1, match


@pytest.mark.parametrize("challenge_id", CHALLENGES)
def test_the_guides_answer_is_not_the_reference(challenge_id):
    sources = _sources(challenge_id)
    assert sources.reference is not None and sources.public
    for public in sources.public:
        match = similarity.compare(sources.reference, public, sources.stub.hashes, kind="pair")
        assert match.similarity < 0.2, (public.name, match.similarity)


def test_a_submission_copied_from_the_guide_is_flagged_as_a_public_answer():
    guide = REPO / "challenges" / "q3_decorator" / "known_bad" / "guide_q3.py"
    flags = similarity.flags([similarity.fingerprint("copied", disguise(guide.read_text()))],
                             _sources("q3_decorator"))
    kinds = {(m.kind, m.b) for m in flags}
    assert ("public answer", "[known_bad/guide_q3.py]") in kinds, flags


def test_the_stub_handed_in_is_flagged_as_the_stub():
    stub = (REPO / "challenges" / "q3_decorator" / "stub.py").read_text()
    flags = similarity.flags([similarity.fingerprint("nothing-done", stub + "\n# done!\n")],
                             _sources("q3_decorator"))
    assert [m.kind for m in flags] == ["stub"]


def test_reordering_functions_changes_no_fingerprint():
    first = "def a(x):\n    total = 0\n    for i in range(x):\n        total += i * i\n" \
            "    return total\n\n\ndef b(y):\n    return [item for item in y if item > 2]\n"
    blocks = first.split("\n\n\n")
    second = blocks[1] + "\n\n\n" + blocks[0] + "\n"
    assert similarity.fingerprint("1", first).hashes == similarity.fingerprint("2", second).hashes


def test_comments_docstrings_and_names_do_not_matter():
    one = 'def f(a, b):\n    """Sum."""\n    # add\n    c = a + b\n    return c * 2 + len([a])\n'
    two = 'def g(x, y):\n    """Another docstring."""\n    z = x + y  # note\n' \
          '    return z * 3 + len([x])\n'
    assert similarity.fingerprint("1", one).hashes == similarity.fingerprint("2", two).hashes


def test_a_shared_run_of_k_plus_w_minus_1_tokens_always_gives_a_shared_fingerprint():
    """Winnowing's guarantee, whatever surrounds the shared run."""
    shared = "    v = [a + b * c for a in range(n) if a % 2 == 0]\n"
    for prefix in ("x = 1\n", "y = {}\ny['k'] = 2\n", ""):
        one = f"def f(n, b, c):\n    {prefix.strip() or 'pass'}\n{shared}    return v\n"
        two = f"def h(n, b, c):\n{shared}    while n:\n        n -= 1\n    return None\n"
        assert similarity.fingerprint("1", one).hashes & similarity.fingerprint("2", two).hashes


def test_regions_point_at_the_copied_function(tmp_path):
    reference = (REPO / "reference" / "q6_bidirectional_bfs.py").read_text()
    filler = "".join(f"\n\ndef helper_{i}(value):\n    return value * {i} + {i}\n"
                     for i in range(3))
    padded = "import math\n" + filler + "\n\n" + reference
    match = similarity.compare(similarity.fingerprint("padded", padded),
                               similarity.fingerprint("reference", reference))
    units = {(region.a_unit, region.b_unit) for region in match.regions}
    assert ("shortest_path", "shortest_path") in units
    top = match.regions[0]
    lines = padded.splitlines()[top.a_lines[0] - 1:top.a_lines[1]]
    assert any("def shortest_path" in line or "while front and back" in line for line in lines)


def test_a_file_that_does_not_parse_is_still_compared():
    broken = (REPO / "reference" / "q6_bidirectional_bfs.py").read_text() + "\ndef oops(:\n"
    document = similarity.fingerprint("broken", broken)
    assert len(document.hashes) > similarity.MIN_FINGERPRINTS


def test_clusters_group_linked_pairs():
    def match(a: str, b: str, kind: str = "pair") -> similarity.Match:
        return similarity.Match(a, b, 0.9, 0.9, 0.9, 10, [], kind)

    found = similarity.clusters([match("a", "b"), match("b", "c"), match("d", "e"),
                                 match("f", "[reference]", "reference")])
    assert found == [["a", "b", "c"], ["d", "e"]]


def test_flags_scale_to_a_large_batch():
    reference = (REPO / "reference" / "q3_decorator.py").read_text()
    documents = [similarity.fingerprint(f"copy{i}", reference) for i in range(100)]
    flags = similarity.flags(documents, similarity.Sources(), regions_for=10)
    assert len(flags) == 100 * 99 // 2
    assert all(m.regions for m in flags[:10]) and not any(m.regions for m in flags[10:])


def test_known_sources_are_the_stub_the_reference_and_the_guide(tmp_path):
    sources = _sources("q3_decorator")
    names = [p.name for p in sources.public]
    assert "[public_answers/guide_q3.py]" in names and "[known_bad/guide_q3.py]" in names
    assert Path(REPO / "challenges" / "q3_decorator" / "public_answers" / "guide_q3.py").is_file()
