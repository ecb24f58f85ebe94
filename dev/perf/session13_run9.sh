#!/usr/bin/env bash
# Session 13, run 9: batches 2, 4, 8 on main's kernels (72d9a71: the late-input build with -DFM_LATE_INPUT_ACTS=0, which
# is main's fused_matvec.cu byte for byte under NVRTC 11.8; batched kernels never take that path).
set -uo pipefail
source dev/perf/device_env.sh
export CODECLLM_NVRTC_DEFINES=-DFM_LATE_INPUT_ACTS=0
for B in 2 4 8; do b tl_b$B --synthetic tinyllama-1.1b --new-tokens 64 --codec fixed --batch $B | grep -E "^==|^uncompressed|^fixed"; done
cat "$OUT"/bench_*.txt > "$OUT/benches.txt"; rm -f "$OUT"/bench_*.txt
echo "t=$SECONDS"
