#!/usr/bin/env bash
# Session 7, runs 1 and 2 (branch mma): the tensor-core matvec. prod_check first (raw == fixed and an FP64 reference,
# every standalone entry), then the bench (TinyLlama twice: run 1 the second with __launch_bounds__ for 5 blocks per SM,
# run 2 (SECOND=tl2) plain; Llama-2), then the CUDA tests.
set -uo pipefail
source dev/perf/device_env.sh
prod_check
b tl --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
if [ "${SECOND:-tl5}" = tl5 ]; then
  CODECLLM_NVRTC_DEFINES=-DFM_RAWP_MIN_BLOCKS_W4=5 b tl5 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
else
  b tl2 --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
fi
b l2 --synthetic llama-2-7b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
cuda_tests 280
echo "t=$SECONDS"
