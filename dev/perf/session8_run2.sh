#!/usr/bin/env bash
# Session 8 run 2: two attention experiments (branch attn-exp's first state, its CodecLlm.dll in .devrun-v/binattn):
# the decode graph without attention (CODECLLM_TIMING_SKIP_ATTENTION=1, timing only: results wrong) and attention
# pulling the earlier positions' cache rows into L2 before its griddepcontrol.wait (-DATTN_PREFETCH). (As run, it first
# looked for Nsight Systems to time the kernels inside the graph: the GPU machine has none.)
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
DV=$D
D=$DV bf tl_main tinyllama-1.1b
CODECLLM_TIMING_SKIP_ATTENTION=1 D=/tmp/bina bf tl_noattn tinyllama-1.1b "no attention (timing only)"
CODECLLM_NVRTC_DEFINES=-DATTN_PREFETCH=1 D=/tmp/bina bf tl_attpf tinyllama-1.1b "attention prefetch"
D=$DV bf tl_main2 tinyllama-1.1b
echo "t=$SECONDS"
