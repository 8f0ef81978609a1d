"""Feedback levels: how much of a run the person running it gets to see.

    full          every test's full failure, hidden tests included (hypothesis's
                  shrunk counterexample, the assertion): for the hiring team and authors
    descriptions  the default: hidden tests show their one-line description and the
                  author's one-line failure message; public tests show everything
    score-only    the status and the score; no tests, metrics or candidate output

The level is the challenge's (`[feedback] level` in challenge.toml), or the one given
with `grade ... --feedback LEVEL`. It shapes the result itself, not only its display:
a score-only result holds nothing more than a score-only report shows, so the JSON a
candidate runs off cannot leak what the level hides. Grading is the same at every
level: the score is decided before anything is left out.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, get_args

from graders.result import CandidateOutput, Performance, Result

FeedbackLevel = Literal["full", "descriptions", "score-only"]
LEVELS: tuple[FeedbackLevel, ...] = get_args(FeedbackLevel)
DEFAULT: FeedbackLevel = "descriptions"

NOTICES = {
    "full": "Feedback level full: hidden tests show their full failures, inputs included.",
    "score-only": "Feedback level score-only: only the status and the score are reported.",
}


def apply_level(result: Result, level: FeedbackLevel) -> Result:
    """`result` as the person running at `level` may see it (messages are the plugin's)."""
    notice = NOTICES.get(level)
    notices = [*result.notices, notice] if notice else result.notices
    if level != "score-only":
        return replace(result, notices=notices)
    message = result.message
    if result.status != "error":  # an import error is about the candidate's own file
        message = ("Passed." if result.status == "passed" else "Not passed.") + \
            " This feedback level reports the score only."
    performance = Performance(score=result.performance.score,
                              max_score=result.performance.max_score,
                              duration_s=result.performance.duration_s)
    return replace(result, message=message, tests=[], performance=performance,
                   candidate_output=CandidateOutput(), notices=notices)
