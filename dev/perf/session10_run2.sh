#!/usr/bin/env bash
# Session 10, run 2 (branch session10 after run 1: the deferred RMSNorm scale taken out again; kept: fixed_decode's
# next-tile prefetch, mixed fixed/raw launches, the row-epilogue helper, one scratch slot for a prefill-only pipeline):
# every CUDA test, the serve tests, the bench figures (TinyLlama with entropy, Llama-2, batches 2/4/8), and A/B in the
# same build: persistent raw 8-warp kernels capped at 3 blocks a SM (-DFM_RAWP_W8_MIN_BLOCKS=3); warps per matvec
# (CODECLLM_FM_W4_GROUPS=256: 4 warps for every TinyLlama matrix; CODECLLM_FM_W8_GROUPS=400: 16 warps for q/k/v, o,
# down); two prefill slots (CODECLLM_PREFILL_SLOTS=2).
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 230
serve_tests
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed,entropy
CODECLLM_NVRTC_DEFINES="-DFM_RAWP_W8_MIN_BLOCKS=3" bf tl_cap tinyllama-1.1b cap3
CODECLLM_FM_W4_GROUPS=256 bf tl_w4 tinyllama-1.1b w4
CODECLLM_FM_W8_GROUPS=400 bf tl_w16 tinyllama-1.1b w16
CODECLLM_PREFILL_SLOTS=2 bf tl_pf2 tinyllama-1.1b prefill2
bf l2 llama-2-7b
CODECLLM_NVRTC_DEFINES="-DFM_RAWP_W8_MIN_BLOCKS=3" bf l2_cap llama-2-7b cap3
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
echo "t=$SECONDS"
cat "$OUT"/bench_tl_b*.txt > "$OUT/benches_batches.txt"; rm -f "$OUT"/bench_tl_b*.txt
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl_ab.txt"; rm -f "$OUT"/bench_tl_*.txt
cat "$OUT"/bench_l2*.txt > "$OUT/benches_l2.txt"; rm -f "$OUT"/bench_l2*.txt
