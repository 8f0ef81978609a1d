"""Hidden suite, core: any epoch is a sequence of large-batch steps (property-based)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from graders.testing import core

OPTIMIZERS = [
    {"kind": "sgd", "lr": 0.1, "momentum": 0.9},
    {"kind": "sgd", "lr": 0.2},
    {"kind": "adam", "lr": 0.05},
    {"kind": "adamw", "lr": 0.05, "weight_decay": 0.1},
]
SCHEDULERS = [None, {"kind": "step", "step_size": 2, "gamma": 0.5},
              {"kind": "exponential", "gamma": 0.7}]


@st.composite
def epochs(draw):
    return {
        "seed": draw(st.integers(0, 10_000)),
        "task": draw(st.sampled_from(["regression", "classification"])),
        "sizes": draw(st.lists(st.integers(1, 6), min_size=1, max_size=10)),
        "accumulation_steps": draw(st.integers(1, 5)),
        "optimizer": draw(st.sampled_from(OPTIMIZERS)),
        "max_grad_norm": draw(st.sampled_from([None, 0.2, 1.0, 50.0])),
        "scheduler": draw(st.sampled_from(SCHEDULERS)),
        "one_shot": draw(st.booleans()),
        "stale_grads": draw(st.booleans()),
    }


@core
@settings(max_examples=30)
@given(fields=epochs())
def test_any_epoch_is_a_sequence_of_large_batch_steps(epoch, fields):
    """For any sizes, windows, optimizer, clipping and scheduler: the large-batch trajectory."""
    result = epoch(**fields).check_all("an epoch")
    if fields["scheduler"] is not None:
        assert result.answer["events"] == ["step", "schedule"] * result.steps(), (
            "the scheduler must step once right after each optimizer step")
