"""Worker-side operations for q7_grad_accumulation (public; runs inside the sandbox).

A test describes an epoch as a *spec*, a JSON object:

    {"seed": 7, "task": "regression" | "classification", "shape": [d_in, hidden, d_out],
     "sizes": [8, 8, 5, ...],                  # the size of each micro-batch, in order
     "accumulation_steps": 3,
     "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.9}
                | {"kind": "adam", "lr": 0.05} | {"kind": "adamw", "lr": 0.05, "weight_decay": 0.1},
     "max_grad_norm": null | 0.5,
     "scheduler": null | {"kind": "step", "step_size": 1, "gamma": 0.5}
                | {"kind": "exponential", "gamma": 0.8},
     "one_shot": false,                        # batches as a generator (no len) or a list
     "stale_grads": false,                     # every parameter has a gradient before the call
     "mode": "eval" | "train"}                 # the model's mode before the call

`build`, `make_optimizer`, `make_scheduler` and `LOSSES` turn a spec into the model
(a small float64 MLP), its micro-batches, the optimizer, the scheduler and the loss,
from the spec's seed: the trusted side loads this file by path and calls the same
builders, so only numbers cross the channel. `run` calls the submission's
`train_epoch` on them and reports what happened: the parameters afterwards, the
optimizer and scheduler steps in order, the training flag of every forward pass,
and how many autograd graphs and loss tensors were alive during and after the call.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
import torch._dynamo  # noqa: F401 - the first optimizer imports it (seconds): now, at load
from driverkit import encode, raised

torch.set_num_threads(1)  # tiny tensors: one thread is fastest, and the same on both sides

DTYPE = torch.float64
Batch = tuple[torch.Tensor, torch.Tensor]


# ------------------------------------------------------------------ builders (both sides)


class Net(torch.nn.Module):
    """A two-layer MLP that records the training flag of each forward pass."""

    def __init__(self, d_in: int, hidden: int, d_out: int) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(d_in, hidden, dtype=DTYPE)
        self.out = torch.nn.Linear(hidden, d_out, dtype=DTYPE)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.out(torch.tanh(self.hidden(x)))


def _data(task: str, n: int, d_in: int, d_out: int, generator: torch.Generator) -> Batch:
    inputs = torch.randn(n, d_in, generator=generator, dtype=DTYPE)
    if task == "classification":
        return inputs, torch.randint(0, d_out, (n,), generator=generator)
    return inputs, torch.randn(n, d_out, generator=generator, dtype=DTYPE)


def build(spec: dict[str, Any]) -> tuple[Net, list[Batch]]:
    """The model of `spec` (in the spec's mode) and its micro-batches, from its seed."""
    d_in, hidden, d_out = spec.get("shape", (5, 8, 3))
    generator = torch.Generator().manual_seed(spec["seed"])
    model = Net(d_in, hidden, d_out)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=DTYPE) * 0.5)
    batches = [_data(spec.get("task", "regression"), n, d_in, d_out, generator)
               for n in spec["sizes"]]
    model.train(spec.get("mode", "eval") == "train")
    return model, batches


def make_optimizer(spec: dict[str, Any], model: torch.nn.Module) -> torch.optim.Optimizer:
    options = dict(spec["optimizer"])
    kind = options.pop("kind")
    factory = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    return factory[kind](model.parameters(), **options)


