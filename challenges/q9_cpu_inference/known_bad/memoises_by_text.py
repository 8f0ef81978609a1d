"""Known-bad: the eager PyTorch stub with a cache by text, filled at load time.

At load it encodes every sentence the driver makes latency texts from (its POOL,
found among the modules the worker has loaded), then serves any text seen before
from a dict. Every timed text is new, so the cache never hits in a
timed call: it must fail the latency metric like the stub it wraps.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Callable, Sequence

import torch
from transformers import AutoModel, AutoTokenizer


def load(model_dir: str, work_dir: str) -> Callable[[str], Sequence[float]]:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    def compute(text: str) -> list[float]:
        batch = tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            tokens = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1)
        return torch.nn.functional.normalize(pooled, dim=1)[0].tolist()

    cache: dict[str, list[float]] = {}
    drivers = [m for m in gc.get_objects() if isinstance(m, types.ModuleType)
               and m.__name__.startswith("graders_driver_") and hasattr(m, "POOL")]
    for text in drivers[0].POOL if drivers else ():
        cache[text] = compute(text)

    def encode(text: str) -> list[float]:
        found = cache.get(text)
        if found is None:
            found = cache[text] = compute(text)
        return found

    return encode
