"""Hidden suite, robustness: what encode returns is well formed, for every text."""

from graders.testing import robustness


@robustness
def test_embeddings_are_384_floats(embedder, check):
    """encode returns 384 floats (a list, tuple or 1-D numpy array) for every text."""
    check.shapes(embedder.embeddings("hidden"))


@robustness
def test_embeddings_are_finite(embedder, check):
    """encode never returns NaN or infinite values."""
    check.finite(embedder.embeddings("hidden"))


@robustness
def test_embeddings_have_unit_norm(embedder, check):
    """Every embedding is L2-normalised: its norm is within 1e-3 of 1."""
    check.norms(embedder.embeddings("hidden"))
