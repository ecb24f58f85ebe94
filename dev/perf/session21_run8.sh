#!/usr/bin/env bash
# Session 21 call 8: the branch as it will merge -- entropy decoder v6 (call 7) with the entropy decoders' shared-memory
# carveout at 100 % (CODECLLM_ENTROPY_CARVEOUT; every other kernel keeps 50 %): every CUDA test (HF reference included),
# then the `entropy` bench: the new default, the entropy carveout at 50 % (call 7's v6) and every kernel at 100 %
# (CODECLLM_SMEM_CARVEOUT=100, call 7: TinyLlama 344 tok/s), alternating; then one `fixed` bench (main's figures).
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 330
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
for k in 1 2; do
  be tl_$k tinyllama-1.1b
  CODECLLM_ENTROPY_CARVEOUT=50 be tl_e50_$k tinyllama-1.1b
  CODECLLM_SMEM_CARVEOUT=100 be tl_all100_$k tinyllama-1.1b
done
q
be l2 llama-2-7b
CODECLLM_ENTROPY_CARVEOUT=50 be l2_e50 llama-2-7b
bf tl_fixed tinyllama-1.1b
q
