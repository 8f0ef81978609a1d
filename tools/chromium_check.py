"""Open an HTML page in headless Chromium, take a screenshot, and prove it loads nothing.

    python tools/chromium_check.py PAGE.html [--screenshot PNG] [--click SELECTOR]

Exit 0 when the page loaded, made no request but for itself and `data:` URLs, met
no Content-Security-Policy violation, and (with --click) its script ran; exit 1
naming every request or violation otherwise; exit 3 when Chromium is missing.

How it knows. Chromium is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: no port, no extra package). The Network domain reports
every request the page's renderer issues (subresources, fetches, beacons,
navigations, prefetches), whether or not it would succeed: each is checked. A
request the page's own CSP blocks never reaches the network layer, so a listener
for `securitypolicyviolation`, installed before any of the page's code runs,
reports those: a blocked attempt fails the check too. So a page passes only if it
tries to fetch nothing at all. As a fence while checking (not as the proof), the
browser resolves no host name (--host-resolver-rules) and its background services
are off. tests/test_html.py checks that a page with an external image fails.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe"]
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""
SETTLE_S = 0.5  # after the load event, for requests a page makes late


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    return None


def _high(pair: tuple[int, int]) -> tuple[int, int]:
    """The pipe's ends moved above 4, so that putting them at 3 and 4 clobbers neither."""
    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in pair)
    for fd in pair:
        os.close(fd)
    return moved[0], moved[1]


class Browser:
    """Chromium over the DevTools pipe: NUL-terminated JSON messages on fds 3 and 4."""

    def __init__(self, binary: str, profile: Path, width: int, height: int) -> None:
        to_browser_r, self._to_browser = _high(os.pipe())
        self._from_browser, from_browser_w = _high(os.pipe())

        def wire() -> None:  # in the child: its fd 3 reads commands, fd 4 writes answers
            os.dup2(to_browser_r, 3)  # (dup2 makes them inheritable)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
             "about:blank"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=wire)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            for answer in self._read(deadline):
                if answer.get("id") == self._next:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer.get("result", {})
                self.events.append(answer)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events += self._read(deadline)

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events += self._read(deadline)
        except TimeoutError:
            pass

    def _read(self, deadline: float) -> list[dict[str, Any]]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        *messages, self._buffer = self._buffer.split(b"\0")
        return [json.loads(m) for m in messages if m]

    def close(self) -> None:
        try:
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"})
                     .encode() + b"\0")
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


def check(page: Path, screenshot: Path | None = None, click: str | None = None,
          width: int = 1280, height: int = 2000) -> dict[str, Any]:
    """What the page did in Chromium: `problems` is empty when it fetched nothing."""
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium on PATH (apt-get install -y chromium)")
    url = page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="graders-chromium-") as profile:
        browser = Browser(binary, Path(profile), width, height)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Network", "Page", "Runtime"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=session)
            browser.send("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH},
                         session=session)
            browser.events.clear()
            browser.send("Page.navigate", {"url": url}, session=session)
            browser.wait_for("Page.loadEventFired")
            browser.drain(SETTLE_S)
            clicked = None
            if click:
                clicked = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": (
                    f"(function () {{ var el = document.querySelector({json.dumps(click)});"
                    " if (!el) return 'missing'; el.click();"
                    " return el.getAttribute('aria-sort') || 'no effect'; })()")},
                    session=session)["result"].get("value")
                browser.drain(SETTLE_S)
            state = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": (
                "JSON.stringify({violations: window.__violations || [],"
                " resources: performance.getEntriesByType('resource').map(e => e.name),"
                " title: document.title})")}, session=session)["result"]["value"]
            if screenshot is not None:
                shot = browser.send("Page.captureScreenshot", {"format": "png"},
                                    session=session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            browser.close()
    seen = json.loads(state)
    requests = [e["params"]["request"]["url"] for e in browser.events
                if e.get("method") == "Network.requestWillBeSent"]
    problems = [f"request: {u}" for u in requests if u != url and not u.startswith("data:")]
    problems += [f"resource: {u}" for u in seen["resources"] if not u.startswith("data:")]
    problems += [f"CSP violation: {v}" for v in seen["violations"]]
    if click and clicked not in ("ascending", "descending"):
        problems.append(f"clicking {click} did nothing ({clicked}): the page's script did not run")
    return {"page": url, "title": seen["title"], "requests": requests, "clicked": clicked,
            "problems": problems, "screenshot": str(screenshot) if screenshot else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--screenshot", type=Path)
    parser.add_argument("--click", help="a CSS selector to click (a sortable column header)")
    options = parser.parse_args(argv)
    try:
        report = check(options.page, options.screenshot, options.click)
    except FileNotFoundError as exc:
        print(f"chromium_check: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(report, indent=2))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
