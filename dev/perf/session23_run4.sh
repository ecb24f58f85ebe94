#!/usr/bin/env bash
# Session 23 call 4: every CUDA test (HF reference included) on the session's final code; decode at 32- and 2000-token
# prompts: split attention at 128 positions a block (the default) and 256, and main's build (d3b1643), alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
cuda_tests 340
grep -E "Total:" "$OUT/tests.log" > "$OUT/tests_summary.txt"
overlay /tmp/old .devrun-v/old
for i in 1 2; do
  ctx c32_128_$i 32 128 X=128
  D=/tmp/old ctx c32_old_$i 32 128 X=old
  ctx c32_256_$i 32 128 CODECLLM_ATTN_SPLIT=256
done
D=/tmp/old ctx c2000_old 2000 32 X=old
ctx c2000_256 2000 32 CODECLLM_ATTN_SPLIT=256
ctx c2000_128 2000 32 X=128
q
