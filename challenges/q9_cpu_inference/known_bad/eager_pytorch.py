"""Known-bad: the stub as given (a copy of stub.py). Correct eager PyTorch, too slow.

It must pass every test and fail the latency metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from transformers import AutoModel, AutoTokenizer


def load(model_dir: str, work_dir: str) -> Callable[[str], Sequence[float]]:
    """Load all-MiniLM-L6-v2 from `model_dir`; return `encode(text)`.

    `work_dir` is writable scratch space (for an exported or quantised model, say).
    `encode(text)` returns the text's sentence embedding: 384 floats, the mean of
    the token embeddings over the attention mask, L2-normalised.
    """
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()

    def encode(text: str) -> list[float]:
        batch = tokenizer(text, return_tensors="pt")
        with torch.inference_mode():
            tokens = model(**batch).last_hidden_state  # (1, tokens, 384)
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1)
        return torch.nn.functional.normalize(pooled, dim=1)[0].tolist()

    return encode
