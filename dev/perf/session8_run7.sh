#!/usr/bin/env bash
# Session 8 run 7: decode attention v4 in smaller blocks, so that its blocks fit beside the q/k/v matvec's and wait at
# griddepcontrol.wait with their rows loaded (branch attn-exp: CODECLLM_ATT_THREADS with -DATT_MAX_THREADS); main
# (512 threads, 32 key elements, 4 value quads, ~100 registers) first and last.
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bina .devrun-v/binattn
bf tl_main tinyllama-1.1b
v() { CODECLLM_ATT_THREADS=$1 CODECLLM_NVRTC_DEFINES="-DATT_MAX_THREADS=$1 -DATT_KPRE=$2 -DATT_VPRE=$3" D=/tmp/bina bf tl_t$1k$2v$3 tinyllama-1.1b "$1 threads, K $2, V $3"; }
v 256 32 4
v 128 64 8
v 128 32 4
bf tl_main2 tinyllama-1.1b
echo "t=$SECONDS"
