"""q7_grad_accumulation: a training epoch with gradient accumulation. Start here; see README.md."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


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
    """Train `model` for one epoch over `batches`, one optimizer step per window of
    `accumulation_steps` micro-batches (the last window may be shorter).

    - `batches` yields `(inputs, targets)`; it may be a one-shot iterator: iterate
      it once, never call len() on it. A micro-batch's size is `targets.shape[0]`;
      `loss_fn(model(inputs), targets)` is the mean loss over the micro-batch.
    - Each step equals the step of one large batch made of the window's samples:
      the gradient of the mean loss over them (each micro-batch counts in
      proportion to its size). Gradients never leak between windows; gradients
      present before the call are discarded.
    - `max_grad_norm`: clip that gradient by its total norm
      (torch.nn.utils.clip_grad_norm_), once per step, before the step.
    - `scheduler`: step it once after each optimizer step.
    - Puts the model in training mode; returns the mean loss per sample over the
      epoch as a Python float; keeps no autograd graph alive.
    - `accumulation_steps < 1`, or an empty `batches`, raise ValueError before
      any step.
    """
    raise NotImplementedError("train_epoch is not implemented yet")
