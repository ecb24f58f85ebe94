#!/usr/bin/env bash
# Session 10, run 6 (branch prefetch2, defaults = main's cubin): two tiles fetched before griddepcontrol.wait for one
# ACT's fused kernels at a time (-DFM_TWO_AHEAD_ACTS=mask: 1 = ACT 0, TinyLlama `fixed` o and down; 2 = ACT 1, q/k/v and
# the head; 8 = ACT 3, gate/up with the SwiGLU epilogue), TinyLlama.
set -uo pipefail
source dev/perf/device_env.sh
bd tl_base tinyllama-1.1b ""
bd tl_m1 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=1"
bd tl_m2 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=2"
bd tl_m8 tinyllama-1.1b "-DFM_TWO_AHEAD_ACTS=8"
bd tl_base2 tinyllama-1.1b ""
echo "t=$SECONDS"
cat "$OUT"/bench_tl_*.txt > "$OUT/benches_tl.txt"; rm -f "$OUT"/bench_*.txt
