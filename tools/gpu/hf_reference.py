#!/usr/bin/env python3
"""Builds a TinyLlama-shaped Llama (fewer layers) with random BF16 weights in Hugging Face transformers,
saves it with save_pretrained (safetensors), and records HF's greedy tokens and per-step logits as the
independent reference for tests/CodecLlm.Tests/Backends/Cuda/HfTransformersComparisonTests.cs.

Usage: python3 tools/gpu/hf_reference.py OUTDIR [--layers 4] [--steps 64] [--arch llama|mistral] [--sliding-window N]
       [--prompt-len N]
--arch mistral --sliding-window 16 --prompt-len 40: a Mistral whose attention looks back 16 positions, with a prompt longer
than the window (the reference of the sliding-window comparison, $CODECLLM_HF_REFERENCE_SLIDING).
Writes OUTDIR/model (config.json + model.safetensors), OUTDIR/reference.json and
OUTDIR/logits_fp32.bin / logits_bf16.bin (float32 [steps, vocab], little-endian).
"""
import argparse, json, os, sys
import torch
from transformers import LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--layers", type=int, default=4)
ap.add_argument("--steps", type=int, default=64)
ap.add_argument("--arch", choices=["llama", "mistral"], default="llama")
ap.add_argument("--sliding-window", type=int, default=None)
ap.add_argument("--prompt-len", type=int, default=8)
args = ap.parse_args()
Config, Model = (MistralConfig, MistralForCausalLM) if args.arch == "mistral" else (LlamaConfig, LlamaForCausalLM)
extra = {"sliding_window": args.sliding_window} if args.arch == "mistral" else {}

torch.manual_seed(1234)
cfg = Config(hidden_size=2048, intermediate_size=5632, num_hidden_layers=args.layers, num_attention_heads=32,
                  num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
                  rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, **extra)
model = Model(cfg).to(torch.bfloat16)
# Norm weights of a fresh model are all ones; give them realistic spread so a wrong norm shows.
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("norm.weight"):
            p.copy_((1 + 0.1 * torch.randn_like(p, dtype=torch.float32)).to(torch.bfloat16))
mdir = os.path.join(args.out, "model")
model.save_pretrained(mdir, safe_serialization=True)

prompt = [1, 450, 4996, 17354, 1701, 432, 17204, 975]
prompt = (prompt + [(i * 7919 + 13) % 31000 + 500 for i in range(args.prompt_len)])[:args.prompt_len]
ids = torch.tensor([prompt], device="cuda")

def greedy(m):
    out = m.generate(ids, do_sample=False, max_new_tokens=args.steps, min_new_tokens=args.steps, output_logits=True,
                     return_dict_in_generate=True, pad_token_id=0, eos_token_id=None)
    toks = out.sequences[0, len(prompt):].tolist()
    logits = torch.stack([l[0].float() for l in out.logits]).cpu().numpy()
    return toks, logits

ref = {"prompt": prompt, "steps": args.steps, "layers": args.layers, "arch": args.arch, "sliding_window": args.sliding_window}
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
m32 = Model.from_pretrained(mdir, torch_dtype=torch.float32, attn_implementation="eager").cuda().eval()
ref["tokens_fp32"], l32 = greedy(m32)
l32.astype("<f4").tofile(os.path.join(args.out, "logits_fp32.bin"))
del m32
m16 = Model.from_pretrained(mdir, torch_dtype=torch.bfloat16, attn_implementation="eager").cuda().eval()
ref["tokens_bf16"], l16 = greedy(m16)
l16.astype("<f4").tofile(os.path.join(args.out, "logits_bf16.bin"))
with open(os.path.join(args.out, "reference.json"), "w") as f:
    json.dump(ref, f)
same = sum(a == b for a, b in zip(ref["tokens_fp32"], ref["tokens_bf16"]))
print(f"HF reference ({args.arch}, sliding window {args.sliding_window}, prompt {len(prompt)}): {args.layers} layers, {args.steps} greedy steps; fp32-upcast vs bf16 HF agree on {same}/{args.steps} tokens")
