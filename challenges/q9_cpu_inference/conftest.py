"""Helpers shared by the public and hidden tests of q9_cpu_inference (trusted side).

The driver calls the submission's `load` and `encode` in the sandbox and reports
what `encode` returned; every judgement is made here, against the FP32 golden
embeddings made by make_golden.py (public/golden.npy, hidden/golden.npy).

The load budget is `[limits] call_timeout_s` of challenge.toml: `load(model_dir,
work_dir)` runs within one driver call, here and in the performance phase (where
the first timed call of a sandbox loads, in a warm-up round). A load that does not
return within it fails its test, and every later test of the run at once.
"""

from __future__ import annotations

import base64
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graders.proxy import TestTimeout, WorkerTimeout
from graders.testing import Submission, SubmissionRaised

HERE = Path(__file__).resolve().parent
LOAD_BUDGET_S = float(tomllib.loads((HERE / "challenge.toml").read_text())["limits"]
                      ["call_timeout_s"])
DIM = 384
MIN_COSINE = 0.99
NORM_TOLERANCE = 1e-3
CHUNK = 50  # texts per driver call: ~150 KB per answer
CHUNK_TIMEOUT_S = 60.0


def texts(where: str) -> list[str]:
    return json.loads((HERE / where / "texts.json").read_text(encoding="utf-8"))


def golden(where: str, name: str = "golden.npy") -> np.ndarray:
    return np.load(HERE / where / name).astype(np.float64)


@dataclass
class Embedding:
    """One answer of encode, as the driver read it."""

    type: str
    shape: list[int] | None
    values: np.ndarray | None  # float64, when the answer is a flat sequence of numbers

    @classmethod
    def of(cls, seen: dict[str, Any]) -> Embedding:
        values = None
        if seen.get("values") is not None:
            values = np.frombuffer(base64.b64decode(seen["values"]), dtype="<f8")
        return cls(type=seen["type"], shape=seen["shape"], values=values)

    def shape_problem(self) -> str | None:
        """Why this is not 384 values in a list, tuple or 1-D numpy array, or None."""
        if self.shape is None:
            return (f"encode returned a {self.type}, not a list, tuple or 1-D numpy array "
                    "of 384 floats")
        if len(self.shape) != 1:
            return (f"encode returned a {self.type} of shape {tuple(self.shape)}; expected "
                    "384 floats in a list, tuple or 1-D numpy array")
        if self.values is None:
            return (f"encode returned a {self.type} whose items are not all real numbers; "
                    "expected 384 floats")
        if self.shape != [DIM]:
            return f"encode returned {self.shape[0]} values; expected 384"
        return None

    @property
    def finite(self) -> bool:
        return self.values is not None and bool(np.all(np.isfinite(self.values)))

    @property
    def norm(self) -> float:
        assert self.values is not None
        return float(np.linalg.norm(self.values))


class Embedder:
    """The submission's encoder in the sandbox, loaded within the load budget."""

    def __init__(self, submission: Submission, state: dict[str, Any]) -> None:
        self.submission = submission
        self.state = state

    def load(self) -> None:
        failed = self.state.get("load_failed")
        if failed:
            raise AssertionError(f"{failed} (in an earlier test; not tried again)")
        try:
            answer = self.submission.call("load", timeout=LOAD_BUDGET_S)
        except TestTimeout:
            raise
        except WorkerTimeout:
            self.state["load_failed"] = (f"load(model_dir, work_dir) did not return within "
                                         f"the load budget of {LOAD_BUDGET_S:g} s")
            raise AssertionError(self.state["load_failed"]) from None
        except SubmissionRaised as exc:
            raise AssertionError(f"load(model_dir, work_dir) raised {exc.kind}") from None
        if not answer["callable"]:
            raise AssertionError(f"load(model_dir, work_dir) returned a {answer['type']}, "
                                 "not a callable")

    def encode(self, items: list[str]) -> list[Embedding]:
        self.load()
        found: list[Embedding] = []
        for start in range(0, len(items), CHUNK):
            try:
                answers = self.submission.call("encode_many", texts=items[start:start + CHUNK],
                                               timeout=CHUNK_TIMEOUT_S)
            except SubmissionRaised as exc:
                raise AssertionError(f"encode(text) raised {exc.kind}") from None
            found += [Embedding.of(seen) for seen in answers]
        return found

    def embeddings(self, where: str) -> list[Embedding]:
        """The embeddings of a stored set, computed once per run and shared by its tests."""
        cache = self.state.setdefault("embeddings", {})
        if where not in cache:
            cache[where] = self.encode(texts(where))
        return cache[where]


