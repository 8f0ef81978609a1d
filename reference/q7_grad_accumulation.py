"""Reference solution for q7_grad_accumulation: a training epoch with gradient accumulation.

Design:

- Each micro-batch's backward pass is on ``loss * n`` (``n`` its size), so the
  gradients accumulate the *sum* of the per-sample losses' gradients, whatever the
  sizes. When a window ends (``accumulation_steps`` micro-batches, or the end of
  the data) the gradients are divided by the window's sample count: that is the
  gradient of the window's mean loss, the gradient of one large batch. The count
  is only known at the window's end, which is why the division comes then and not
  before each backward pass (dividing by ``accumulation_steps`` is wrong for a
  short last window, and averaging micro-batch losses is wrong for unequal sizes).
- Clipping, when asked, comes after that division (it clips the mean gradient),
  once per window, then the optimizer steps, then the scheduler, then the
  gradients are dropped for the next window.
- The loss is summed as a Python float (``loss.item() * n``): no tensor of the
  epoch outlives its micro-batch, so no autograd graph is kept and memory does
  not grow with the number of micro-batches. ``batches`` is iterated once and
  never measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

__all__ = ["train_epoch"]


def train_epoch(
    model: torch.nn.Module,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    accumulation_steps: int,
    *,
    max_grad_norm: float | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> float:
    """One epoch over ``batches``, one optimizer step per ``accumulation_steps``
    micro-batches; returns the mean loss per sample."""
    if accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be >= 1, got {accumulation_steps!r}")
    model.train()
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer.zero_grad(set_to_none=True)  # gradients from before the call are not ours

    def step(window_samples: int) -> None:
        for parameter in parameters:  # the gradient of the sum of losses -> of the mean
            if parameter.grad is not None:
                parameter.grad /= window_samples
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        optimizer.zero_grad(set_to_none=True)

    total_loss = 0.0
    total_samples = 0
    window_samples = 0
    in_window = 0
    for inputs, targets in batches:
        n = targets.shape[0]
        loss = loss_fn(model(inputs), targets)
        (loss * n).backward()
        total_loss += loss.item() * n
        total_samples += n
        window_samples += n
        in_window += 1
        if in_window == accumulation_steps:
            step(window_samples)
            window_samples = in_window = 0
    if total_samples == 0:
        raise ValueError("batches is empty: an epoch needs at least one sample")
    if in_window:
        step(window_samples)  # the last window, shorter than accumulation_steps
    return total_loss / total_samples
