#!/usr/bin/env bash
# Session 9 verification run (the SwiGLU epilogue for `fixed` gate/up at batch 1 only): every CUDA test (HF reference
# first), the serve --batching GPU test, the bench figures (TinyLlama with entropy, Llama-2, TinyLlama batches 2/4/8),
# and variant C of the `fixed` register caps (the RMSNorm-input kernels, ACT 1, fit 896 threads a SM = 72 registers)
# against the default on both models.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 280
serve_tests
C="-DFM_FIXED_SM_THREADS=896 -DFM_FIXED_CAP_ACTS=2"
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
CODECLLM_NVRTC_DEFINES="$C" bf tl_c tinyllama-1.1b "C"
bf l2 llama-2-7b
CODECLLM_NVRTC_DEFINES="$C" bf l2_c llama-2-7b "C"
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
echo "t=$SECONDS"
cat "$OUT"/bench_tl_b*.txt > "$OUT/bench_batches.txt" && rm -f "$OUT"/bench_tl_b*.txt  # the device tool returns at most 8 files
