"""Helpers shared by the public and hidden tests of q7_grad_accumulation (trusted side).

The builders of models, micro-batches, optimizers and schedulers are the driver's
own (driver.py is public author code): this file loads it by path, so the epoch
the worker runs from a spec is rebuilt here, identical, from the same seed. The
expected parameters come from `large_batch_epoch`, written here independently of
any submission: one window at a time, the window's micro-batches are concatenated
into one large batch, and one forward and backward pass on it gives the gradient
the optimizer steps with.

Everything is float64, so two correct implementations differ by rounding only
(about 1e-15 relative); the tolerances below are a million times looser than that
and thousands of times tighter than the differences the defects make (measured
in tests/test_q7_trajectory.py).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from graders.testing import Submission, load_driver

RTOL = 1e-7  # parameters: |got - expected| <= ATOL + RTOL * |expected|
ATOL = 1e-9
LOSS_RTOL = 1e-6  # the returned mean loss (relative)


driver = load_driver(__file__)


# ------------------------------------------------------------------ the oracle


def large_batch_epoch(spec: dict[str, Any]) -> dict[str, Any]:
    """What the epoch of `spec` must give: each window as one large batch.

    Returns the parameters afterwards, the mean loss per sample over the epoch, the
    number of optimizer steps, and the learning rate of each step.
    """
    model, batches = driver.build(spec)
    model.train()
    optimizer = driver.make_optimizer(spec, model)
    scheduler = driver.make_scheduler(spec, optimizer)
    loss_fn = driver.LOSSES[spec.get("task", "regression")]
    k = spec["accumulation_steps"]
    max_grad_norm = spec.get("max_grad_norm")
    total, samples, lrs = 0.0, 0, []
    for start in range(0, len(batches), k):
        window = batches[start:start + k]
        inputs = torch.cat([x for x, _ in window])
        targets = torch.cat([y for _, y in window])
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(inputs), targets)  # the mean over the window's samples
        loss.backward()
        total += loss.item() * targets.shape[0]
        samples += targets.shape[0]
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_grad_norm)
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return {"params": driver.flat_parameters(model), "loss": total / samples,
            "steps": len(lrs), "lrs": lrs}


def initial_parameters(spec: dict[str, Any]) -> list[float]:
    model, _ = driver.build(spec)
    return driver.flat_parameters(model)


def max_deviation(got: list[float], expected: list[float]) -> float:
    """The largest |got - expected| / (ATOL + RTOL * |expected|): at most 1 is a match."""
    if len(got) != len(expected):
        return math.inf
    worst = 0.0
    for g, e in zip(got, expected, strict=True):
        if not (type(g) is float and math.isfinite(g)):
            return math.inf
        worst = max(worst, abs(g - e) / (ATOL + RTOL * abs(e)))
    return worst


def spec_of(**fields: Any) -> dict[str, Any]:
    """A spec with defaults: regression, SGD with momentum, no clipping, no scheduler."""
    spec: dict[str, Any] = {"seed": 1, "task": "regression", "shape": [5, 8, 3],
                            "sizes": [4] * 6, "accumulation_steps": 2,
                            "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.9},
                            "max_grad_norm": None, "scheduler": None,
                            "one_shot": False, "stale_grads": False, "mode": "eval"}
    spec.update(fields)
    return spec


class Epoch:
    """The submission's run of one spec, next to what it must give."""

    def __init__(self, spec: dict[str, Any], answer: dict[str, Any]) -> None:
        self.spec = spec
        self.answer = answer

    @functools.cached_property
    def expected(self) -> dict[str, Any]:
        return large_batch_epoch(self.spec)

    @property
    def raised(self) -> dict[str, str] | None:
        return self.answer["raised"]

    def completed(self) -> Epoch:
        """Asserts that train_epoch returned."""
        error = self.raised
        assert error is None, f"train_epoch raised {error['type']}: {error['message']}"
        return self

    def steps(self) -> int:
        return self.answer["events"].count("step")

    def check_steps(self) -> Epoch:
        expected = self.expected["steps"]
        got = self.steps()
        assert got == expected, (
            f"{abs(got - expected)} optimizer step(s) {'more' if got > expected else 'fewer'} "
            "than one per window of accumulation_steps micro-batches (the last window "
            "possibly shorter)")
        return self

    def check_parameters(self, what: str) -> Epoch:
        deviation = max_deviation(self.answer["params"], self.expected["params"])
        assert deviation <= 1, (
            f"{what}: the parameters after the epoch differ from those of one large-batch "
            f"step per window (off by {deviation:.3g} x the tolerance)")
        return self

    def check_loss(self) -> Epoch:
        value = self.answer["value"]
        assert type(value) is float, (
            f"train_epoch returned {type_name(value)}, not a Python float")
        expected = self.expected["loss"]
        assert math.isclose(value, expected, rel_tol=LOSS_RTOL, abs_tol=1e-12), (
            "the returned loss is not the mean loss per sample over the epoch "
            f"(off by a factor {value / expected:.6g})" if expected else
            "the returned loss is not the mean loss per sample over the epoch")
        return self

    def check_all(self, what: str) -> Epoch:
        """Returned, stepped once per window, the large-batch parameters and the loss."""
        return self.completed().check_steps().check_parameters(what).check_loss()


def type_name(value: Any) -> str:
    if isinstance(value, dict) and "$type" in value:
        return f"a {value['$type']}"
    return "None" if value is None else f"a {type(value).__name__}"


@pytest.fixture
def epoch(submission: Submission) -> Any:
    """epoch(**spec fields) runs train_epoch in the worker and returns an Epoch."""

    def run(**fields: Any) -> Epoch:
        spec = spec_of(**fields)
        return Epoch(spec, submission.call("run", spec=spec))

    return run


@pytest.fixture
def q7() -> SimpleNamespace:
    """The helpers above, for test modules (which cannot import this conftest)."""
    return SimpleNamespace(initial_parameters=initial_parameters,
                           large_batch_epoch=large_batch_epoch, spec_of=spec_of)
