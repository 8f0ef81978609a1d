# ruff: noqa
# A known public answer, compared with every submission by `grade batch`
# (graders/similarity.py); never graded. The interview guide's code for
# Question 9 (model optimization and deployment), verbatim: lines 2234-2642 of the guide
# (AI Engineer Interview Preparation Guide 2025).

import torch
import torch.nn as nn
from transformers import AutoModel, AutoTokenizer
import onnx
import onnxruntime as ort
from typing import List, Tuple
import numpy as np

class ModelOptimizationPipeline:
    """
    Complete pipeline for optimizing LLMs for production

    Techniques:
    1. Quantization (INT8, INT4)
    2. Pruning (structured/unstructured)
    3. Knowledge distillation
    4. ONNX export + optimization
    5. Dynamic batching
    6. KV cache optimization
    """

    def __init__(self, model_name: str):
        self.model_name = model_name
        self.model = AutoModel.from_pretrained(model_name)
        self.tokenizer = AutoTokenizer.from_pretrained(model_name)

    # ===== TECHNIQUE 1: QUANTIZATION =====
    def quantize_model(self, quantization_type: str = 'dynamic') -> nn.Module:
        """
        Quantization: Reduce precision from FP32 to INT8

        Benefits:
        - 4x smaller model size
        - 2-4x faster inference on CPU
        - Minimal accuracy loss (<1% typically)

        Types:
        - Dynamic: Quantize weights, activations computed at runtime
        - Static: Quantize both weights and activations (needs calibration data)
        - QAT: Quantization-aware training (best accuracy)
        """
        if quantization_type == 'dynamic':
            # Dynamic quantization (easiest, good for LLMs)
            quantized_model = torch.quantization.quantize_dynamic(
                self.model,
                {nn.Linear},  # Quantize all Linear layers
                dtype=torch.qint8
            )
            print("Dynamic quantization complete")
            return quantized_model

        elif quantization_type == 'static':
            # Static quantization (best performance, needs calibration)
            self.model.eval()
            self.model.qconfig = torch.quantization.get_default_qconfig('fbgemm')

            # Prepare for quantization
            model_prepared = torch.quantization.prepare(self.model)

            # Calibration step (run sample data through model)
            # This measures activation distributions
            sample_inputs = self._get_calibration_data()
            with torch.no_grad():
                for inputs in sample_inputs:
                    model_prepared(**inputs)

            # Convert to quantized model
            quantized_model = torch.quantization.convert(model_prepared)
            print("Static quantization complete")
            return quantized_model

    def _get_calibration_data(self) -> List[dict]:
        """Get representative data for calibration"""
        texts = ["Sample text " + str(i) for i in range(100)]
        inputs = [self.tokenizer(t, return_tensors='pt') for t in texts]
        return inputs

    # ===== TECHNIQUE 2: PRUNING =====
    def prune_model(self, sparsity: float = 0.3) -> nn.Module:
        """
        Pruning: Remove least important weights

        Benefits:
        - Reduces model size
        - Faster inference (with sparse kernels)
        - Can maintain accuracy with structured pruning

        Types:
        - Unstructured: Remove individual weights (flexible but hardware support limited)
        - Structured: Remove entire channels/heads (better hardware support)
        """
        import torch.nn.utils.prune as prune

        # Unstructured pruning (L1 norm)
        for name, module in self.model.named_modules():
            if isinstance(module, nn.Linear):
                prune.l1_unstructured(module, name='weight', amount=sparsity)
                # Make pruning permanent
                prune.remove(module, 'weight')

        print(f"Pruned {sparsity*100}% of weights")
        return self.model

    # ===== TECHNIQUE 3: KNOWLEDGE DISTILLATION =====
    def distill_model(
        self,
        student_model: nn.Module,
        train_dataloader,
        num_epochs: int = 3,
        temperature: float = 2.0,
        alpha: float = 0.5
    ) -> nn.Module:
        """
        Knowledge distillation: Train smaller model to mimic larger model

        Benefits:
        - 2-10x smaller model
        - Similar accuracy to large model
        - Much faster inference

        Example: DistilBERT is 40% smaller and 60% faster than BERT
        """
        teacher_model = self.model
        teacher_model.eval()
        student_model.train()

        optimizer = torch.optim.Adam(student_model.parameters(), lr=2e-5)
        ce_loss = nn.CrossEntropyLoss()
        kl_loss = nn.KLDivLoss(reduction='batchmean')

        for epoch in range(num_epochs):
            for batch in train_dataloader:
                # Get teacher predictions (soft labels)
                with torch.no_grad():
                    teacher_logits = teacher_model(**batch)
                    teacher_probs = nn.functional.softmax(teacher_logits / temperature, dim=-1)

                # Get student predictions
                student_logits = student_model(**batch)
                student_log_probs = nn.functional.log_softmax(student_logits / temperature, dim=-1)

                # Distillation loss (KL divergence between teacher and student)
                distill_loss = kl_loss(student_log_probs, teacher_probs) * (temperature ** 2)

                # Hard label loss (if available)
                if 'labels' in batch:
                    hard_loss = ce_loss(student_logits, batch['labels'])
                else:
                    hard_loss = 0

                # Combined loss
                loss = alpha * distill_loss + (1 - alpha) * hard_loss

                # Backprop
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        return student_model

    # ===== TECHNIQUE 4: ONNX EXPORT + OPTIMIZATION =====
    def export_to_onnx(
        self,
        output_path: str = 'model.onnx',
        optimize: bool = True
    ) -> str:
        """
        Export to ONNX for faster inference

        Benefits:
        - Hardware-agnostic format
        - Optimized runtime (ONNX Runtime)
        - 2-3x faster than PyTorch on CPU
        - Graph-level optimizations
        """
        self.model.eval()

        # Sample input for tracing
        sample_text = "Sample input for export"
        inputs = self.tokenizer(sample_text, return_tensors='pt')

        # Export to ONNX
        torch.onnx.export(
            self.model,
            (inputs['input_ids'], inputs['attention_mask']),
            output_path,
            export_params=True,
            opset_version=14,
            input_names=['input_ids', 'attention_mask'],
            output_names=['output'],
            dynamic_axes={
                'input_ids': {0: 'batch_size', 1: 'sequence'},
                'attention_mask': {0: 'batch_size', 1: 'sequence'},
                'output': {0: 'batch_size'}
            }
        )

        if optimize:
            # ONNX graph optimizations
            from onnxruntime.transformers import optimizer
            optimized_model = optimizer.optimize_model(
                output_path,
                model_type='bert',
                num_heads=12,
                hidden_size=768
            )
            optimized_model.save_model_to_file(output_path)

        print(f"Model exported to {output_path}")
        return output_path

    # ===== TECHNIQUE 5: ONNX RUNTIME INFERENCE =====
    def create_onnx_session(self, onnx_path: str) -> ort.InferenceSession:
        """
        Create optimized ONNX Runtime session

        Performance optimizations:
        - Inter/intra op parallelism
        - Memory pattern optimization
        - Graph-level fusion
        """
        sess_options = ort.SessionOptions()

        # Performance optimizations
        sess_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess_options.intra_op_num_threads = 4  # Adjust based on CPU cores
        sess_options.inter_op_num_threads = 4
        sess_options.execution_mode = ort.ExecutionMode.ORT_PARALLEL

        # Create session
        session = ort.InferenceSession(
            onnx_path,
            sess_options=sess_options,
            providers=['CPUExecutionProvider']  # or TensorrtExecutionProvider for GPU
        )

        return session

    def onnx_inference(
        self,
        session: ort.InferenceSession,
        text: str
    ) -> np.ndarray:
        """Fast inference with ONNX Runtime"""
        inputs = self.tokenizer(text, return_tensors='np')

        ort_inputs = {
            'input_ids': inputs['input_ids'],
            'attention_mask': inputs['attention_mask']
        }

        # Run inference
        outputs = session.run(None, ort_inputs)
        return outputs[0]

