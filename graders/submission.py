"""A submission: one Python source file, checked before anything runs it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from graders.errors import UsageError

MAX_SUBMISSION_BYTES = 256 * 1024


@dataclass(frozen=True)
class Submission:
    path: Path
    source: str
    sha256: str


def read_submission(path: Path) -> Submission:
    """Read and check a submission, or raise UsageError with one sentence. Never writes."""
    if not path.exists():
        raise UsageError(f"Submission {path} does not exist; give the path of your .py file.")
    if path.is_dir():
        raise UsageError(f"Submission {path} is a directory; give the path of one .py file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Submission {path} cannot be read ({exc.strerror}); "
                         "check its permissions.") from None
    if len(data) > MAX_SUBMISSION_BYTES:
        raise UsageError(f"Submission {path} is {len(data)} bytes, over the "
                         f"{MAX_SUBMISSION_BYTES}-byte limit; submit one source file.")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"Submission {path} is not UTF-8 text (byte {exc.start}); "
                         "save it as UTF-8.") from None
    if "\x00" in source:
        raise UsageError(f"Submission {path} contains NUL bytes, so it is not Python source; "
                         "submit the .py file itself.")
    return Submission(path=path, source=source, sha256=hashlib.sha256(data).hexdigest())
