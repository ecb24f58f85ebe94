#!/usr/bin/env bash
# Session 8 run 6: decode attention v4 with 256-thread blocks, so that a thread can hold a whole 64-element key row and
# ten value quads loaded before griddepcontrol.wait (CODECLLM_ATT_THREADS=256 with -DATT_MAX_THREADS=256), against
# v4 at 512 threads (32 key elements, 4 value quads) and main; the kernel tests at 256 threads first.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
T256="-DATT_MAX_THREADS=256 -DATT_KPRE=64 -DATT_VPRE=10"
CODECLLM_ATT_THREADS=256 CODECLLM_NVRTC_DEFINES="$T256" classes /tmp/bina 256 CudaKernelTests CudaSessionTests
bf tl_main tinyllama-1.1b
D=/tmp/bina bf tl_v4 tinyllama-1.1b "v4: 512 threads, K 32, V 4"
CODECLLM_ATT_THREADS=256 CODECLLM_NVRTC_DEFINES="$T256" D=/tmp/bina bf tl_t256 tinyllama-1.1b "256 threads, K 64, V 10"
CODECLLM_ATT_THREADS=256 CODECLLM_NVRTC_DEFINES="-DATT_MAX_THREADS=256 -DATT_KPRE=64 -DATT_VPRE=8" D=/tmp/bina bf tl_t256v8 tinyllama-1.1b "256 threads, K 64, V 8"
CODECLLM_ATT_THREADS=256 CODECLLM_NVRTC_DEFINES="$T256" D=/tmp/bina bf tl_t256b tinyllama-1.1b "256 threads, K 64, V 10, again"
D=/tmp/bina bf tl_v4b tinyllama-1.1b "v4 again"
echo "t=$SECONDS"
