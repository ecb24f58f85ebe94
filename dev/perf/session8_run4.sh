#!/usr/bin/env bash
# Session 8 run 4: decode attention with its cache rows loaded before griddepcontrol.wait (branch attn-exp: a thread's
# first ATT_KPRE key elements and its group's first ATT_VPRE value quads), three register budgets, against main;
# the attention tests of branch attn-exp first.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
classes /tmp/bina attn CudaKernelTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
bf tl_main tinyllama-1.1b
CODECLLM_NVRTC_DEFINES="-DATT_KPRE=64 -DATT_VPRE=8" D=/tmp/bina bf tl_k64v8 tinyllama-1.1b "K 64, V 8"
CODECLLM_NVRTC_DEFINES="-DATT_KPRE=32 -DATT_VPRE=4" D=/tmp/bina bf tl_k32v4 tinyllama-1.1b "K 32, V 4"
CODECLLM_NVRTC_DEFINES="-DATT_KPRE=64 -DATT_VPRE=4" D=/tmp/bina bf tl_k64v4 tinyllama-1.1b "K 64, V 4"
bf tl_main2 tinyllama-1.1b
echo "t=$SECONDS"