# ===== TECHNIQUE 6: LAYER FUSION & GRAPH OPTIMIZATION =====

class FusedBERTLayer(nn.Module):
    """
    Fused BERT layer for faster inference

    Optimizations:
    - Fuse QKV projection into single matrix multiplication
    - Fuse LayerNorm + Dropout
    - Pre-compute static values
    """
    def __init__(self, original_layer):
        super().__init__()

        # Fuse Q, K, V projections
        self.qkv_proj = nn.Linear(
            original_layer.attention.self.query.in_features,
            original_layer.attention.self.query.out_features * 3
        )
        # Copy weights
        self.qkv_proj.weight.data = torch.cat([
            original_layer.attention.self.query.weight,
            original_layer.attention.self.key.weight,
            original_layer.attention.self.value.weight
        ], dim=0)

        # Rest of the layer...

    def forward(self, hidden_states, attention_mask):
        # Single matrix multiplication for Q, K, V
        qkv = self.qkv_proj(hidden_states)
        q, k, v = torch.chunk(qkv, 3, dim=-1)
        # ... rest of attention computation

# ===== TECHNIQUE 7: KV CACHE FOR AUTOREGRESSIVE GENERATION =====

class CachedInference:
    """
    KV cache for autoregressive generation

    Avoids recomputing Key and Value for previous tokens
    Speedup: 5-10x for long sequences
    """
    def __init__(self, model):
        self.model = model
        self.kv_cache = None

    def generate_with_cache(
        self,
        input_ids: torch.Tensor,
        max_length: int = 50
    ) -> torch.Tensor:
        """Generate with KV caching"""
        past_key_values = None

        for _ in range(max_length):
            # Only process new tokens
            if past_key_values is not None:
                inputs = input_ids[:, -1:]  # Only last token
            else:
                inputs = input_ids

            # Forward pass with cache
            outputs = self.model(
                inputs,
                past_key_values=past_key_values,
                use_cache=True
            )

            # Update cache
            past_key_values = outputs.past_key_values

            # Get next token
            next_token = outputs.logits[:, -1, :].argmax(dim=-1, keepdim=True)
            input_ids = torch.cat([input_ids, next_token], dim=1)

            # Check for EOS
            if next_token.item() == self.model.config.eos_token_id:
                break

        return input_ids

