#!/usr/bin/env bash
# For the next GPU run (written in session 8, not yet run): branch attn-v6 = main + attention variant ATT_V6 behind a
# define (one softmax reduction of (max, sum) pairs instead of block_max + block_sum: one barrier instead of five; the
# output groups of a warp summed by butterfly before the final sum). Build this branch into .devrun-v/bin; the same
# build runs both (CODECLLM_NVRTC_DEFINES=-DATT_V6=1 switches). Tests with the define, then TinyLlama alternating.
set -uo pipefail
source dev/perf/device_env.sh
CODECLLM_NVRTC_DEFINES=-DATT_V6=1 classes $D v6 CudaKernelTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
bf tl_v5 tinyllama-1.1b "v5 (main)"
CODECLLM_NVRTC_DEFINES=-DATT_V6=1 bf tl_v6 tinyllama-1.1b "v6"
bf tl_v5b tinyllama-1.1b "v5 again"
CODECLLM_NVRTC_DEFINES=-DATT_V6=1 bf tl_v6b tinyllama-1.1b "v6 again"
echo "t=$SECONDS"
