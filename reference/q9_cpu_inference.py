"""Reference solution for q9_cpu_inference: MiniLM sentence embeddings in a few ms on 2 CPUs.

Design:

- `load` exports the model to ONNX once (the legacy TorchScript exporter, dynamic
  sequence length, eager attention so that the graph has the pattern ONNX
  Runtime's fusions know), fuses it offline with onnxruntime.transformers
  (EmbedLayerNormalization, one Attention op per layer, SkipLayerNormalization,
  BiasGelu) and quantises to INT8 with dynamic quantisation (weights INT8,
  activations UINT8 with a scale computed per call):
  - the attention projections, per tensor: each layer's fused QKV Attention
    becomes QAttention, and its 384x384 output projection a quantised MatMul;
  - the feed-forward MatMuls, smoothed first (SmoothQuant): a few channels of
    their inputs carry outliers that one per-tensor activation scale cannot hold
    (quantising them plainly takes the minimum cosine below 0.99), so each input
    channel j is divided by s_j = sqrt(max|x_j| / max|w_j|) (a Mul before the
    MatMul) and the weight's row j multiplied by it, with per-column weight
    scales. max|x_j| comes from running the FP32 graph on a few sentences of
    CALIBRATION once. The second feed-forward MatMul of layers 0-2 stays FP32:
    even smoothed, its activations cost 0.005-0.01 of cosine each there.
  Measured here: minimum cosine 0.995 to the FP32 embeddings; a 48-token text
  runs in ~4 ms instead of ~6 ms with the attention alone quantised, and the
  weights a call streams from memory (the other side's model evicts them
  between timed calls) shrink from ~30 MB to ~12 MB.
- Everything is built in memory (the sandbox limits a file to 64 MB; the FP32
  model is 90 MB) and the result is kept in `work_dir`, one file per tensor, so a
  later `load` in the same sandbox only opens it.
- `encode` tokenises with the `tokenizers` library (padding and truncation off:
  one text, no padding), runs the session with 2 intra-op threads (not spinning
  between ops), and takes the
  mean of the token embeddings over the attention mask, L2-normalised.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["load"]

THREADS = 2  # the challenge's CPU budget
CACHE = "minilm-l6-fused-int8"


def load(model_dir: str, work_dir: str) -> Callable[[str], np.ndarray]:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tokenizer.no_padding()  # tokenizer.json pads every text to 128 tokens
    tokenizer.no_truncation()
    path = os.path.join(work_dir, CACHE, "model.onnx")
    if not os.path.isfile(path):
        _build(model_dir, work_dir, tokenizer)

    options = ort.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Requests come one at a time, with other work between them: threads that spin
    # waiting for the next op only take the CPUs from it. Measured here, alternating
    # with another model's calls: p95 7.8 ms without spinning, 10.7 ms with it.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    run = session.run
    tokenize = tokenizer.encode

    def encode(text: str) -> np.ndarray:
        encoding = tokenize(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        hidden = run(None, {"input_ids": ids, "attention_mask": mask})[0][0]
        weights = mask[0].astype(np.float32)
        pooled = weights @ hidden / weights.sum()  # mean over the real tokens
        return pooled / np.linalg.norm(pooled)

    for text in ("Warm up.", "Warm up the session with a longer sentence of a few more tokens."):
        encode(text)
    return encode


# -- building the model (once per sandbox) ----------------------------------------------


# Sentences the feed-forward inputs' ranges are measured on (any English will do: a
# channel's range is a property of the model, not of the text).
CALIBRATION = (
    "The quick brown fox jumps over the lazy dog.",
    "Return a new list containing all items from the iterable in ascending order.",
    "This function raises ValueError if the argument is negative.",
    "A server that handles one request at a time is easy to reason about.",
    "Read the file in chunks so that memory use stays bounded.",
    "The cache evicts the least recently used entry when it is full.",
    "Tokens are mapped to vectors, and the vectors are averaged.",
    "If the connection is closed, the next call reconnects automatically.",
    "Weather forecasts predict rain for most of the week in the north.",
    "She opened the window, and the cold air filled the room.",
    "Use a context manager to make sure the lock is always released.",
    "The dataset contains images of handwritten digits from zero to nine.",
    "Compute the shortest path between two nodes of an unweighted graph.",
    "Gradients are accumulated over several small batches before each optimizer step.",
    "Errors should never pass silently, unless explicitly silenced.",
    "Return the number of seconds since the epoch as a floating point number.",
)
FIRST_LAYER_WITH_INT8_OUTPUT_DENSE = 3


def _quantised(node: Any, weights: dict[str, tuple[int, ...]]) -> bool:
    """Whether a node is quantised plainly, per tensor: the attention projections."""
    if node.op_type == "Attention":
        return True
    return node.op_type == "MatMul" and weights.get(node.input[1]) == (384, 384)


def _smoothed(node: Any, weights: dict[str, tuple[int, ...]]) -> bool:
    """Whether a MatMul is smoothed, then quantised: the first feed-forward MatMul of
    every layer, the second of layers 3-5."""
    if node.op_type != "MatMul":
        return False
    shape = weights.get(node.input[1])
    if shape == (384, 1536):
        return True
    layer = int(node.name.split("/layer.")[1].split("/")[0]) if "/layer." in node.name else -1
    return shape == (1536, 384) and layer >= FIRST_LAYER_WITH_INT8_OUTPUT_DENSE


def _input_ranges(model: Any, inputs: list[str], tokenize: Callable[[str], Any]
                  ) -> dict[str, np.ndarray]:
    """max |x_j| of each named FP32 tensor over the CALIBRATION sentences, per channel."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = model.graph
    kept = len(graph.output)
    graph.output.extend(helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
                        for name in inputs)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    del graph.output[kept:]
    ranges: dict[str, np.ndarray] = {}
    for text in CALIBRATION:
        ids = np.array([tokenize(text).ids], dtype=np.int64)
        found = session.run(inputs, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for name, x in zip(inputs, found, strict=True):
            peak = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)
            ranges[name] = np.maximum(ranges.get(name, peak), peak)
    return ranges


