"""The interview guide's answer (Q7, SentimentTrainer.train_epoch), adapted to the signature.

Adapted: the trainer's attributes became arguments; the CUDA-only parts (moving the
batch to the device, autocast, GradScaler) are gone, since they do nothing on CPU;
clipping and the scheduler are skipped when not given; tqdm's progress bar is gone,
but not the len() of the batches it needed (`total=len(self.train_dataloader)`).
Kept, as the guide has them: the loss divided by accumulation_steps, a step only
when (step + 1) is a multiple of accumulation_steps (so a short last window's
gradients are never stepped), the mean over micro-batches returned, and no check
of the arguments.
"""

import torch


def train_epoch(model, batches, optimizer, loss_fn, accumulation_steps, *,
                max_grad_norm=None, scheduler=None):
    """Train for one epoch with gradient accumulation"""
    model.train()
    total_loss = 0
    optimizer.zero_grad()

    num_batches = len(batches)  # the guide: tqdm(enumerate(dataloader), total=len(dataloader))

    for step, (inputs, targets) in enumerate(batches):
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        # Scale loss for gradient accumulation
        loss = loss / accumulation_steps

        loss.backward()

        # Gradient accumulation: only step optimizer every N steps
        if (step + 1) % accumulation_steps == 0:
            # Gradient clipping (prevent exploding gradients)
            if max_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)

            # Optimizer step
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            optimizer.zero_grad()

        # Track loss
        total_loss += loss.item() * accumulation_steps

    return total_loss / num_batches
