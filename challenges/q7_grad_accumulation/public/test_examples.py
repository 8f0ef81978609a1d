"""Example tests a candidate may read; `grade` runs them with full detail.

They run your `train_epoch` inside the sandbox through the challenge's driver
(driver.py). `epoch(**fields)` builds an epoch from a spec (see driver.py: a small
float64 MLP, its micro-batches of the given sizes, an optimizer, optionally a
scheduler and clipping, all from a seed), runs your train_epoch on it, and
returns what happened next to what must happen: `check_all` compares the
parameters afterwards with those of one large-batch step per window (computed
here, independently), the number of optimizer steps, and the returned loss.
"""

from graders.testing import core


@core
def test_example_equal_windows(epoch):
    """Example: 6 micro-batches of 4 samples, 2 per window: 3 large-batch steps of 8 samples."""
    result = epoch(sizes=[4, 4, 4, 4, 4, 4], accumulation_steps=2,
                   optimizer={"kind": "sgd", "lr": 0.1, "momentum": 0.9})
    result.check_all("equal windows")
    assert result.steps() == 3


@core
def test_example_short_last_window(epoch):
    """Example: 5 micro-batches, 2 per window: the last window has one micro-batch; 3 steps."""
    result = epoch(sizes=[4, 4, 4, 4, 4], accumulation_steps=2,
                   optimizer={"kind": "adam", "lr": 0.05})
    result.check_all("a short last window")
    assert result.steps() == 3
