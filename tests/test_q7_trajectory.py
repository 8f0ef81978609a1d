"""The trusted-side helpers of q7_grad_accumulation: the large-batch oracle, its tolerance
and the driver's counters, checked in this process against the reference and defects.

The reference and its defective variants run here through the challenge's own
driver, without a sandbox: this proves the oracle agrees with a sound accumulation
loop to far inside the tolerance, and that the defects the hidden suite names
land far outside it. Grading never does this: there the submission runs in a worker.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
CHALLENGE = ROOT / "challenges" / "q7_grad_accumulation"
REFERENCE = (ROOT / "reference" / "q7_grad_accumulation.py").read_text(encoding="utf-8")


def _load_conftest() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("q7_conftest", CHALLENGE / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


q7 = _load_conftest()


def _module(source: str) -> types.ModuleType:
    module = types.ModuleType("solution")
    exec(compile(source, "<q7 variant>", "exec"), module.__dict__)
    return module


def _variant(*edits: tuple[str, str]) -> types.ModuleType:
    source = REFERENCE
    for find, replace in edits:
        assert source.count(find) == 1, find
        source = source.replace(find, replace)
    return _module(source)


def _run(module: types.ModuleType, **fields: Any) -> tuple[float, dict[str, Any]]:
    """The deviation (in tolerances) of `module`'s epoch from the oracle, and its answer."""
    spec = q7.spec_of(**fields)
    answer = q7.driver.Driver(module).run(spec)
    assert answer["raised"] is None, answer["raised"]
    return q7.max_deviation(answer["params"], q7.large_batch_epoch(spec)["params"]), answer


SPECS = {
    "sgd-equal": {"sizes": [4] * 6, "accumulation_steps": 2},
    "adam-partial": {"sizes": [4] * 7, "accumulation_steps": 3,
                     "optimizer": {"kind": "adam", "lr": 0.05}},
    "unequal": {"sizes": [2, 7, 3, 5, 1, 6, 4, 4, 8], "accumulation_steps": 3},
    "clip-classification": {"task": "classification", "sizes": [6, 2, 5, 3, 4],
                            "accumulation_steps": 2, "max_grad_norm": 0.5,
                            "optimizer": {"kind": "adamw", "lr": 0.05, "weight_decay": 0.1}},
    "scheduler-stale-one-shot": {"sizes": [4] * 7, "accumulation_steps": 2,
                                 "scheduler": {"kind": "step", "step_size": 1, "gamma": 0.5},
                                 "stale_grads": True, "one_shot": True},
}


@pytest.mark.parametrize("fields", SPECS.values(), ids=SPECS.keys())
def test_reference_matches_the_oracle_far_inside_the_tolerance(fields):
    deviation, answer = _run(_module(REFERENCE), **fields)
    assert deviation < 1e-3
    assert answer["graphs_alive_after"] == answer["losses_alive_after"] == 0


def test_the_builders_are_deterministic():
    spec = q7.spec_of(sizes=[3, 2], seed=5)
    (m1, b1), (m2, b2) = q7.driver.build(spec), q7.driver.build(spec)
    assert q7.driver.flat_parameters(m1) == q7.driver.flat_parameters(m2)
    assert all(torch.equal(x1, x2) and torch.equal(y1, y2)
               for (x1, y1), (x2, y2) in zip(b1, b2, strict=True))
    assert not m1.training  # the default mode is eval, so forgetting model.train() shows


DEFECTS = {
    "divides-by-accumulation-steps": (
        [("(loss * n).backward()", "(loss / accumulation_steps).backward()"),
         ("parameter.grad /= window_samples", "pass")],
        SPECS["adam-partial"]),
    "clips-per-micro-batch": (
        [("        (loss * n).backward()\n",
          "        (loss * n).backward()\n"
          "        if max_grad_norm is not None:\n"
          "            torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)\n")],
        SPECS["clip-classification"]),
    "equal-weighting": (
        [("(loss * n).backward()", "loss.backward()"),
         ("            step(window_samples)\n", "            step(in_window)\n"),
         ("step(window_samples)  # the last", "step(in_window)  # the last")],
        SPECS["unequal"]),
}


@pytest.mark.parametrize("edits, fields", DEFECTS.values(), ids=DEFECTS.keys())
def test_defects_land_far_outside_the_tolerance(edits, fields):
    deviation, _ = _run(_variant(*edits), **fields)
    assert deviation > 1e3


def test_memory_counter_is_flat_for_the_reference_and_grows_for_kept_losses():
    reference = q7.driver.Driver(_module(REFERENCE)).bench_memory(16, 4)
    assert reference["counters"] == {"growth": 1}
    leaky = _variant(("total_loss += loss.item() * n", "total_loss = total_loss + loss * n"),
                     ("return total_loss / total_samples",
                      "return (total_loss / total_samples).item()"))
    grown = q7.driver.Driver(leaky).bench_memory(16, 4)
    assert grown["counters"]["growth"] > 40  # one graph per extra micro-batch


def test_probe_counts_graphs_alive():
    probe = q7.driver.Probe(torch.nn.functional.mse_loss)
    x = torch.ones(2, 1, dtype=torch.float64, requires_grad=True)
    kept = [probe(x * 2, torch.zeros(2, 1, dtype=torch.float64)) for _ in range(3)]
    assert probe.alive == probe.peak == 3
    kept[0].backward()
    assert probe.alive == 3  # backward frees saved tensors, not the graph's nodes
    del kept
    assert probe.alive == 0 and probe.losses_alive() == 0
