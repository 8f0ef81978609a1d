"""Self-contained HTML pages: one result, and a batch. They render, and decide nothing.

Every page is one file that loads nothing: its stylesheet and its one script are
inline, its plots are inline SVG (graders/plots.py), and its Content-Security-Policy
(`default-src 'none'`, the style and script allowed by their hashes only) stops the
browser from fetching anything should a page ever hold a reference by mistake, and
from running any script but ours. Whatever a submission wrote (its output, its
file name, a message quoting it) is escaped, and URLs in it are defanged so that a
page holds no external URL at all (`defang`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
from markupsafe import Markup

from graders import __version__
from graders.result import CATEGORIES, Result

TEMPLATES = Path(__file__).resolve().parent / "templates"
OUTPUT_LINES_SHOWN = 400
REGION_LINES_SHOWN = 60
FLAGS_PER_ROW = 2  # similarity badges in a submission's row; the rest are counted
DETAILS_SHOWN = 60  # flags whose matching regions the batch page shows (at most
# similarity.flags's regions_for)

_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15}):(//)")


def defang(text: str) -> str:
    """`https://x` shown as `https[:]//x`: readable, and never a link or a fetch."""
    return _URL.sub(r"\1[:]\2", text)


def _finalize(value: Any) -> Any:
    return defang(value) if isinstance(value, str) and not isinstance(value, Markup) else value


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, finalize=_finalize,
                              trim_blocks=True, lstrip_blocks=True)


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _page(template: str, script: bool, **context: Any) -> str:
    style = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    code = (TEMPLATES / "sort.js").read_text(encoding="utf-8") if script else ""
    csp = (f"default-src 'none'; style-src '{_digest(style)}'; "
           + (f"script-src '{_digest(code)}'; " if code else "")
           + "img-src data:; base-uri 'none'; form-action 'none'")
    return _environment().get_template(template).render(
        csp=csp, style=Markup(style), script=Markup(code), harness_version=__version__,
        **context)


# -- one result ------------------------------------------------------------------------

def render_result(result: Result, name: str | None = None, back: str | None = None) -> str:
    """The page of one result; `back` links to the batch page."""
    tests = sorted(result.tests, key=lambda t: (CATEGORIES.index(t.category), t.status == "passed"))
    categories = [(category, sum(t.status == "passed" for t in group), len(group))
                  for category in CATEGORIES
                  if (group := [t for t in result.tests if t.category == category])]
    lines = result.candidate_output.text.splitlines()
    output = "\n".join(lines[:OUTPUT_LINES_SHOWN])
    if len(lines) > OUTPUT_LINES_SHOWN:
        output += f"\n... ({len(lines) - OUTPUT_LINES_SHOWN} more lines)"
    return _page("result.html.j2", script=bool(result.tests), result=result, tests=tests,
                 categories=categories, output=output, back=back,
                 name=name or Path(result.submission.path).name)


# -- a batch -----------------------------------------------------------------------------

@dataclass
class Flag:
    """A similarity flag as a row shows it."""

    label: str
    similarity: float
    anchor: str


@dataclass
class Row:
    name: str
    slug: str
    href: str
    status: str
    score: float
    max_score: float
    fraction: float
    categories: dict[str, tuple[float, float]]
    metrics: dict[str, tuple[float | None, str]]
    duration_s: float
    reused_from: str | None = None
    flags: list[Flag] = field(default_factory=list)
    more_flags: int = 0

    @property
    def top_similarity(self) -> float:
        return max((f.similarity for f in self.flags), default=0.0)


@dataclass
class BatchView:
    challenge_id: str
    title: str
    version: str
    suite_sha256: str
    backend: str
    seed: int
    feedback: str
    pass_mark: float
    rows: list[Row]
    metrics: list[str]
    metric_info: dict[str, tuple[str, float | None]]  # name -> (description, ratio threshold)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)  # of the rows, in order
    flags: list[Any] = field(default_factory=list)  # similarity.Match
    clusters: list[list[str]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # document name -> its source
    notices: list[str] = field(default_factory=list)
    similarity_method: str = ""


def _row_view(view: BatchView) -> dict[str, Any]:
    from graders import plots

    results = view.results
    counts: dict[str, int] = {}
    for row in view.rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    histogram = plots.histogram([(r.fraction, r.status) for r in view.rows], view.pass_mark)
    categories = [c for c in CATEGORIES if any(c in row.categories for row in view.rows)]
    return {"counts": sorted(counts.items()), "histogram": Markup(histogram),
            "categories": categories, "test_rates": _test_rates(results),
            "perf_plots": _perf_plots(view),
            "graded": sum(result.status != "error" for result in results)}


def _test_rates(results: Sequence[Result]) -> list[dict[str, Any]]:
    from graders import plots

    seen: dict[str, dict[str, Any]] = {}
    for result in results:
        if result.status == "error":  # not graded: its tests say nothing about them
            continue
        for test in result.tests:
            entry = seen.setdefault(test.id, {
                "name": test.name, "description": test.description, "category": test.category,
                "visibility": test.visibility, "passed": 0, "total": 0})
            entry["total"] += 1
            entry["passed"] += test.status == "passed"
    rates = []
    for entry in seen.values():
        rate = entry["passed"] / entry["total"]
        entry.update(rate=round(rate, 4), bar=Markup(plots.rate_bar(rate)),
                     separates=0 < rate < 1, separation=round(1 - abs(rate - 0.5) * 2, 4))
        rates.append(entry)
    rates.sort(key=lambda e: (-e["separation"], CATEGORIES.index(e["category"]), e["name"]))
    return rates


def _perf_plots(view: BatchView) -> list[dict[str, Any]]:
    from graders import plots

    found = []
    for metric in view.metrics:
        points = []
        missing = []
        for row, result in zip(view.rows, view.results, strict=True):
            for m in result.performance.metrics:
                if m.name == metric and m.ratio is not None:
                    interval = (m.interval[0], m.interval[1]) if m.interval else None
                    points.append(plots.Point(row.name, m.ratio, m.verdict, interval))
                elif m.name == metric:
                    missing.append(f"{row.name} ({m.verdict})")
        if not points and not missing:
            continue
        description, threshold = view.metric_info.get(metric, ("", None))
        found.append({"name": metric, "description": description, "missing": missing,
                      "svg": Markup(plots.strip(points, threshold))})
    return found


def _code(source: str, lines: tuple[int, int], hits: frozenset[int]
          ) -> list[tuple[int, str, bool]]:
    """(number, text, whether it is in a shared k-gram) of each line of a region."""
    text = source.splitlines()
    first, last = lines
    last = min(last, first + REGION_LINES_SHOWN - 1)
    return [(number, text[number - 1] + "\n", number in hits)
            for number in range(first, last + 1) if 0 < number <= len(text)]


def flag_anchor(a: str, b: str) -> str:
    return "sim-" + hashlib.sha1(f"{a}\0{b}".encode()).hexdigest()[:10]


def _details(view: BatchView) -> list[dict[str, Any]]:
    shown = []
    for match in view.flags[:DETAILS_SHOWN]:
        if not match.regions:
            continue
        a_source, b_source = view.sources.get(match.a, ""), view.sources.get(match.b, "")
        regions = [{"a_unit": r.a_unit, "b_unit": r.b_unit, "a_lines": r.a_lines,
                    "b_lines": r.b_lines, "shared": r.shared,
                    "a_code": _code(a_source, r.a_lines, r.a_hits),
                    "b_code": _code(b_source, r.b_lines, r.b_hits)}
                   for r in match.regions]
        shown.append({"a": match.a, "b": match.b, "kind": match.kind,
                      "similarity": match.similarity, "shared": match.shared,
                      "anchor": flag_anchor(match.a, match.b), "regions": regions})
    return shown


def render_batch(view: BatchView) -> str:
    flags = [{"a": m.a, "b": m.b, "kind": m.kind, "similarity": m.similarity,
              "a_share": m.a_share, "b_share": m.b_share, "anchor": flag_anchor(m.a, m.b),
              "detailed": index < DETAILS_SHOWN and bool(m.regions)}
             for index, m in enumerate(view.flags)]
    context = {
        "challenge_id": view.challenge_id, "title": view.title, "version": view.version,
        "suite_sha256": view.suite_sha256, "backend": view.backend, "seed": view.seed,
        "feedback": view.feedback, "rows": view.rows, "metrics": view.metrics,
        "skipped": view.skipped, "not_graded": view.not_graded, "notices": view.notices,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "flags": flags, "flagged_count": len(flags), "clusters": view.clusters,
        "details": _details(view), "similarity_method": view.similarity_method,
        **_row_view(view),
    }
    return _page("batch.html.j2", script=True, view=SimpleNamespace(**context))
