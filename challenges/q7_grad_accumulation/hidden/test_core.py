"""Hidden suite, core: each optimizer step is the step of one large batch."""

from graders.testing import core

SGD = {"kind": "sgd", "lr": 0.1, "momentum": 0.9}
PLAIN_SGD = {"kind": "sgd", "lr": 0.2}
ADAM = {"kind": "adam", "lr": 0.05}
ADAMW = {"kind": "adamw", "lr": 0.05, "weight_decay": 0.1}


@core
def test_equal_windows_with_sgd_momentum(epoch):
    """Equal micro-batches in full windows, SGD with momentum: each step is a large batch's."""
    for task in ("regression", "classification"):
        epoch(task=task, sizes=[4] * 8, accumulation_steps=4, optimizer=SGD).check_all(
            f"equal micro-batches, full windows, SGD with momentum ({task})")


@core
def test_equal_windows_with_adam(epoch):
    """Equal micro-batches in full windows, Adam and AdamW: each step is a large batch's."""
    for optimizer in (ADAM, ADAMW):
        epoch(task="classification", sizes=[5] * 9, accumulation_steps=3, optimizer=optimizer,
              seed=2).check_all(f"equal micro-batches, full windows, {optimizer['kind']}")


@core
def test_accumulation_steps_one_steps_after_every_micro_batch(epoch):
    """accumulation_steps=1: one optimizer step per micro-batch, each on its own gradient."""
    epoch(sizes=[3, 5, 4, 6], accumulation_steps=1, optimizer=ADAM, seed=3).check_all(
        "accumulation_steps=1")


@core
def test_gradients_do_not_leak_between_windows(epoch):
    """Each window starts from zero gradients: nothing leaks from the window before."""
    epoch(sizes=[4] * 6, accumulation_steps=2, optimizer=PLAIN_SGD, seed=4).check_all(
        "plain SGD over several windows")


@core
def test_final_partial_window_is_one_step_on_its_own_mean(epoch):
    """A last window shorter than accumulation_steps is stepped, on the mean over its samples."""
    for optimizer in (SGD, ADAM):
        epoch(sizes=[4] * 7, accumulation_steps=3, optimizer=optimizer, seed=5).check_all(
            f"a last window shorter than accumulation_steps ({optimizer['kind']})")


@core
def test_unequal_micro_batches_count_in_proportion_to_their_size(epoch):
    """Micro-batches of unequal sizes: each counts in proportion to its size in its window."""
    for optimizer in (SGD, ADAM):
        result = epoch(sizes=[2, 7, 3, 5, 1, 6, 4, 4, 8], accumulation_steps=3,
                       optimizer=optimizer, seed=6)
        result.completed().check_steps().check_parameters(
            f"micro-batches of unequal sizes ({optimizer['kind']})")


@core
def test_returns_the_mean_loss_per_sample_as_a_float(epoch):
    """The return value is a Python float: the mean loss per sample over the epoch."""
    result = epoch(sizes=[2, 7, 3, 5, 1, 6, 4], accumulation_steps=2, seed=7)
    result.completed().check_loss()


@core
def test_clipping_once_per_step_by_total_norm(epoch):
    """max_grad_norm clips the window's mean gradient by its total norm, once, before the step."""
    for sizes, which in (([4] * 6, "equal"), ([3, 6, 2, 5, 7, 1, 4], "unequal")):
        epoch(sizes=sizes, accumulation_steps=3, max_grad_norm=0.3, seed=8).check_all(
            f"with max_grad_norm ({which} micro-batches)")


@core
def test_clipping_with_adam_and_a_partial_window(epoch):
    """Clipping with Adam and a short last window: the large batch's clipped steps."""
    epoch(task="classification", sizes=[6, 2, 5, 3, 4], accumulation_steps=2,
          max_grad_norm=0.5, optimizer=ADAMW, seed=9).check_all(
        "with max_grad_norm, Adam and a short last window")


@core
def test_scheduler_steps_once_after_each_optimizer_step(epoch):
    """The scheduler steps once after each optimizer step, never per micro-batch."""
    result = epoch(sizes=[4] * 7, accumulation_steps=2, seed=10,
                   scheduler={"kind": "step", "step_size": 1, "gamma": 0.5})
    result.completed().check_steps()
    events = result.answer["events"]
    assert events.count("schedule") == events.count("step"), (
        f"{events.count('schedule')} scheduler steps for {events.count('step')} optimizer "
        "steps: expected one per optimizer step")
    assert events == ["step", "schedule"] * result.steps(), (
        "the scheduler must step right after each optimizer step, not before it")
    result.check_parameters("with a scheduler")


@core
def test_gradients_present_before_the_call_are_discarded(epoch):
    """Gradients the parameters hold before the call take no part in any step."""
    epoch(sizes=[4] * 6, accumulation_steps=3, stale_grads=True, seed=11).check_all(
        "with gradients left on the parameters before the call")


@core
def test_model_is_put_in_training_mode(epoch):
    """A model given in eval mode runs every forward pass in training mode, and stays in it."""
    result = epoch(sizes=[4] * 4, accumulation_steps=2, mode="eval", seed=12).completed()
    assert result.answer["modes"] == [True], "a forward pass ran with the model in eval mode"
    assert result.answer["training_after"], "the model is not in training mode after the call"


@core
def test_no_loss_tensor_or_graph_is_alive_after_the_call(epoch):
    """Once train_epoch returns, none of the epoch's loss tensors or autograd graphs is alive."""
    result = epoch(sizes=[4] * 6, accumulation_steps=2, seed=13).completed()
    assert result.answer["losses_alive_after"] == 0, (
        "a loss tensor of the epoch is still referenced after the call")
    assert result.answer["graphs_alive_after"] == 0, (
        "an autograd graph of the epoch is still alive after the call")
