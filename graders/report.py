"""The terminal report: renders a Result, decides nothing."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from graders.result import CATEGORIES, PhaseName, Result

STATUS_STYLE = {
    "passed": "green", "failed": "red", "timeout": "magenta", "crashed": "magenta",
    "error": "yellow", "skipped": "dim", "pass": "green", "fail": "red",
    "inconclusive": "yellow",
}
OUTPUT_LINES_SHOWN = 20
PHASE_LABELS: dict[PhaseName, str] = {
    "start": "start (sandbox, worker)", "import": "import of the submission",
    "suite": "test suite", "lock": "wait for the timing lock", "performance": "performance",
    "teardown": "teardown",
}


def _styled(word: str) -> Text:
    return Text(word, style=STATUS_STYLE.get(word, ""))


def render(result: Result, console: Console, *, timings: bool = False) -> None:
    """The whole report; with `timings`, also where the run's time went (render_timings)."""
    challenge = result.challenge
    sandbox = result.sandbox
    console.print(f"[bold]{challenge.title}[/] ({challenge.id} v{challenge.version}) "
                  f"- {result.submission.path}")
    isolation = "isolated" if sandbox.isolated else "[bold red]NOT isolated[/]"
    console.print(f"sandbox: {sandbox.backend} ({isolation}), seed {result.seed}")
    for notice in result.notices:
        console.print(f"[yellow]note:[/] {notice}")

    tests = Table(title="Tests", expand=False)
    for column in ("status", "category", "test"):
        tests.add_column(column, overflow="fold")
    ordered = sorted(result.tests, key=lambda t: (CATEGORIES.index(t.category)
                                                  if t.category in CATEGORIES else 9))
    for test in ordered:
        label = Text(test.description + (" [public]" if test.visibility == "public" else ""))
        if test.message:
            message = test.message if test.visibility == "hidden" else test.message[-400:]
            label.append("\n" + message, style="dim")
        tests.add_row(_styled(test.status), test.category, label)
    if result.tests:
        console.print(tests)
        console.print("  ".join(
            f"{category} {sum(t.status == 'passed' for t in group)}/{len(group)}"
            for category in CATEGORIES
            if (group := [t for t in result.tests if t.category == category])))

    if result.performance.metrics:
        metrics = Table(title="Performance (submission / reference, same run)")
        for column in ("metric", "verdict", "ratio", "interval", "threshold", "rounds"):
            metrics.add_column(column, overflow="fold")
        for m in result.performance.metrics:
            interval = f"{m.interval[0]:.2f}-{m.interval[1]:.2f}" if m.interval else "-"
            ratio = f"{m.ratio:.2f}" if m.ratio is not None else "-"
            threshold = ", ".join(f"{k} <= {v:g}" for k, v in m.threshold.items())
            name = Text(m.name + ("" if m.required else " (optional)"))
            if m.message:
                name.append("\n" + m.message, style="dim")
            metrics.add_row(name, _styled(m.verdict), ratio, interval, threshold, str(m.rounds))
        console.print(metrics)

    output = result.candidate_output
    if output.total_bytes:
        lines = output.text.splitlines()
        shown = "\n".join(lines[:OUTPUT_LINES_SHOWN])
        more = " (truncated)" if output.truncated or len(lines) > OUTPUT_LINES_SHOWN else ""
        console.print(f"[bold]Candidate output[/] ({output.total_bytes} bytes{more}):")
        console.print(Text(shown, style="dim"))

    if timings:
        render_timings(result, console)

    passed = sum(t.status == "passed" for t in result.tests)
    console.print(f"tests passed: {passed}/{len(result.tests)}   "
                  f"score: [bold]{result.score:g}[/] / {result.max_score:g}   "
                  f"time: {result.duration_s:.1f} s")
    console.print(Text(f"{result.status.upper()}: {result.message}",
                       style="bold " + STATUS_STYLE.get(result.status, "")))


def render_timings(result: Result, console: Console) -> None:
    """One row per phase of the run, then what no phase covers, then the total."""
    if not result.timings:  # a result written before phases were recorded
        console.print("timings: not recorded in this result")
        return
    total = result.duration_s
    table = Table(title="Timings")
    table.add_column("phase")
    for column in ("seconds", "share"):
        table.add_column(column, justify="right")
    measured = any(phase.rounds is not None for phase in result.timings)
    if measured:
        table.add_column("rounds")
    for phase in result.timings:
        rounds = (f"{phase.rounds} rounds, {phase.rounds_s:.3f} s"
                  if phase.rounds is not None and phase.rounds_s is not None else "")
        table.add_row(PHASE_LABELS.get(phase.name, phase.name), f"{phase.seconds:.3f}",
                      _share(phase.seconds, total), *([rounds] if measured else []))
    # Phases are timed apart: the rest lies between them (scoring, building the result).
    rest = max(total - sum(phase.seconds for phase in result.timings), 0.0)
    blank = [""] if measured else []
    table.add_row("other", f"{rest:.3f}", _share(rest, total), *blank, style="dim",
                  end_section=True)
    table.add_row("total", f"{total:.3f}", "", *blank, style="bold")
    console.print(table)


def _share(seconds: float, total: float) -> str:
    return f"{100 * seconds / total:.0f}%" if total > 0 else "-"