@pytest.fixture(scope="session")
def q9_state() -> dict[str, Any]:
    """What the tests of one grading run share: embeddings computed, a load that failed."""
    return {}


@pytest.fixture
def embedder(submission: Submission, q9_state: dict[str, Any]) -> Embedder:
    return Embedder(submission, q9_state)


# -- the checks, each with a message that says what is wrong (never a text) ---------------


def check_shapes(found: list[Embedding]) -> None:
    """Every answer is 384 real numbers in a list, tuple or 1-D numpy array."""
    bad = [e.shape_problem() for e in found if e.shape_problem()]
    assert not bad, f"{bad[0]} (for {len(bad)} of {len(found)} texts)"


def check_finite(found: list[Embedding]) -> None:
    """As check_shapes, and no NaN or infinite value."""
    check_shapes(found)
    bad = sum(not e.finite for e in found)
    assert not bad, f"embeddings with NaN or infinite values for {bad} of {len(found)} texts"


def check_norms(found: list[Embedding]) -> None:
    """As check_finite, and every L2 norm within 1e-3 of 1."""
    check_finite(found)
    norms = np.array([e.norm for e in found])
    off = np.abs(norms - 1.0)
    worst = float(norms[np.argmax(off)])
    assert off.max() <= NORM_TOLERANCE, (
        f"the L2 norm is off by more than 1e-3 for {int((off > NORM_TOLERANCE).sum())} of "
        f"{len(found)} texts (worst {worst:.4g}); embeddings must be L2-normalised")


def cosines(found: list[Embedding], expected: np.ndarray) -> np.ndarray:
    check_finite(found)
    values = np.stack([e.values for e in found if e.values is not None])
    norms = np.linalg.norm(values, axis=1) * np.linalg.norm(expected, axis=1)
    dots = np.sum(values * expected, axis=1)
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def check_quality(found: list[Embedding], expected: np.ndarray, what: str) -> str:
    """As check_finite, and every cosine to the FP32 embedding >= 0.99; returns a note
    with the minimum and the mean."""
    assert len(found) == len(expected)
    cos = cosines(found, expected)
    low = int((cos < MIN_COSINE).sum())
    summary = f"min {cos.min():.4f}, mean {cos.mean():.4f}"
    assert low == 0, (f"cosine similarity to the FP32 embedding below 0.99 for {low} of "
                      f"{len(cos)} {what}: {summary}")
    return f"cosine to the FP32 embeddings over {len(cos)} {what}: {summary}"


class Checks:
    """The checks and the stored data, for the tests (which import nothing from here)."""

    shapes = staticmethod(check_shapes)
    finite = staticmethod(check_finite)
    norms = staticmethod(check_norms)
    quality = staticmethod(check_quality)
    texts = staticmethod(texts)
    golden = staticmethod(golden)

    @staticmethod
    def timed() -> dict[str, Any]:
        """The hidden seeds of encode_fresh, the digests of their texts, their golden."""
        stored = json.loads((HERE / "hidden" / "timed.json").read_text(encoding="utf-8"))
        return {**stored, "golden": golden("hidden", "timed_golden.npy")}

    @staticmethod
    def observed(answers: list[dict[str, Any]]) -> list[Embedding]:
        return [Embedding.of(answer) for answer in answers]


@pytest.fixture
def check() -> type[Checks]:
    return Checks
