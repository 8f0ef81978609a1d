"""Small plots as inline SVG text, for self-contained HTML pages: no script, no network.

Pure functions from numbers to markup. Every label is escaped here; colours are
presentation attributes (never `style`), so a page's Content-Security-Policy can
forbid inline styles other than its own stylesheet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLOURS = {"passed": "#2e7d32", "failed": "#c62828", "error": "#f9a825",
           "pass": "#2e7d32", "fail": "#c62828", "inconclusive": "#f9a825"}
GREY = "#9e9e9e"


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
          fill: str = "#333") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(text)}</text>')


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>")


def histogram(scores: Sequence[tuple[float, str]], pass_mark: float | None = None,
              bins: int = 10, width: int = 560, height: int = 220) -> str:
    """Scores as fractions of the maximum (0 to 1), stacked by status, in `bins` bins."""
    left, bottom, top = 36, 30, 12
    plot_w, plot_h = width - left - 24, height - bottom - top
    counts = [dict.fromkeys(("passed", "failed", "error"), 0) for _ in range(bins)]
    for fraction, status in scores:
        index = min(bins - 1, max(0, int(fraction * bins)))
        counts[index][status if status in counts[index] else "error"] += 1
    tallest = max([sum(c.values()) for c in counts] + [1])
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
            f'stroke="{GREY}"/>']
    bar_w = plot_w / bins
    for index, count in enumerate(counts):
        y = float(top + plot_h)
        for status in ("passed", "failed", "error"):
            h = plot_h * count[status] / tallest
            if h:
                y -= h
                body.append(f'<rect x="{left + index * bar_w + 1:.1f}" y="{y:.1f}" '
                            f'width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{COLOURS[status]}">'
                            f'<title>{count[status]} {status}, '
                            f'{index * 100 // bins}-{(index + 1) * 100 // bins}%</title></rect>')
        total = sum(count.values())
        if total:
            body.append(_text(left + (index + 0.5) * bar_w, y - 3, str(total), "middle", 10))
        body.append(_text(left + index * bar_w, top + plot_h + 14, f"{index * 100 // bins}%",
                          "middle", 10))
    body.append(_text(left + plot_w, top + plot_h + 14, "100%", "middle", 10))
    body.append(_text(4, top + 8, str(tallest), size=10))
    if pass_mark is not None:
        x = left + plot_w * pass_mark
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                    f'stroke="#1565c0" stroke-dasharray="4 3"/>')
        body.append(_text(x + 3, top + 10, "pass mark", size=10, fill="#1565c0"))
    body.append(_text(left + plot_w / 2, height - 2, "score, % of the maximum", "middle", 10))
    return _svg(width, height, body, "score distribution")


def rate_bar(rate: float, width: int = 160, height: int = 14) -> str:
    """One pass rate (0 to 1) as a bar."""
    filled = width * max(0.0, min(1.0, rate))
    return _svg(width, height, [
        f'<rect x="0" y="1" width="{width}" height="{height - 2}" fill="#eee"/>',
        f'<rect x="0" y="1" width="{filled:.1f}" height="{height - 2}" fill="#2e7d32"/>',
    ], f"pass rate {rate:.0%}")


@dataclass(frozen=True)
class Point:
    label: str
    value: float
    verdict: str
    interval: tuple[float, float] | None = None


def strip(points: Sequence[Point], threshold: float | None, unit: str = "ratio",
          width: int = 560, height: int = 90) -> str:
    """Ratios on a log scale, one dot per submission, the threshold a dashed line."""
    left, right = 12, 12
    values = [p.value for p in points if p.value > 0]
    values += [v for p in points if p.interval for v in p.interval if v > 0]
    if threshold:
        values.append(threshold)
    if not values:
        return _svg(width, 24, [_text(0, 16, "no figures")], "no figures")
    low = math.log10(min(values + [1.0]) / 1.3)
    high = math.log10(max(values + [1.0]) * 1.3)

    def x(value: float) -> float:
        return left + (width - left - right) * (math.log10(value) - low) / (high - low)

    axis_y = height - 26
    body = [f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" '
            f'stroke="{GREY}"/>']
    for decade in range(math.floor(low), math.ceil(high) + 1):
        for step in (1, 2, 5):
            tick = step * 10.0 ** decade
            if 10 ** low <= tick <= 10 ** high:
                body.append(f'<line x1="{x(tick):.1f}" y1="{axis_y}" x2="{x(tick):.1f}" '
                            f'y2="{axis_y + 4}" stroke="{GREY}"/>')
                body.append(_text(x(tick), axis_y + 15, f"{tick:g}", "middle", 10))
    if threshold:
        tx = x(threshold)
        body.append(f'<line x1="{tx:.1f}" y1="6" x2="{tx:.1f}" y2="{axis_y}" stroke="#1565c0" '
                    f'stroke-dasharray="4 3"/>')
        body.append(_text(tx + 3, 14, f"threshold {threshold:g}", size=10, fill="#1565c0"))
    for index, point in enumerate(points):
        if point.value <= 0:
            continue
        y = 24 + (index * 7) % max(1, axis_y - 30)  # spread dots that share a value
        colour = COLOURS.get(point.verdict, GREY)
        if point.interval and all(v > 0 for v in point.interval):
            body.append(f'<line x1="{x(point.interval[0]):.1f}" y1="{y}" '
                        f'x2="{x(point.interval[1]):.1f}" y2="{y}" stroke="{colour}" '
                        f'stroke-opacity="0.5"/>')
        body.append(f'<circle cx="{x(point.value):.1f}" cy="{y}" r="3.5" fill="{colour}">'
                    f'<title>{escape(point.label)}: {point.value:.3g} ({escape(point.verdict)})'
                    f'</title></circle>')
    body.append(_text(width / 2, height - 1, f"{unit} (log scale)", "middle", 10))
    return _svg(width, height, body, f"{unit} per submission")
