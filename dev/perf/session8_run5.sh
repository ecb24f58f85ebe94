#!/usr/bin/env bash
# Session 8 run 5: decode attention v4 (branch attn-exp): the earlier positions' cache rows loaded before
# griddepcontrol.wait (defaults ATT_KPRE=32 key elements, ATT_VPRE=4 value quads), RoPE's sine/cosine computed
# before the wait and q/k rotated, appended and staged in one pass (one barrier instead of three); tests, then
# TinyLlama alternating with main at three register budgets, then Llama-2.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
classes /tmp/bina attn CudaKernelTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
bf tl_main tinyllama-1.1b
D=/tmp/bina bf tl_v4 tinyllama-1.1b "v4: K 32, V 4"
CODECLLM_NVRTC_DEFINES="-DATT_KPRE=16 -DATT_VPRE=4" D=/tmp/bina bf tl_k16v4 tinyllama-1.1b "K 16, V 4"
CODECLLM_NVRTC_DEFINES="-DATT_KPRE=32 -DATT_VPRE=2" D=/tmp/bina bf tl_k32v2 tinyllama-1.1b "K 32, V 2"
bf tl_main2 tinyllama-1.1b
D=/tmp/bina bf tl_v4b tinyllama-1.1b "v4 again"
bf l2_main llama-2-7b
D=/tmp/bina bf l2_v4 llama-2-7b "v4"
echo "t=$SECONDS"
