#!/usr/bin/env bash
# Session 9 run 1 (commit 9f179e1 = session 8's main + attn-v6 + timing-only switches, removed from main after the run): attention v6 (-DATT_V6) checked by the kernel and
# session tests and timed against v5; then the upper bounds of two fused-matvec changes, timing only (wrong results):
# FM_TIMING_NO_ESC (the `fixed` escape mask, scan and patch skipped) and FM_TIMING_ACT0 (the input used as it is: no
# RMSNorm / SwiGLU transform per tile and no RMS scale per block), TinyLlama alternating, then Llama-2-7B.
set -uo pipefail
source dev/perf/device_env.sh
CODECLLM_NVRTC_DEFINES=-DATT_V6=1 classes $D v6 CudaKernelTests CudaSessionTests
bd tl_base tinyllama-1.1b ""
bd tl_v6 tinyllama-1.1b "-DATT_V6=1"
bd tl_noesc tinyllama-1.1b "-DFM_TIMING_NO_ESC"
bd tl_act0 tinyllama-1.1b "-DFM_TIMING_ACT0"
bd tl_both tinyllama-1.1b "-DFM_TIMING_NO_ESC -DFM_TIMING_ACT0"
bd tl_base2 tinyllama-1.1b ""
bd tl_v6b tinyllama-1.1b "-DATT_V6=1"
bd l2_base llama-2-7b ""
bd l2_noesc llama-2-7b "-DFM_TIMING_NO_ESC"
bd l2_both llama-2-7b "-DFM_TIMING_NO_ESC -DFM_TIMING_ACT0"
echo "t=$SECONDS"
