#!/usr/bin/env bash
# Session 7, run 4: how fast the tensor-core matvec (branch mma) would be with its input staged once elsewhere:
# FM_TIMING_NO_STAGE skips the per-tile input transform and split (wrong results, timing only), against main.
set -uo pipefail
source dev/perf/device_env.sh
cp -r .devrun-v/bin /tmp/binm && cp .devrun-v/main/CodecLlm.dll /tmp/binm/
cp -r .devrun-v/bin /tmp/binx && cp .devrun-v/mma/CodecLlm.dll /tmp/binx/
D=/tmp/binm b tl_main --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
CODECLLM_NVRTC_DEFINES=-DFM_TIMING_NO_STAGE D=/tmp/binx b tl_mma_nostage --synthetic tinyllama-1.1b --new-tokens 128 --codec fixed
D=/tmp/binm b l2_main --synthetic llama-2-7b --new-tokens 128 --codec fixed
CODECLLM_NVRTC_DEFINES=-DFM_TIMING_NO_STAGE D=/tmp/binx b l2_mma_nostage --synthetic llama-2-7b --new-tokens 128 --codec fixed
echo "t=$SECONDS"
