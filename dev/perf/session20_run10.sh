#!/usr/bin/env bash
# Session 20 call 11 (branch entropy-pairs): neighbouring `entropy` units decode in one launch (ScratchPipeline pairs:
# q/k/v + o, gate/up + down: four or three tensors a launch instead of one to three). Prediction: TinyLlama `entropy`
# decode to scratch ~121 -> 180-250 tok/s (one launch over four tensors decodes 2.3x faster than four over one).
# 1. the session, batch and F16/F32 session tests (entropy cases among them); 2. TinyLlama `entropy` with pairs
# (default) and without (CODECLLM_ENTROPY_PAIRS=0), alternating; 3. Llama-2-7B both ways.
set -uo pipefail
source dev/perf/device_env.sh
q
TEST_TIMEOUT=300 classes $D pairs CudaSessionTests CudaBatchTests CudaF16F32SessionTests
e() { local n=$1 m=$2; shift 2; BENCH_TIMEOUT=240 b $n --synthetic $m --new-tokens 64 --codec entropy "$@" > /dev/null; echo "== $n t=$SECONDS"; grep -E "^uncompressed |^entropy" "$OUT/bench_$n.txt"; }
for k in 1 2; do
  e tl_pairs_$k tinyllama-1.1b
  CODECLLM_ENTROPY_PAIRS=0 e tl_nopairs_$k tinyllama-1.1b
done
e l2_pairs llama-2-7b
CODECLLM_ENTROPY_PAIRS=0 e l2_nopairs llama-2-7b
q
