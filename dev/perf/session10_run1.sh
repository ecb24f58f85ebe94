#!/usr/bin/env bash
# Session 10, run 1 (branch session10 = main + the deferred RMSNorm scale + fixed_decode's next-tile prefetch + mixed
# fixed/raw launches + prefill slices of a quarter matrix): every CUDA test (HF reference first), then TinyLlama and
# Llama-2 `fixed` benches with the deferred scale (default) against session 9's per-block prologue
# (-DFM_NORM_PROLOGUE=1) in the same build; the persistent raw 8-warp kernels capped at 3 blocks a SM
# (-DFM_RAWP_W8_MIN_BLOCKS=3); TinyLlama with a BF16 KV cache.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 230
bd tl_def tinyllama-1.1b ""
bd tl_pro tinyllama-1.1b "-DFM_NORM_PROLOGUE=1"
bd tl_cap tinyllama-1.1b "-DFM_RAWP_W8_MIN_BLOCKS=3"
b tl_kvbf16 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed --kv-cache bf16 | grep -E "^==|^uncompressed|^fixed"
bd l2_def llama-2-7b ""
bd l2_pro llama-2-7b "-DFM_NORM_PROLOGUE=1"
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; cat "$OUT"/bench_l2_*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_*.txt