def _smooth(model: Any, tokenize: Callable[[str], Any]) -> None:
    """SmoothQuant the MatMuls `_smoothed` selects, in place: x / s before the MatMul
    (a Mul), s * w in an INT8 weight with per-column scales (DynamicQuantizeMatMul)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    weights = {name: tuple(init.dims) for name, init in initializers.items()}
    chosen = [node for node in graph.node if _smoothed(node, weights)]
    ranges = _input_ranges(model, sorted({node.input[0] for node in chosen}), tokenize)
    nodes = []
    for node in graph.node:
        if node not in chosen:
            nodes.append(node)
            continue
        x, name = node.input[0], node.input[1]
        w = numpy_helper.to_array(initializers[name]).astype(np.float32)
        s = np.sqrt(np.maximum(ranges[x], 1e-5) / np.maximum(np.abs(w).max(axis=1), 1e-5))
        w = w * s[:, None]
        scale = np.abs(w).max(axis=0) / 127
        graph.initializer.remove(initializers[name])
        graph.initializer.extend([
            numpy_helper.from_array(np.clip(np.rint(w / scale), -127, 127).astype(np.int8),
                                    f"{name}_int8"),
            numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), f"{name}_zero_point"),
            numpy_helper.from_array((1 / s).astype(np.float32), f"{name}_smoothing"),
        ])
        smoothed = f"{name}_smoothed_input"
        nodes.append(helper.make_node("Mul", [x, f"{name}_smoothing"], [smoothed],
                                      name=f"{node.name}_smooth"))
        nodes.append(helper.make_node(
            "DynamicQuantizeMatMul",
            [smoothed, f"{name}_int8", f"{name}_scale", f"{name}_zero_point"],
            list(node.output), name=f"{node.name}_int8", domain="com.microsoft"))
    del graph.node[:]
    graph.node.extend(nodes)


def _quantise(model: Any) -> None:
    """Dynamic INT8 quantisation of the nodes `_quantised` selects, in place.

    Weights: symmetric INT8 per tensor (scale max|w| / 127, zero point 0). Activations:
    UINT8, their scale computed per call. Attention becomes DynamicQuantizeLinear +
    QAttention, MatMul becomes DynamicQuantizeMatMul (ONNX Runtime's contrib ops, as
    onnxruntime.quantization.quantize_dynamic makes them; written here because that
    function writes the whole model to one temporary file, over the sandbox's 64 MB).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    weights = {name: tuple(init.dims) for name, init in initializers.items()}
    nodes = []
    for node in graph.node:
        if not _quantised(node, weights):
            nodes.append(node)
            continue
        name = node.input[1]
        w = numpy_helper.to_array(initializers.pop(name))
        scale = float(np.abs(w).max()) / 127
        graph.initializer.extend([
            numpy_helper.from_array(np.clip(np.rint(w / scale), -127, 127).astype(np.int8),
                                    f"{name}_int8"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), f"{name}_zero_point"),
        ])
        x = node.input[0]
        if node.op_type == "Attention":  # inputs: x, qkv weight, qkv bias, mask index
            nodes.append(helper.make_node(
                "DynamicQuantizeLinear", [x], [f"{x}_uint8", f"{x}_scale", f"{x}_zero_point"],
                name=f"{node.name}_quantise_input"))
            mask = node.input[3] if len(node.input) > 3 else ""
            quantised = helper.make_node(
                "QAttention", [f"{x}_uint8", f"{name}_int8", node.input[2], f"{x}_scale",
                               f"{name}_scale", mask, f"{x}_zero_point", f"{name}_zero_point"],
                list(node.output), name=f"{node.name}_int8", domain="com.microsoft")
            quantised.attribute.extend(node.attribute)  # num_heads
        else:
            quantised = helper.make_node(
                "DynamicQuantizeMatMul",
                [x, f"{name}_int8", f"{name}_scale", f"{name}_zero_point"],
                list(node.output), name=f"{node.name}_int8", domain="com.microsoft")
        nodes.append(quantised)
    kept = [init for init in graph.initializer if init.name not in weights
            or init.name in initializers]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.node[:]
    graph.node.extend(nodes)


def _build(model_dir: str, work_dir: str, tokenizer: Any) -> None:
    import io

    import onnx
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=torch.zeros_like(input_ids)).last_hidden_state

    ids = torch.ones(1, 8, dtype=torch.long)
    buffer = io.BytesIO()
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(LastHidden(bert), (ids, torch.ones_like(ids)), buffer,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    del bert
    fused = optimizer.optimize_model(onnx.load_from_string(buffer.getvalue()),
                                     model_type="bert", num_heads=12, hidden_size=384,
                                     opt_level=0).model
    del buffer
    if not any(op.domain == "com.microsoft" for op in fused.opset_import):
        fused.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))

    _smooth(fused, tokenizer.encode)
    _quantise(fused)

    # One file per tensor (the largest, the word embeddings, is 47 MB), written aside
    # and renamed into place: a load killed half-way leaves no half-written model.
    staging = tempfile.mkdtemp(dir=work_dir)
    onnx.save_model(fused, os.path.join(staging, "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=False, size_threshold=1024)
    target = os.path.join(work_dir, CACHE)
    shutil.rmtree(target, ignore_errors=True)
    os.rename(staging, target)