# ===== COMPLETE OPTIMIZATION WORKFLOW =====

def optimize_for_production(
    model_name: str,
    target_latency_ms: float = 10.0
) -> Tuple[ort.InferenceSession, float]:
    """
    Complete optimization pipeline for <10ms latency

    Steps:
    1. Knowledge distillation (if model too large)
    2. Quantization (INT8)
    3. Pruning (optional)
    4. ONNX export with optimizations
    5. ONNX Runtime with tuned settings
    6. Benchmark and iterate
    """
    import time

    pipeline = ModelOptimizationPipeline(model_name)

    # Step 1: Distillation (if needed)
    # For BERT-base -> DistilBERT equivalent
    # student_model = create_smaller_architecture()
    # distilled_model = pipeline.distill_model(student_model, train_data)

    # Step 2: Quantization
    print("Quantizing model...")
    quantized_model = pipeline.quantize_model(quantization_type='dynamic')

    # Step 3: Export to ONNX
    print("Exporting to ONNX...")
    onnx_path = pipeline.export_to_onnx(optimize=True)

    # Step 4: Create optimized ONNX session
    print("Creating ONNX Runtime session...")
    session = pipeline.create_onnx_session(onnx_path)

    # Step 5: Benchmark
    print("Benchmarking...")
    test_text = "This is a test sentence for benchmarking."
    latencies = []

    for _ in range(100):
        start = time.time()
        _ = pipeline.onnx_inference(session, test_text)
        latency = (time.time() - start) * 1000  # ms
        latencies.append(latency)

    p50_latency = np.percentile(latencies, 50)
    p95_latency = np.percentile(latencies, 95)
    p99_latency = np.percentile(latencies, 99)

    print(f"Latency - P50: {p50_latency:.2f}ms, P95: {p95_latency:.2f}ms, P99: {p99_latency:.2f}ms")

    if p95_latency > target_latency_ms:
        print(f"Warning: P95 latency ({p95_latency:.2f}ms) exceeds target ({target_latency_ms}ms)")
        print("Consider:")
        print("  - Further quantization (INT4)")
        print("  - Smaller model architecture")
        print("  - Hardware acceleration (GPU/TPU)")
        print("  - Caching frequent queries")

    return session, p95_latency

# Usage
if __name__ == "__main__":
    session, latency = optimize_for_production(
        'bert-base-uncased',
        target_latency_ms=10.0
    )
    print(f"Optimized model achieves {latency:.2f}ms latency")
