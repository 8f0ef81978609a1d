"""Near-copies among submissions, and of the reference, the stub or a known public answer.

A flag is information for the hiring team, never a grade: nothing here feeds a score.

The method is MOSS's (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms
for document fingerprinting", SIGMOD 2003), on Python's own tokens:

1. **Normalise.** `tokenize` the source; drop comments, blank lines and
   docstrings; every identifier that is not a keyword or a builtin becomes `V`,
   every number `N` and every string `S`. Renaming identifiers, changing comments
   or docstrings, or reformatting leaves this stream unchanged.
2. **Split into units.** Each top-level function, each method, and the rest of
   each class and of the module is a unit of its own (found with `ast`), and
   k-grams never cross a unit's edge: reordering functions or methods leaves
   the set of fingerprints unchanged.
3. **Winnow.** Hash every k-gram of a unit (K tokens); in every window of W
   consecutive hashes keep the smallest. Any run of K + W - 1 tokens two files
   share yields at least one shared fingerprint; runs shorter than K are never
   seen (noise).
4. **Compare.** Fingerprints the stub has are the candidates' common starting
   point and are ignored (MOSS's base file). Two submissions' similarity is the
   Jaccard index of their fingerprint sets; against a known source (the
   reference, a public answer) it is the share of the submission's fingerprints
   found in the source, since a source may hold more than was copied. The
   matching regions are the line spans of the shared k-grams, paired unit by unit.

The thresholds (`PAIR_THRESHOLD`, `SOURCE_THRESHOLD`, `STUB_THRESHOLD`) were set
on the repository's challenges: see tests/test_similarity.py for the figures.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import io
import keyword
import tokenize
from collections import Counter, defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

K = 12  # tokens per k-gram: a normalised line of code is 5 to 10 tokens
W = 6  # winnowing window: every shared run of K + W - 1 = 17 tokens is found
PAIR_THRESHOLD = 0.5  # Jaccard index of two submissions
SOURCE_THRESHOLD = 0.6  # share of a submission's fingerprints found in a known source
STUB_THRESHOLD = 0.8  # share of a submission's fingerprints found in the stub
MIN_FINGERPRINTS = 8  # fewer than this (a near-empty file) is never flagged
MAX_REGIONS = 8  # matching regions shown for one pair

_BUILTINS = frozenset(dir(builtins))
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER,
            tokenize.TYPE_COMMENT}


@dataclass(frozen=True)
class Fingerprint:
    hash: int
    unit: int  # index into Document.units
    first_line: int
    last_line: int


@dataclass
class Document:
    """One file, fingerprinted."""

    name: str
    source: str
    units: list[str] = field(default_factory=list)  # a label per unit: "ttl_cache", "C.get"
    fingerprints: list[Fingerprint] = field(default_factory=list)

    @cached_property
    def hashes(self) -> frozenset[int]:
        return frozenset(f.hash for f in self.fingerprints)

    @cached_property
    def first(self) -> dict[int, Fingerprint]:
        """The first fingerprint of each hash."""
        found: dict[int, Fingerprint] = {}
        for fingerprint in self.fingerprints:
            found.setdefault(fingerprint.hash, fingerprint)
        return found


# -- normalising ------------------------------------------------------------------

def _unit_spans(source: str) -> list[tuple[str, int, int]]:
    """(label, first line, last line) of each function and method; innermost listed last."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spans: list[tuple[str, int, int]] = []

    def first_line(node: ast.AST) -> int:
        decorators = getattr(node, "decorator_list", [])
        return min([node.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            spans.append((node.name, first_line(node), node.end_lineno or node.lineno))
        elif isinstance(node, ast.ClassDef):
            spans.append((node.name, first_line(node), node.end_lineno or node.lineno))
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    spans.append((f"{node.name}.{item.name}", first_line(item),
                                  item.end_lineno or item.lineno))
    return spans


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    found: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            found.append(token)
    except (tokenize.TokenError, SyntaxError):
        pass  # a file that does not tokenize to the end is compared as far as it goes
    return found


def _normalised(tokens: Sequence[tokenize.TokenInfo]) -> list[tuple[str, int]]:
    """(normalised text, line) of each token that counts."""
    kept: list[tuple[str, int]] = []
    statement_start = True  # the next token begins a logical line
    skip_newline = False
    for index, token in enumerate(tokens):
        kind, text, line = token.type, token.string, token.start[0]
        if kind in _DROPPED:
            continue
        if kind == tokenize.NEWLINE:
            if not skip_newline:
                kept.append((";", line))
            skip_newline, statement_start = False, True
            continue
        if kind == tokenize.INDENT:
            kept.append(("{", line))
            continue
        if kind == tokenize.DEDENT:
            kept.append(("}", line))
            continue
        if kind == tokenize.STRING and statement_start and _ends_statement(tokens, index):
            skip_newline = True  # a docstring, or a string used as a comment
            statement_start = False
            continue
        statement_start = False
        if kind == tokenize.NAME:
            kept.append((text if keyword.iskeyword(text) or text in _BUILTINS else "V", line))
        elif kind == tokenize.NUMBER:
            kept.append(("N", line))
        elif kind in (tokenize.STRING, getattr(tokenize, "FSTRING_START", -1)):
            kept.append(("S", line))
        else:
            kept.append((text, line))
    return kept


def _ends_statement(tokens: Sequence[tokenize.TokenInfo], index: int) -> bool:
    """Whether the string at `index` is a whole statement (strings may be concatenated)."""
    for token in tokens[index + 1:]:
        if token.type in (tokenize.STRING, tokenize.NL, tokenize.COMMENT):
            continue
        return token.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
    return True


def _hash(gram: Sequence[str]) -> int:
    digest = hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _winnow(hashes: Sequence[int], window: int) -> list[int]:
    """Indices of the chosen hashes: the smallest of each window, the rightmost on ties."""
    if not hashes:
        return []
    if len(hashes) <= window:
        smallest = min(hashes)
        return [max(i for i, h in enumerate(hashes) if h == smallest)]
    chosen: list[int] = []
    for start in range(len(hashes) - window + 1):
        block = hashes[start:start + window]
        smallest = min(block)
        pick = start + max(i for i, h in enumerate(block) if h == smallest)
        if not chosen or chosen[-1] != pick:
            chosen.append(pick)
    return chosen


def fingerprint(name: str, source: str) -> Document:
    """The fingerprints of one file (see the module's docstring)."""
    spans = _unit_spans(source)
    document = Document(name=name, source=source, units=["(module)"])
    document.units += [span[0] for span in spans]
    streams: dict[int, list[tuple[str, int]]] = defaultdict(list)
    unit = 0
    for text, line in _normalised(_tokens(source)):
        if text != "}":  # a dedent sits on the next statement's line but ends the last one
            unit = 0
            for number, (_, first, last) in enumerate(spans, start=1):
                if first <= line <= last:  # methods follow their class: the innermost wins
                    unit = number
        streams[unit].append((text, line))
    for unit, stream in sorted(streams.items()):
        if len(stream) < K:
            continue  # too short to say anything
        texts = [text for text, _ in stream]
        hashes = [_hash(texts[i:i + K]) for i in range(len(texts) - K + 1)]
        for i in _winnow(hashes, W):
            document.fingerprints.append(
                Fingerprint(hashes[i], unit, stream[i][1], stream[i + K - 1][1]))
    return document


# -- comparing ----------------------------------------------------------------------

@dataclass
class Region:
    """Lines of `a` and of `b` that share k-grams: one pair of units."""

    a_unit: str
    a_lines: tuple[int, int]
    b_unit: str
    b_lines: tuple[int, int]
    shared: int  # fingerprints in common
    a_hits: frozenset[int] = frozenset()  # lines of a inside a shared k-gram
    b_hits: frozenset[int] = frozenset()


@dataclass
class Match:
    """How much of `a` is found in `b`, and where."""

    a: str
    b: str
    similarity: float  # Jaccard index (pairs) or share of a found in b (known sources)
    a_share: float  # of a's fingerprints, found in b
    b_share: float  # of b's fingerprints, found in a
    shared: int
    regions: list[Region]
    kind: str = "pair"  # "pair", "reference", "stub", "public answer"


def _regions(a: Document, b: Document, shared: AbstractSet[int]) -> list[Region]:
    in_a, in_b = a.first, b.first
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for value in shared:
        groups[(in_a[value].unit, in_b[value].unit)].append(value)
    regions = []
    for (unit_a, unit_b), values in groups.items():
        regions.append(Region(
            a_unit=a.units[unit_a],
            a_lines=(min(in_a[v].first_line for v in values),
                     max(in_a[v].last_line for v in values)),
            b_unit=b.units[unit_b],
            b_lines=(min(in_b[v].first_line for v in values),
                     max(in_b[v].last_line for v in values)),
            shared=len(values),
            a_hits=frozenset(n for v in values for n in range(in_a[v].first_line,
                                                              in_a[v].last_line + 1)),
            b_hits=frozenset(n for v in values for n in range(in_b[v].first_line,
                                                              in_b[v].last_line + 1))))
    regions.sort(key=lambda r: (-r.shared, r.a_lines))
    return regions[:MAX_REGIONS]


def compare(a: Document, b: Document, ignore: frozenset[int] = frozenset(),
            kind: str = "pair", regions: bool = True) -> Match:
    """`a` against `b`, the fingerprints in `ignore` (the stub's) left out; the matching
    regions too if `regions`."""
    ha, hb = a.hashes - ignore, b.hashes - ignore
    shared = ha & hb
    union = ha | hb
    a_share = len(shared) / len(ha) if ha else 0.0
    b_share = len(shared) / len(hb) if hb else 0.0
    similarity = (len(shared) / len(union) if union else 0.0) if kind == "pair" else a_share
    return Match(a=a.name, b=b.name, similarity=round(similarity, 3),
                 a_share=round(a_share, 3), b_share=round(b_share, 3), shared=len(shared),
                 regions=_regions(a, b, shared) if shared and regions else [], kind=kind)


@dataclass
class Sources:
    """What every submission is also compared with."""

    stub: Document | None = None
    reference: Document | None = None
    public: list[Document] = field(default_factory=list)  # known public answers


def flags(submissions: Sequence[Document], sources: Sources,
          regions_for: int = 100) -> list[Match]:
    """Every flagged match, closest first: near-copies among the submissions and of a
    known source, with their matching regions for the first `regions_for`.

    The fingerprints two submissions share are counted through an inverted index, so
    only flagged pairs are compared in full.
    """
    ignore = sources.stub.hashes if sources.stub else frozenset()
    found: list[Match] = []
    own = [document.hashes - ignore for document in submissions]
    owners: dict[int, list[int]] = defaultdict(list)
    for index, hashes in enumerate(own):
        for value in hashes:
            owners[value].append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for indices in owners.values():
        for i, first in enumerate(indices):
            for second in indices[i + 1:]:
                shared[(first, second)] += 1
    for (first, second), count in sorted(shared.items()):
        sizes = len(own[first]), len(own[second])
        if min(sizes) < MIN_FINGERPRINTS:
            continue
        if count / (sizes[0] + sizes[1] - count) >= PAIR_THRESHOLD:  # Jaccard, cheaply
            found.append(compare(submissions[first], submissions[second], ignore,
                                 regions=False))
    known = [("reference", sources.reference)] if sources.reference else []
    known += [("public answer", public) for public in sources.public]
    for document, mine in zip(submissions, own, strict=True):
        if sources.stub is not None and document.hashes:
            stub_share = len(document.hashes & sources.stub.hashes) / len(document.hashes)
            if stub_share >= STUB_THRESHOLD:
                found.append(compare(document, sources.stub, kind="stub", regions=False))
        if len(mine) < MIN_FINGERPRINTS:
            continue
        for kind, source in known:
            assert source is not None
            if len(mine & source.hashes) / len(mine) >= SOURCE_THRESHOLD:
                found.append(compare(document, source, ignore, kind=kind, regions=False))
    found.sort(key=lambda m: (-m.similarity, m.a, m.b))
    named = {d.name: d for d in [*submissions, *filter(None, [sources.stub, sources.reference]),
                                 *sources.public]}
    for match in found[:regions_for]:
        base = frozenset() if match.kind == "stub" else ignore
        common = (named[match.a].hashes - base) & (named[match.b].hashes - base)
        match.regions = _regions(named[match.a], named[match.b], common)
    return found


def clusters(matches: Sequence[Match]) -> list[list[str]]:
    """Groups of submissions linked by flagged pairs (known sources left out)."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for match in matches:
        if match.kind == "pair":
            parent[root(match.a)] = root(match.b)
    groups: dict[str, list[str]] = defaultdict(list)
    for name in list(parent):
        groups[root(name)].append(name)
    return sorted((sorted(group) for group in groups.values() if len(group) > 1),
                  key=lambda g: (-len(g), g))
