#!/usr/bin/env bash
# Session 8 run 8: decode attention v5 (branch attn-stage, its build in .devrun-v/binst): the earlier positions' key and
# value rows copied into shared memory by cp.async before griddepcontrol.wait (up to 96 KiB: 180 positions of f32
# 64-wide heads), instead of v4's register preloads (32 key elements, 4 value quads); attention and session tests
# first, then TinyLlama alternating with main (v4).
set -uo pipefail
source dev/perf/device_env.sh
overlay /tmp/bins .devrun-v/binst
classes /tmp/bins stage CudaKernelTests CudaSessionTests CudaBatchTests CudaF16F32SessionTests
bf tl_main tinyllama-1.1b
D=/tmp/bins bf tl_stage tinyllama-1.1b "v5: rows staged in shared memory"
bf tl_main2 tinyllama-1.1b
D=/tmp/bins bf tl_stage2 tinyllama-1.1b "v5 again"
echo "t=$SECONDS"
