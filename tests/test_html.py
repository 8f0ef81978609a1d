"""HTML pages: self-contained (no external URL, a CSP that forbids fetching), escaped, and
checked in headless Chromium when it is installed (`make check-html` runs the full check)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from graders import html
from graders.batch import Outcome, Skipped, write_outputs
from tests.conftest import REPO
from tests.test_batch import _journal_batch, make_result

CHECK = REPO / "tools" / "chromium_check.py"
# Any scheme-qualified URL, anywhere in the page (text included: a page holds none).
SCHEME_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://")
FETCHING = {"src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href",
            "background", "ping", "manifest", "cite", "icon", "lowsrc"}


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            value = (value or "").strip()
            if name in FETCHING and not (value.startswith(("#", "data:"))
                                         or re.fullmatch(r"[A-Za-z0-9_./-]+(#[\w-]*)?", value)
                                         and not value.startswith("//")):
                self.found.append(f"{tag} {name}={value}")
            if name == "style" and re.search(r"(?i)url\(|@import", value):
                self.found.append(f"{tag} style={value}")

    def handle_data(self, data: str) -> None:
        if self._in_style and re.search(r"(?i)url\(|@import", data):
            self.found.append("a url() or @import in a stylesheet")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False


def external_references(page: str) -> list[str]:
    """Every URL in the page, and every attribute that could fetch from anywhere but a
    relative path of this site (or a data: URL or an anchor)."""
    parser = _Attributes()
    parser.feed(page)
    return SCHEME_URL.findall(page) + parser.found


HOSTILE = ("<script>alert(1)</script> see https://evil.example/x.png "
           "<img src=//evil.example/y.png> \x1b[31m")


def _batch_page(tmp_path: Path) -> Path:
    results = {
        "alice": make_result("alice", "a" * 64, status="passed", output=HOSTILE),
        "bob": make_result("bob", "b" * 64, passed=(True, False, False), ratio=2.1),
        "carol": make_result("carol", "c" * 64, passed=(False, False, False), ratio=6.0,
                             verdict="fail", message=HOSTILE),
    }
    options, entries = _journal_batch(tmp_path, results)
    write_outputs(options, entries, [Skipped("/subs/<b>.py", "not a .py file")],
                  Outcome(not_graded={"dave": "killed by signal 9"}))
    return options.out / "report.html"


def test_the_batch_page_is_self_contained_and_escapes_what_submissions_wrote(tmp_path):
    page_path = _batch_page(tmp_path)
    page = page_path.read_text()
    assert external_references(page) == []
    assert "<script>alert(1)" not in page and "&lt;b&gt;.py" in page
    assert "https[:]//evil.example" in (page_path.parent / "reports" / "carol.html").read_text()
    for name in ("alice", "bob", "carol"):
        assert f'href="reports/{name}.html"' in page
        sub_page = (page_path.parent / "reports" / f"{name}.html").read_text()
        assert external_references(sub_page) == [] and 'href="../report.html"' in sub_page
    assert "<svg" in page and "pass mark" in page and "threshold 3" in page
    assert "test_1" in page and "separates" in page
    assert "killed by signal 9" in page


def test_the_csp_allows_exactly_the_inline_style_and_script(tmp_path):
    page = _batch_page(tmp_path).read_text()
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                             page).group(1))
    assert "default-src 'none'" in csp
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    for text in (style, script):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert page.count("<script") == 1 and " style=" not in page


def test_the_static_check_finds_what_would_fetch():
    assert external_references('<img src="//cdn.example/x.png">')
    assert external_references('<link rel="stylesheet" href="https://cdn.example/a.css">')
    assert external_references("<style>body { background: url(x.png) }</style>")
    assert external_references('<a href="javascript:alert(1)">x</a>')
    assert not external_references('<a href="reports/a-b_c.html">x</a><a href="#sim-1">y</a>')
    assert not external_references("<p>&lt;img src=//evil&gt;</p>")  # text, not an attribute


def test_defang_leaves_text_readable():
    assert html.defang("see https://a.b/c and ftp://x") == "see https[:]//a.b/c and ftp[:]//x"
    assert html.defang("a ratio 1:2 // comment") == "a ratio 1:2 // comment"


def test_grade_report_prints_a_result_or_writes_its_page(tmp_path):
    result = make_result("alice", "a" * 64, output=HOSTILE)
    path = tmp_path / "alice.json"
    result.write_json(path)
    run = subprocess.run([sys.executable, "-m", "graders.cli", "report", str(path)], cwd=REPO,
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "120"})
    assert run.returncode == 0, run.stderr
    assert "Behaviour number 1." in run.stdout and "score" in run.stdout
    page = tmp_path / "alice.html"
    run = subprocess.run([sys.executable, "-m", "graders.cli", "report", str(path), "--html",
                          str(page)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    text = page.read_text()
    assert external_references(text) == [] and "Behaviour number 2." in text


@pytest.mark.parametrize("content", ["not json", json.dumps({"schema_version": 7})])
def test_grade_report_refuses_what_is_not_a_result(tmp_path, content):
    path = tmp_path / "x.json"
    path.write_text(content)
    run = subprocess.run([sys.executable, "-m", "graders.cli", "report", str(path)], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.startswith("grade: ")
    assert "Traceback" not in run.stderr


# -- in Chromium ---------------------------------------------------------------------------

def _chromium() -> None:
    sys.path.insert(0, str(CHECK.parent))
    from chromium_check import find_chromium

    if find_chromium() is None:
        reason = ("Chromium is not installed (apt-get install -y chromium); "
                  "`make check-html` runs this check")
        if os.environ.get("GRADERS_REQUIRE_CHROMIUM"):
            pytest.fail(f"GRADERS_REQUIRE_CHROMIUM is set but {reason}")
        pytest.skip(reason)


def _check(page: Path, *extra: str) -> tuple[int, dict]:
    run = subprocess.run([sys.executable, str(CHECK), str(page), *extra], capture_output=True,
                         text=True, timeout=180)
    return run.returncode, json.loads(run.stdout or "{}")


def test_the_batch_page_in_chromium_fetches_nothing_and_sorts(tmp_path):
    _chromium()
    page = _batch_page(tmp_path)
    shot = tmp_path / "report.png"
    code, report = _check(page, "--screenshot", str(shot), "--click", "#submissions th.num")
    assert code == 0, report
    assert report["requests"] == [page.resolve().as_uri()] and report["clicked"] == "ascending"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


@pytest.mark.parametrize("csp", [False, True])
def test_the_chromium_check_catches_a_page_that_fetches(tmp_path, csp):
    """The check can fail: an external image is a request, or (under a CSP) a violation."""
    _chromium()
    policy = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
              if csp else "")
    page = tmp_path / "leaky.html"
    page.write_text(f"<!DOCTYPE html><html><head>{policy}</head><body>"
                    '<img src="http://example.invalid/pixel.png"></body></html>')
    code, report = _check(page)
    assert code == 1
    assert any("example.invalid" in problem for problem in report["problems"]), report
