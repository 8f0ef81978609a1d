"""Example tests a candidate may read; `grade` runs them with full detail.

They load your submission in the sandbox through the challenge's driver (driver.py):
`load(model_dir, work_dir)` once, then `encode(text)` for each of the public example
texts (public/texts.json), one call per text. The trusted side compares each answer
with the text's FP32 embedding (public/golden.npy, made by make_golden.py). The
hidden suite does the same with 400 other texts. Helpers: conftest.py.
"""

from graders.testing import core


@core
def test_examples_match_the_fp32_embeddings(embedder, check, record_property):
    """Example: each public example's embedding has cosine >= 0.99 to its FP32 embedding."""
    found = embedder.embeddings("public")
    record_property("note", check.quality(found, check.golden("public"), "public examples"))


@core
def test_example_embeddings_are_384_finite_unit_floats(embedder, check):
    """Example: each embedding is 384 finite floats with an L2 norm within 1e-3 of 1."""
    check.norms(embedder.embeddings("public"))
