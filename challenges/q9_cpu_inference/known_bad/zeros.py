"""Known-bad: answers 384 zeros for every text, at once.

Well shaped and finite, but a zero vector has no direction (cosine 0) and norm 0.
"""

from __future__ import annotations


def load(model_dir: str, work_dir: str):
    def encode(text: str) -> list[float]:
        return [0.0] * 384

    return encode
