"""The batch's journal, DIR/results.jsonl: one line per graded submission, appended as
each completes, so an interrupted batch resumes without regrading what is done.

A line is a JSON object: the submission's `name` and `file`, the resume `key`, the
`result` (a schema-v1 document), how long the child `grade` process took
(`wall_s`), and `reused_from` when the result is another name's (same key: the
same bytes graded against the same suite by the same harness).

Each line is written with one `write` on a descriptor opened with O_APPEND, then
fsync'ed. A line cut short (Ctrl-C, kill -9, power loss) has no final newline or is
not a JSON object; a line is taken only if it ends with a newline, parses, holds a
valid result, and its key agrees with that result. Anything else is skipped, and
the next append starts on a fresh line, so a torn line never swallows a good one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graders.result import Result

FORMAT = 1


@dataclass(frozen=True)
class ResumeKey:
    """What a result depends on: the same key, the same result (bar timing noise)."""

    submission_sha256: str
    challenge: str
    challenge_version: str
    suite_sha256: str
    harness_version: str
    sandbox: str  # the backend used: docker or process
    seed: int
    feedback: str

    def agrees_with(self, result: Result) -> bool:
        return (result.submission.sha256 == self.submission_sha256
                and result.challenge.id == self.challenge
                and result.challenge.version == self.challenge_version
                and result.challenge.suite_sha256 == self.suite_sha256
                and result.harness.version == self.harness_version
                and result.sandbox.backend == self.sandbox
                and result.seed == self.seed)


@dataclass
class Record:
    name: str
    file: str
    key: ResumeKey
    result: Result
    wall_s: float
    reused_from: str | None = None

    def to_line(self) -> bytes:
        data: dict[str, Any] = {"format": FORMAT, "name": self.name, "file": self.file,
                                "key": asdict(self.key), "wall_s": self.wall_s,
                                "reused_from": self.reused_from,
                                "result": self.result.to_dict()}
        return json.dumps(data, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> Record:
        """The record of one complete line, or ValueError."""
        data = json.loads(line)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a journal record")
        key = ResumeKey(**data["key"])
        result = Result.from_dict(data["result"])
        if not key.agrees_with(result):
            raise ValueError("its key does not match its result")
        wall = data["wall_s"]
        if not isinstance(data["name"], str) or not isinstance(wall, int | float):
            raise ValueError("a field has the wrong type")
        return cls(name=data["name"], file=str(data["file"]), key=key, result=result,
                   wall_s=float(wall), reused_from=data.get("reused_from"))


@dataclass
class Journal:
    path: Path
    skipped_lines: int = 0  # torn or invalid lines met by `read`

    def read(self) -> list[Record]:
        """Every complete, valid record, in the order written."""
        self.skipped_lines = 0
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        records = []
        for line in _lines(data):
            try:
                records.append(Record.from_line(line))
            except (ValueError, TypeError, KeyError, UnicodeDecodeError):
                self.skipped_lines += 1
        return records

    def append(self, record: Record) -> None:
        """Append one record durably: one write, then fsync."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = os.fstat(fd).st_size
            prefix = b""
            if size:
                with self.path.open("rb") as handle:
                    handle.seek(size - 1)
                    if handle.read(1) != b"\n":
                        prefix = b"\n"  # end a torn line: it stays invalid on its own
            _write_all(fd, prefix + record.to_line())
            os.fsync(fd)
        finally:
            os.close(fd)


def _lines(data: bytes) -> Iterator[bytes]:
    """Complete lines only: the last one counts only if it ends with a newline."""
    *complete, _rest = data.split(b"\n")
    for line in complete:
        if line.strip():
            yield line


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def latest(records: list[Record]) -> dict[str, Record]:
    """The last record of each name."""
    return {record.name: record for record in records}
