"""Hidden suite, core: embeddings as good as the FP32 model's."""

from graders.testing import core


@core
def test_evaluation_texts_match_the_fp32_embeddings(embedder, check, record_property):
    """Every evaluation text's embedding has cosine similarity >= 0.99 to its FP32 embedding."""
    found = embedder.embeddings("hidden")
    record_property("note", check.quality(found, check.golden("hidden"), "evaluation texts"))


@core
def test_latency_texts_are_embedded_like_any_other(embedder, check, record_property):
    """Texts made by the timed operation are embedded to the same quality as any other."""
    timed = check.timed()
    embedder.load()
    answers = []
    for seed, digest in zip(timed["seeds"], timed["digests"], strict=True):
        embedder.submission.call("encode_fresh", seed=seed)
        last = embedder.submission.call("last_embedding")
        assert last["text"] == digest, "the challenge is broken: its driver made another text"
        answers.append(last)
    record_property("note", check.quality(check.observed(answers), timed["golden"],
                                          "texts of the timed operation"))
