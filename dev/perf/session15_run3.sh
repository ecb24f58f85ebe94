#!/usr/bin/env bash
# Session 15, run 3 (H100): TinyLlama batch 4, the split sums in every batched kernel (default) against B = 4 kernels
# summing by one butterfly per value (-DFM_SPLIT_SUM_BATCHES=0x106), alternating.
set -uo pipefail
source dev/perf/device_env.sh
q
for i in 1 2; do
  b tl_b4_split_$i --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 4 | grep -E "^==|^uncompressed|^fixed"
  CODECLLM_NVRTC_DEFINES=-DFM_SPLIT_SUM_BATCHES=0x106 b tl_b4_fly_$i --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 4 | grep -E "^==|^uncompressed|^fixed"
done
q
echo "t=$SECONDS"
