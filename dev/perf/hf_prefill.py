#!/usr/bin/env python3
"""HF transformers prefill time on the GPU, an independent reference for our prefill tok/s: a Llama of the given shape
with random BF16 weights (SDPA attention), one forward over a P-token prompt (use_cache, logits of the last token only),
warm-up then the median of N timed runs (CUDA events). Usage: hf_prefill.py tinyllama-1.1b|llama-2-7b P [N]."""
import sys, torch
from transformers import LlamaConfig, LlamaForCausalLM
shapes = {
    "tinyllama-1.1b": dict(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4),
    "llama-2-7b": dict(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32),
}
name, P = sys.argv[1], int(sys.argv[2]); N = int(sys.argv[3]) if len(sys.argv) > 3 else 10
cfg = LlamaConfig(vocab_size=32000, max_position_embeddings=4096, attn_implementation="sdpa", **shapes[name])
torch.manual_seed(0)
torch.set_default_dtype(torch.bfloat16)
with torch.device("cuda"):
    model = LlamaForCausalLM(cfg).eval()
ids = torch.randint(3, 32000, (1, P), device="cuda")
times = []
with torch.inference_mode():
    for i in range(N + 3):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); model(ids, use_cache=True, logits_to_keep=1); b.record(); torch.cuda.synchronize()
        if i >= 3: times.append(a.elapsed_time(b))
times.sort(); ms = times[len(times) // 2]
print(f"HF transformers {torch.__version__}: {name} prefill {P} tokens: {ms:.2f} ms median of {N} = {P / ms * 1000:.0f} tok/s (bf16, sdpa)")
