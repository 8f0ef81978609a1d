"""`grade batch`: collecting submissions, the resumable journal, the outputs,
and a real batch killed with SIGKILL midway and restarted."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graders import __version__
from graders.batch import Entry, Options, Outcome, Skipped, collect, resume_key, write_outputs
from graders.challenge import load_challenge
from graders.journal import Journal, Record, ResumeKey
from graders.result import (
    CandidateOutput,
    ChallengeInfo,
    HarnessInfo,
    MetricResult,
    Performance,
    Result,
    SandboxInfo,
    SubmissionInfo,
    TestResult,
)
from graders.submission import MAX_SUBMISSION_BYTES
from tests.conftest import PROBE, PROBE_REFERENCE, REPO


def make_result(name: str = "alice", sha256: str = "0" * 64, *, challenge: str = "q3_decorator",
                suite: str = "s" * 64, passed: tuple[bool, ...] = (True, True, False),
                ratio: float | None = 1.2, verdict: str = "pass", status: str = "failed",
                output: str = "", message: str = "") -> Result:
    """A synthetic result, valid for schema version 1."""
    categories = ("core", "robustness", "excellence")
    tests = [TestResult(id=f"hidden/test_x.py::test_{i}", name=f"test_{i}",
                        description=f"Behaviour number {i}.", category=categories[i % 3],
                        weight=3.0, status="passed" if ok else "failed", duration_s=0.01,
                        message="" if ok else (message or f"test {i} failed"),
                        visibility="hidden" if i else "public")
             for i, ok in enumerate(passed)]
    metric = MetricResult(name="hit_overhead", description="hits", kind="time", unit="s",
                          submission=0.012, reference=0.01, ratio=ratio,
                          interval=[ratio * 0.9, ratio * 1.1] if ratio else None,
                          threshold={"ratio": 3.0}, verdict=verdict,  # type: ignore[arg-type]
                          required=True, weight=6.0, rounds=10, overhead_s=0.0001)
    earned = sum(t.weight for t in tests if t.status == "passed") + (6 if verdict == "pass" else 0)
    return Result(
        status=status,  # type: ignore[arg-type]
        score=earned, max_score=3.0 * len(tests) + 6, message="synthetic",
        challenge=ChallengeInfo(id=challenge, version="1.0.0", title="A TTL cache decorator",
                                suite_sha256=suite),
        submission=SubmissionInfo(path=f"/subs/{name}.py", sha256=sha256),
        harness=HarnessInfo(version=__version__),
        sandbox=SandboxInfo(backend="process", image=None, limits={"memory_mb": 256},
                            isolated=False),
        seed=3, started_at="2026-01-01T00:00:00+00:00", duration_s=12.5, tests=tests,
        performance=Performance(score=6.0 if verdict == "pass" else 0.0, max_score=6.0,
                                duration_s=4.0, metrics=[metric]),
        candidate_output=CandidateOutput(text=output, total_bytes=len(output.encode())))


def key_for(result: Result, feedback: str = "descriptions") -> ResumeKey:
    return ResumeKey(submission_sha256=result.submission.sha256, challenge=result.challenge.id,
                     challenge_version=result.challenge.version,
                     suite_sha256=result.challenge.suite_sha256,
                     harness_version=result.harness.version, sandbox=result.sandbox.backend,
                     seed=result.seed, feedback=feedback)


# -- collecting ----------------------------------------------------------------------------

def test_collect_names_submissions_by_file_and_skips_bad_files_with_the_reason(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "alice.py").write_text("x = 1\n")
    (one / "bob.py").write_text("x = 2\n")
    (two / "alice.py").write_text("x = 3\n")  # the same stem in another directory
    (one / "latin1.py").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (one / "huge.py").write_text("#" * (MAX_SUBMISSION_BYTES + 1))
    (one / "notes.txt").write_text("not code")
    (one / "nested").mkdir()
    (one / ".hidden.py").write_text("ignored = True\n")
    entries, skipped = collect([one, two / "alice.py", tmp_path / "gone.py", one / "bob.py"])
    assert [e.name for e in entries] == ["one/alice", "bob", "two/alice"]
    assert len({e.slug for e in entries}) == 3
    assert all("/" not in e.slug for e in entries)
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "not UTF-8" in reasons["latin1.py"]
    assert "byte limit" in reasons["huge.py"]
    assert reasons["notes.txt"] == "not a .py file"
    assert reasons["gone.py"] == "does not exist"
    assert "directory" in reasons["nested"]
    assert ".hidden.py" not in reasons


def test_collect_passes_over_the_batch_output_inside_the_submissions(tmp_path):
    (tmp_path / "alice.py").write_text("x = 1\n")
    (tmp_path / "graded").mkdir()
    entries, skipped = collect([tmp_path], exclude=tmp_path / "graded")
    assert [e.name for e in entries] == ["alice"] and skipped == []


def test_collect_makes_odd_names_safe_file_names(tmp_path):
    (tmp_path / "<script>&.py").write_text("x = 1\n")
    (tmp_path / "=cmd().py").write_text("x = 2\n")
    entries, _ = collect([tmp_path])
    for entry in entries:
        assert entry.slug.replace("-", "").replace("_", "").replace(".", "").isalnum()


# -- the journal -------------------------------------------------------------------------------

def test_the_journal_keeps_complete_records_and_ignores_a_torn_line(tmp_path):
    journal = Journal(tmp_path / "results.jsonl")
    first = make_result("alice", "a" * 64)
    journal.append(Record("alice", "/subs/alice.py", key_for(first), first, 10.0))
    second = make_result("bob", "b" * 64)
    line = Record("bob", "/subs/bob.py", key_for(second), second, 11.0).to_line()
    with journal.path.open("ab") as stream:  # a write cut short: kill -9, power loss
        stream.write(line[: len(line) // 2])
    assert [r.name for r in journal.read()] == ["alice"]
    assert journal.skipped_lines == 0  # a last line without its newline is not a line yet
    third = make_result("carol", "c" * 64)
    journal.append(Record("carol", "/subs/carol.py", key_for(third), third, 12.0))
    records = journal.read()
    assert [r.name for r in records] == ["alice", "carol"]
    assert journal.skipped_lines == 1  # the torn line, ended by the next append
    assert records[1].result == third


def test_a_line_whose_key_does_not_match_its_result_is_not_taken(tmp_path):
    journal = Journal(tmp_path / "results.jsonl")
    result = make_result()
    wrong = ResumeKey(**{**key_for(result).__dict__, "suite_sha256": "f" * 64})
    journal.append(Record("alice", "/subs/alice.py", wrong, result, 1.0))
    with journal.path.open("ab") as stream:
        stream.write(b'{"format": 1, "name": "x"}\n\x00\x00\x00\n')
    assert journal.read() == []
    assert journal.skipped_lines == 3


def test_the_resume_key_changes_with_anything_a_result_depends_on(tmp_path):
    challenge = load_challenge("q3_decorator")
    options = Options(challenge=challenge, out=tmp_path, jobs=1, sandbox="process", seed=3,
                      feedback="descriptions")
    entry = Entry("alice", tmp_path / "a.py", "a" * 64)
    key = resume_key(options, entry, challenge.suite_sha256())
    assert key.harness_version == __version__ and key.challenge_version == "1.0.0"
    variants = [resume_key(options, Entry("alice", entry.path, "b" * 64), "x"),
                resume_key(Options(challenge, tmp_path, 1, "docker", 3, "descriptions"), entry,
                           challenge.suite_sha256()),
                resume_key(Options(challenge, tmp_path, 1, "process", 4, "descriptions"), entry,
                           challenge.suite_sha256()),
                resume_key(Options(challenge, tmp_path, 1, "process", 3, "full"), entry,
                           challenge.suite_sha256())]
    assert all(variant != key for variant in variants)
    assert resume_key(options, Entry("bob", tmp_path / "b.py", "a" * 64),
                      challenge.suite_sha256()) == key  # the name is not part of it


def test_a_suite_changed_during_the_batch_stops_it(tmp_path):
    """Results graded against another suite are never mixed into a batch."""
    from graders.batch import _finish, _Job, _Running

    result = make_result("alice", "a" * 64, suite="n" * 64)  # graded against a new suite
    json_path = tmp_path / "alice.json"
    result.write_json(json_path)
    log = tmp_path / "alice.log"
    log.write_text("failed: 3/15\n")

    class Exited:
        returncode = 1

    key = ResumeKey(**{**key_for(result).__dict__, "suite_sha256": "o" * 64})
    job = _Job(key, [Entry("alice", tmp_path / "alice.py", "a" * 64, "alice")])
    running = _Running(job, Exited(), 0.0, json_path, log)  # type: ignore[arg-type]
    outcome = Outcome()
    journal = Journal(tmp_path / "results.jsonl")
    assert _finish(running, journal, outcome) == []
    assert outcome.fatal is not None and outcome.fatal[0] == 2
    assert "changed while the batch ran" in outcome.fatal[1]
    assert journal.read() == []


# -- the outputs -----------------------------------------------------------------------------------

def _journal_batch(tmp_path: Path, results: dict[str, Result]) -> tuple[Options, list[Entry]]:
    challenge = load_challenge("q3_decorator")
    options = Options(challenge=challenge, out=tmp_path / "out", jobs=1, sandbox="process",
                      seed=3, feedback="descriptions")
    options.out.mkdir()
    for folder in ("results", "reports"):
        (options.out / folder).mkdir()
    journal = Journal(options.out / "results.jsonl")
    entries = []
    reference = challenge.reference_path.read_text()
    for name, result in results.items():
        path = tmp_path / f"{name}.py"
        path.write_text(reference if name != "=evil" else "x = 1\n")
        entries.append(Entry(name, path, result.submission.sha256, slug=name.strip("=")))
        journal.append(Record(name, str(path), key_for(result), result, 20.0))
    return options, entries


def test_results_csv_has_one_row_per_submission(tmp_path):
    results = {"alice": make_result("alice", "a" * 64, status="passed"),
               "=evil": make_result("=evil", "e" * 64, passed=(False, False, False),
                                    ratio=4.0, verdict="fail")}
    options, entries = _journal_batch(tmp_path, results)
    skipped = [Skipped("/subs/bad.py", "Submission /subs/bad.py is not UTF-8 text")]
    write_outputs(options, entries, skipped, Outcome(not_graded={"zed": "killed by signal 9"}))
    with (options.out / "results.csv").open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["name"] for r in rows] == ["'=evil", "alice", "zed", "bad"]
    alice = rows[1]
    assert alice["status"] == "passed" and alice["sha256"] == "a" * 64
    assert alice["core_score"] == "3.0" and alice["excellence_max"] == "3.0"
    assert alice["hit_overhead_ratio"] == "1.2" and alice["hit_overhead_verdict"] == "pass"
    assert alice["eviction_stream_ratio"] == ""  # a metric the result does not have
    assert alice["duration_s"] == "12.5"
    assert "[reference]" in alice["similar_to"]  # alice handed in the reference
    assert rows[2]["status"] == "not graded" and "signal 9" in rows[2]["note"]
    assert rows[3]["status"] == "skipped" and "UTF-8" in rows[3]["note"]
    assert (options.out / "report.html").is_file()
    assert (options.out / "reports" / "alice.html").is_file()
    assert Result.from_json(options.out / "results" / "alice.json") == results["alice"]


# -- a real batch --------------------------------------------------------------------------

def _journalled(journal: Path) -> list[str]:
    if not journal.is_file():
        return []
    return [json.loads(line)["name"] for line in journal.read_bytes().split(b"\n")[:-1]
            if line.strip()]


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if entry.isdigit() and text.encode() in cmdline:
            found.append(int(entry))
    return found


@pytest.mark.timeout(1200)
@pytest.mark.xdist_group("busy_core")  # never beside test_stability.py's spinning core
def test_a_batch_killed_midway_resumes_without_regrading_or_losing_anything(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(PROBE, root / "challenges" / "probe",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "reference").mkdir()
    shutil.copy(PROBE_REFERENCE, root / "reference" / "probe.py")
    subs = tmp_path / "subs"
    subs.mkdir()
    reference = PROBE_REFERENCE.read_text()
    (subs / "ann.py").write_text(reference + "\n# ann\n")
    (subs / "ben.py").write_text(reference + "\n# ben\n")
    (subs / "dup.py").write_text(reference + "\n# ann\n")  # ann's file, renamed
    (subs / "wrong.py").write_text(reference.replace("return total", "return total + 1"))
    (subs / "latin1.py").write_bytes(b"caf\xe9 = 1\n")
    out = tmp_path / "out"
    journal = out / "results.jsonl"
    command = [sys.executable, "-m", "graders.cli", "batch", str(root / "challenges" / "probe"),
               str(subs), "--out", str(out), "--jobs", "2", "--sandbox", "process"]
    # The host's own timing lock: the batch's performance phases are then kept clear of
    # other gradings on this host (another xdist worker's), as any grading's are.
    env = {**os.environ, "COLUMNS": "120"}

    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while first.poll() is None and not _journalled(journal) and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = _journalled(journal)
    assert done, "nothing was graded before the kill"
    logs = {name: (out / "logs" / f"{name}.log").stat().st_mtime_ns
            for name in done if (out / "logs" / f"{name}.log").exists()}
    for _ in range(100):  # its grade processes die with it (PR_SET_PDEATHSIG)
        if not _processes_mentioning(str(subs)):
            break
        time.sleep(0.1)
    assert not _processes_mentioning(str(subs)), "a child outlived the killed batch"

    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=900)
    assert second.returncode == 1, second.stdout + second.stderr  # latin1.py was skipped
    assert "latin1.py" in second.stdout and "UTF-8" in second.stdout
    names = _journalled(journal)
    assert sorted(names) == ["ann", "ben", "dup", "wrong"], names  # each once: none regraded
    assert names[:len(done)] == done  # what was done is still there, first
    for name, mtime in logs.items():
        assert (out / "logs" / f"{name}.log").stat().st_mtime_ns == mtime, f"{name} regraded"
    records = {r.name: r for r in Journal(journal).read()}
    assert records["wrong"].result.status == "failed"
    assert records["ann"].result.status == records["ben"].result.status == "passed"
    assert {records["dup"].reused_from, records["ann"].reused_from} & {"ann", "dup"}
    with (out / "results.csv").open(newline="") as stream:
        rows = {row["name"]: row for row in csv.DictReader(stream)}
    assert set(rows) == {"ann", "ben", "dup", "wrong", "latin1"}
    assert rows["latin1"]["status"] == "skipped"
    page = (out / "report.html").read_text()
    assert 'href="reports/ann.html"' in page and (out / "reports" / "wrong.html").is_file()
    assert rows["dup"]["note"] == "same file as ann" or rows["ann"]["note"] == "same file as dup"
