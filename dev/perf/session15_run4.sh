#!/usr/bin/env bash
# Session 15, run 4 (H100): the final build of branch s15-scatter (split sums everywhere but the `fixed` B = 4 kernels):
# every CUDA test, TinyLlama at batch 1 and 4.
set -uo pipefail
source dev/perf/device_env.sh
cuda_tests 200
bf tl tinyllama-1.1b final
b tl_b4 --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch 4 | grep -E "^==|^uncompressed|^fixed"
q
echo "t=$SECONDS"
