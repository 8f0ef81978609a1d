"""Hidden suite, robustness: bad arguments, one-shot iterators, memory over long epochs."""

from graders.testing import robustness


def _nothing_stepped(result, initial, what):
    assert result.answer["events"] == [], f"{what}: an optimizer or scheduler step was taken"
    assert result.answer["params"] == initial, f"{what}: the parameters changed"


@robustness
def test_accumulation_steps_below_one_raise_value_error(epoch, q7):
    """accumulation_steps < 1 (0 or negative) raises ValueError, and no step is taken."""
    for steps in (0, -1):
        result = epoch(sizes=[4] * 4, accumulation_steps=steps,
                       scheduler={"kind": "step", "step_size": 1, "gamma": 0.5})
        error = result.raised
        assert error is not None, f"accumulation_steps={steps} was accepted"
        assert error["type"] == "ValueError", (
            f"accumulation_steps={steps} raised {error['type']}, not ValueError")
        _nothing_stepped(result, q7.initial_parameters(result.spec),
                         f"accumulation_steps={steps}")


@robustness
def test_empty_batches_raise_value_error(epoch, q7):
    """An empty `batches` (a list or an iterator) raises ValueError, and no step is taken."""
    for one_shot, what in ((False, "an empty list"), (True, "an empty iterator")):
        result = epoch(sizes=[], accumulation_steps=2, one_shot=one_shot,
                       scheduler={"kind": "step", "step_size": 1, "gamma": 0.5})
        error = result.raised
        assert error is not None, f"{what} was accepted"
        assert error["type"] == "ValueError", f"{what} raised {error['type']}, not ValueError"
        _nothing_stepped(result, q7.initial_parameters(result.spec), what)


@robustness
def test_a_one_shot_iterator_is_iterated_once_without_len(epoch):
    """`batches` may be a one-shot iterator with no len(): iterated once, every micro-batch used."""
    result = epoch(sizes=[3, 5, 2, 6, 4], accumulation_steps=2, one_shot=True, seed=21)
    result.completed()
    assert result.answer["drawn"] == 5, "not every micro-batch of the iterator was used"
    result.check_steps().check_parameters("batches as a one-shot iterator").check_loss()


@robustness
def test_a_window_longer_than_the_epoch_is_one_step(epoch):
    """With fewer micro-batches than accumulation_steps, the epoch is one step on all of them."""
    epoch(sizes=[4, 3, 5], accumulation_steps=8, seed=22).check_all(
        "fewer micro-batches than accumulation_steps")


@robustness
def test_graphs_of_past_windows_are_not_kept_during_the_epoch(epoch):
    """Over a long epoch, no loss tensor or autograd graph outlives its window."""
    steps = 2
    result = epoch(sizes=[2] * 40, accumulation_steps=steps, seed=23).completed()
    assert result.answer["graphs_peak"] <= 2 * steps + 1, (
        "autograd graphs of past windows were still alive during the epoch: memory grows "
        "with the number of micro-batches")
    result.check_parameters("a long epoch")