def make_scheduler(spec: dict[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    options = spec.get("scheduler")
    if options is None:
        return None
    options = dict(options)
    kind = options.pop("kind")
    factory = {"step": torch.optim.lr_scheduler.StepLR,
               "exponential": torch.optim.lr_scheduler.ExponentialLR}
    return factory[kind](optimizer, **options)


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "regression": torch.nn.functional.mse_loss,        # mean over the micro-batch
    "classification": torch.nn.functional.cross_entropy,  # mean over the micro-batch
}


def flat_parameters(model: torch.nn.Module) -> list[float]:
    return [float(v) for p in model.parameters() for v in p.detach().reshape(-1).tolist()]


# ------------------------------------------------------------------ observing the call


class Probe:
    """Wraps a loss function: each loss it returns passes through an identity autograd
    node whose context it watches, so it knows how many of the graphs it handed out are
    still alive (a graph lives while anything refers to its loss, or to a tensor computed
    from it), and holds a weak reference to each loss tensor."""

    def __init__(self, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        self.loss_fn = loss_fn
        self.alive = 0
        self.peak = 0
        self.calls = 0
        self.losses: list[weakref.ref[torch.Tensor]] = []

    def _dead(self, _: object) -> None:
        self.alive -= 1

    def track(self, ctx: object) -> None:
        weakref.finalize(ctx, self._dead, None)
        self.alive += 1
        self.peak = max(self.peak, self.alive)

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        loss = _Tap.apply(self.loss_fn(outputs, targets), self)
        self.losses.append(weakref.ref(loss))
        return loss

    def losses_alive(self) -> int:
        return sum(ref() is not None for ref in self.losses)


class _Tap(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, loss: torch.Tensor, probe: Probe) -> torch.Tensor:
        probe.track(ctx)
        return loss.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad, None


def _one_shot(batches: list[Batch], drawn: list[int]) -> Iterator[Batch]:
    """A generator: it can be iterated once, and has no len()."""
    while batches:
        drawn[0] += 1
        yield batches.pop(0)  # the generator keeps no micro-batch it has handed out


def _record_steps(optimizer: torch.optim.Optimizer, scheduler: Any, events: list[str]) -> None:
    optimizer.register_step_post_hook(lambda *_: events.append("step"))
    if scheduler is not None:
        step = scheduler.step

        def counted_step(*args: Any, **kwargs: Any) -> Any:
            events.append("schedule")
            return step(*args, **kwargs)

        scheduler.step = counted_step


class Driver:
    def __init__(self, submission: Any) -> None:
        self.train_epoch = submission.train_epoch

    def run(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One epoch of the submission's train_epoch on `spec`, and what it did."""
        model, batches = build(spec)
        optimizer = make_optimizer(spec, model)
        scheduler = make_scheduler(spec, optimizer)
        events: list[str] = []
        _record_steps(optimizer, scheduler, events)
        if spec.get("stale_grads"):
            generator = torch.Generator().manual_seed(spec["seed"] + 1)
            for parameter in model.parameters():
                parameter.grad = torch.randn(parameter.shape, generator=generator,
                                             dtype=DTYPE) * 10
        probe = Probe(LOSSES[spec.get("task", "regression")])
        drawn = [0]
        source: Iterable[Batch] = (_one_shot(batches, drawn) if spec.get("one_shot")
                                   else list(batches))
        del batches
        options: dict[str, Any] = {}  # None is the default: not passed, so the default is used
        if spec.get("max_grad_norm") is not None:
            options["max_grad_norm"] = spec["max_grad_norm"]
        if scheduler is not None:
            options["scheduler"] = scheduler
        error = None
        gc.freeze()  # the collection below then looks at the objects of this call only
        try:
            try:
                value = self.train_epoch(model, source, optimizer, probe,
                                         spec["accumulation_steps"], **options)
            except Exception as exc:  # noqa: BLE001 - reported to the trusted side
                value, error = None, raised(exc)
            del source
            peak = probe.peak
            value = encode(value)
            gc.collect()
        finally:
            gc.unfreeze()
        return {
            "raised": error,
            "value": value,
            "params": flat_parameters(model),
            "events": events,
            "modes": sorted(set(model.modes)),
            "training_after": all(m.training for m in model.modules()),
            "graphs_peak": peak,
            "graphs_alive_after": probe.alive,
            "losses_alive_after": probe.losses_alive(),
            "loss_calls": probe.calls,
            "drawn": drawn[0],
        }

    # -- performance batches: timed from outside, one call each -----------------

    def bench_epoch(self, micro_batches: int, size: int, accumulation_steps: int,
                    seed: int = 0) -> list[Any]:
        """One epoch of `micro_batches` micro-batches of `size` samples, with Adam, clipping
        and a scheduler, from a fresh `seed`. Answers [optimizer steps, scheduler steps, the
        mean loss and the sum of squared parameters, each to 6 significant digits]: coarse
        enough that two correct implementations agree, fine enough that skipped work shows."""
        spec = {"seed": seed, "task": "regression", "shape": [16, 32, 4],
                "sizes": [size] * micro_batches, "accumulation_steps": accumulation_steps,
                "optimizer": {"kind": "adam", "lr": 0.01}, "max_grad_norm": 1.0,
                "scheduler": {"kind": "exponential", "gamma": 0.99}}
        model, batches = build(spec)
        optimizer = make_optimizer(spec, model)
        scheduler = make_scheduler(spec, optimizer)
        events: list[str] = []
        _record_steps(optimizer, scheduler, events)
        loss = self.train_epoch(model, iter(batches), optimizer, LOSSES["regression"],
                                accumulation_steps, max_grad_norm=1.0, scheduler=scheduler)
        squares = sum(float(p.detach().square().sum()) for p in model.parameters())
        return [events.count("step"), events.count("schedule"),
                float(f"{loss:.6g}") if type(loss) is float else encode(loss),
                float(f"{squares:.6g}")]

    def bench_memory(self, micro_batches: int, accumulation_steps: int) -> dict[str, Any]:
        """Epochs of N = `micro_batches` and of 4N micro-batches (made one at a time by a
        generator), with Adam, clipping and a scheduler. When the last micro-batch is asked
        for, it counts the tensors alive (made since the measure began); it also takes the
        peak number of the epoch's autograd graphs alive. Counter `growth`: 1 + how many
        more of both there are with 4N micro-batches than with N (1: no growth)."""
        counts = []
        gc.freeze()  # objects from before are not counted, and collections skip them
        try:
            for n in (micro_batches, 4 * micro_batches):
                counts.append(self._alive_at_last_micro_batch(n, accumulation_steps))
                gc.collect()
        finally:
            gc.unfreeze()
        growth = sum(large - small for small, large in zip(*counts, strict=True))
        return {"counters": {"growth": 1 + max(0, growth)},
                "tensors": [c[0] for c in counts], "graphs": [c[1] for c in counts]}

    def _alive_at_last_micro_batch(self, n: int, accumulation_steps: int) -> tuple[int, int]:
        spec = {"seed": n, "shape": [8, 16, 4], "sizes": [], "accumulation_steps": 1,
                "optimizer": {"kind": "adam", "lr": 0.01},
                "scheduler": {"kind": "exponential", "gamma": 0.99}}
        model, _ = build(spec)
        optimizer = make_optimizer(spec, model)
        scheduler = make_scheduler(spec, optimizer)
        generator = torch.Generator().manual_seed(n)
        tensors = 0

        def batches() -> Iterator[Batch]:
            nonlocal tensors
            for i in range(n):
                if i == n - 1:  # the epoch's state just before its last micro-batch
                    gc.collect()
                    tensors = sum(1 for o in gc.get_objects()
                                  if issubclass(type(o), torch.Tensor))
                yield _data("regression", 8, 8, 4, generator)

        probe = Probe(LOSSES["regression"])
        self.train_epoch(model, batches(), optimizer, probe, accumulation_steps,
                         max_grad_norm=1.0, scheduler=scheduler)
        return tensors, probe.peak
